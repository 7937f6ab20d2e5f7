"""Observable, assertion and cluster pages: one record or network, everything the viewer may see.

What the policy hides does not exist here: a hidden observable or assertion answers 404
exactly like one never seen, and the audit log (not the page) records the difference.
Clusters come from `marsad.web.clustering`: the viewer's own graph, members refiltered on
every view.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import msgspec
from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from marsad.access.policy import Action, may
from marsad.analysis import clusters as cl
from marsad.analysis.infrastructure import evidence
from marsad.model.actions import NOTE_MAX, ActionKind
from marsad.model.errors import MarsadError
from marsad.model.normalize import observable as normalised
from marsad.model.observable import Observable, ObservableType
from marsad.store import action_reads, reads
from marsad.store.schema import observables
from marsad.store.store import TLP_BY_RANK, Store
from marsad.web import clustering, neighbours
from marsad.web.auth import N_, WebCaller, WebError, page_permit
from marsad.web.pages import hit_json, page_number
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
PAGE = 100
ACTIONS = 100
"""Newest actions taken on a value shown on its page."""
GRAPH_NODES = 5000


def _hidden(store: Store, obs: Observable) -> bool:
    """Whether the value is in the store at all (for the audit log only)."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(observables.c.id).where(
                observables.c.type == obs.type.value, observables.c.value == obs.value
            )
        ).first()
    return found is not None


@router.get("/observables/{type}/{value:path}")
def observable(request: Request, who: Reader, type: str, value: str) -> Response:
    """All visible assertions about a value, its relationships, its cluster, sightings and
    the actions taken on it that the viewer may see."""
    return observable_page(request, who, named_value(who, type, value, "read-observable", ids=[]))


def named_value(who: WebCaller, type: str, value: str, action: str, **audit: Any) -> Observable:
    """The value a path or form names, normalised; an unknown type or a value that is not
    one answers as a record that does not exist would (audited under ``action``)."""
    try:
        return normalised(ObservableType(type), value)
    except (ValueError, MarsadError):
        who.audit(action, f"{type}:{value}"[:500], **audit)
        raise_not_found(who)


def observable_page(
    request: Request, who: WebCaller, obs: Observable, *, error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """The observable's page (with an action form's error, when one did not validate)."""
    hits = reads.lookup(who.store, who.grant, [obs])
    after = page_number(request.query_params.get("after")) - 1
    edges = reads.relationship_page(who.store, who.grant, ref=obs.ref, after=after, limit=PAGE)
    more = len(edges) > PAGE
    edges = edges[:PAGE]
    if not hits and not edges:
        if _hidden(who.store, obs):
            who.refuse(
                "read-observable",
                obs.ref,
                404,
                N_("Nothing you may see is known about this value."),
            )
        who.audit("read-observable", obs.ref, ids=[])
        raise_not_found(who)
    acted = action_reads.listing(who.store, who.grant, observable=obs, limit=ACTIONS)
    who.audit("read-observable", obs.ref, ids=[a.id for a in hits],
              relationships=[r.id for r in edges], actions=[x.id for x in acted])  # fmt: skip
    timeline = sorted(hits, key=lambda a: (a.view.first_seen is None, a.view.first_seen, a.id))
    data = {
        "type": obs.type.value, "value": obs.value, "ref": obs.ref,
        "assertions": [hit_json(a) for a in timeline],
        "sightings": sum(a.view.sightings for a in hits),
        "sources": sorted({a.view.source for a in hits}),
        "relationships": [
            {"id": r.id, "source_ref": r.source_ref, "type": r.type, "target_ref": r.target_ref,
             "source": r.source, "tlp": r.handling.tlp.value, "tlp_label": r.handling.tlp.label,
             "count": r.count, "last_seen": r.last_seen}
            for r in edges
        ],
        "more_relationships": f"{observable_url(obs)}?after={edges[-1].id + 1}" if more else None,
        "cluster": clustering.cluster_of(who.store, who.grant, obs.ref),
        "actions": action_reads.grouped(acted),
        "may_record_action": bool(hits) and may(who.viewer, Action.RECORD_ACTION),
        "action_kinds": [k.value for k in ActionKind],
        "action_error": error,
        "note_max": NOTE_MAX,
    }  # fmt: skip
    return page(request, who, "observable.html", data, status=status)


def observable_url(obs: Observable) -> str:
    """The path of a value's page."""
    return f"/observables/{obs.type.value}/{quote(obs.value, safe='/')}"


def raise_not_found(who: WebCaller) -> NoReturn:
    """The one answer for a value that is unknown, hidden or not a value."""
    raise WebError(404, N_("Nothing you may see is known about this value."))


@router.get("/assertions/{assertion_id}")
def assertion(request: Request, who: Reader, assertion_id: str) -> Response:
    """One assertion with its handling and provenance."""
    number = int(assertion_id) if assertion_id.isdigit() and len(assertion_id) < 12 else 0
    found = reads.assertion_by_id(who.store, who.grant, number) if number else None
    if found is None:
        if number and reads.exists(who.store, "assertions", number):
            who.refuse("read-assertion", str(number), 404, N_("No such assertion."))
        who.audit("read-assertion", assertion_id[:100], ids=[])
        raise WebError(404, N_("No such assertion."))
    who.audit("read-assertion", str(number), ids=[number])
    v = found.view
    mine = reads.submission_of(who.store, who.grant, found.first_submission_id) is not None
    data = {
        **hit_json(found), "description": v.description, "stix_id": v.stix_id,
        "releasable_to": v.handling.releasable_to.tokens(), "purpose": v.handling.purpose.value,
        "retain_until": v.handling.retain_until, "review_at": v.handling.review_at,
        "submission": found.first_submission_id if mine else None,
    }  # fmt: skip
    return page(request, who, "assertion.html", data)


@router.get("/clusters")
def cluster_list(request: Request, who: Reader) -> Response:
    """The viewer's clusters, largest first, a page at a time."""
    groups = clustering.groups(who.store, who.grant)
    number = page_number(request.query_params.get("page"))
    items = list(groups.items())
    window = items[(number - 1) * PAGE : number * PAGE]
    who.audit("cluster-list", "*", clusters=len(groups))
    data = {
        "clusters": [{"id": k, "size": len(v), "sample": v[:3]} for k, v in window],
        "count": len(groups), "page": number, "pages": -(-len(items) // PAGE),
    }  # fmt: skip
    return page(request, who, "clusters.html", data)


def _cluster(who: WebCaller, raw: str) -> tuple[int, list[str]]:
    groups = clustering.groups(who.store, who.grant)
    number = int(raw) if raw.isdigit() and len(raw) < 19 else -1
    refs = clustering.still_visible(who.store, who.grant, groups.get(number, []))
    if not refs:
        who.refuse("cluster-show", raw[:100], 404, N_("No such cluster among those you may see."))
    return number, refs


@router.get("/clusters/{cluster_id}")
def cluster(request: Request, who: Reader, cluster_id: str) -> Response:
    """A cluster: members, what they are, who reported them, and the evidence linking them."""
    number, refs = _cluster(who, cluster_id)
    view = cl.describe(who.store, who.grant, number, refs)
    edges = evidence(who.store, who.grant, refs)
    page_no = page_number(request.query_params.get("page"))
    window = refs[(page_no - 1) * PAGE : page_no * PAGE]
    who.audit("cluster-show", str(number), size=len(refs))
    data = {
        "id": number, "size": view.size, "types": view.types, "threat_types": view.threat_types,
        "sources": view.sources, "countries": view.countries,
        "victim_countries": view.victim_countries, "entities": view.entities,
        "members": [{"ref": r, "type": r.split(":", 1)[0], "value": r.split(":", 1)[1]}
                    for r in window],
        "page": page_no, "pages": -(-len(refs) // PAGE),
        "evidence": [{"source": e.source, "type": e.type, "target": e.target,
                      "reported_by": e.reported_by,
                      "tlp": TLP_BY_RANK[e.tlp].value if e.tlp is not None else None,
                      "tlp_label": TLP_BY_RANK[e.tlp].label if e.tlp is not None else None}
                     for e in edges[:PAGE]],
        "evidence_count": len(edges),
        "edge_types": sorted({e.type for e in edges}),
        "may_export": may(who.viewer, Action.EXPORT),
    }  # fmt: skip
    return page(request, who, "cluster.html", data)


@router.get("/clusters/{cluster_id}/graph")
def cluster_graph(request: Request, who: Reader, cluster_id: str) -> Response:
    """The cluster as Cytoscape elements (JSON): members and the visible links among them."""
    number, refs = _cluster(who, cluster_id)
    shown = refs[:GRAPH_NODES]
    links = neighbours.links_among(who.store, who.grant, shown, limit=4 * GRAPH_NODES)
    who.audit("cluster-graph", str(number), nodes=len(shown), edges=len(links))
    large = len(shown) > neighbours.PRESET_ABOVE
    placed = neighbours.flower_layout(shown, links) if large else None
    body = {"id": number, "size": len(refs), "truncated": len(refs) > len(shown),
            "elements": neighbours.elements(shown, links, positions=placed)}  # fmt: skip
    return Response(msgspec.json.encode(body), media_type="application/json",
                    headers={"Cache-Control": "no-store"})  # fmt: skip
