"""The cluster explorer's routes: a node's neighbours, and the view exported as STIX 2.1.

The page's script (`static/graph.js`) starts from a cluster's graph
(`/clusters/{id}/graph`), adds a node's neighbours from ``/graph/neighbours`` without a
reload, and posts the nodes it shows to ``/graph/stix``. Both answer only what the viewer
may see now: a node the viewer may not see answers 404 like one never seen (the audit log
keeps the difference), and every posted node is checked again before it is exported, so a
view kept open while a marking tightened exports nothing it may no longer show.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from marsad.access import audit
from marsad.access.policy import Action
from marsad.formats.stix21_export import export_bundle
from marsad.store.schema import observables, relationships
from marsad.web import neighbours as nb
from marsad.web.auth import N_, WebCaller, WebError, page_permit
from marsad.web.clustering import still_visible

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
Exporter = Annotated[WebCaller, Depends(page_permit(Action.EXPORT))]
NEIGHBOURS = 100  # per expansion unless the page asks for fewer or more
MAX_NEIGHBOURS = 1000
MAX_EXPORT = 20_000  # nodes in one exported view: four full clusters with their expansions
MAX_REF = 2048


class ViewExport(msgspec.Struct, forbid_unknown_fields=True):
    """The view the page shows: its nodes, and the link types its filter lets through."""

    nodes: list[str]
    edge_types: list[str] | None = None


def _json(body: dict[str, Any]) -> Response:
    return Response(msgspec.json.encode(body), media_type="application/json",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


def _known(who: WebCaller, ref: str) -> bool:
    """Whether the store holds the ref at all, visible or not (for the audit log only)."""
    kind, _, value = ref.partition(":")
    with who.store.engine.connect() as conn:
        found = conn.execute(
            select(observables.c.id).where(observables.c.type == kind, observables.c.value == value)
        ).first() or conn.execute(
            select(relationships.c.id)
            .where(or_(relationships.c.source_ref == ref, relationships.c.target_ref == ref))
            .limit(1)
        ).first()  # fmt: skip
    return found is not None


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return NEIGHBOURS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_NEIGHBOURS:
        raise WebError(400, N_("limit must be a whole number from 1 to 1000."))
    return int(raw)


@router.get("/graph/neighbours")
def graph_neighbours(request: Request, who: Reader, node: str = "") -> Response:
    """A node's neighbours the viewer may see, as Cytoscape elements, and how many more."""
    limit = _limit(request.query_params.get("limit"))
    ref = node.strip()
    if not ref or len(ref) > MAX_REF or not still_visible(who.store, who.grant, [ref]):
        if ref and len(ref) <= MAX_REF and _known(who, ref):
            who.refuse("graph-neighbours", ref[:500], 404,
                       N_("Nothing you may see is known about this value."))  # fmt: skip
        who.audit("graph-neighbours", ref[:500], nodes=0)
        raise WebError(404, N_("Nothing you may see is known about this value."))
    found = nb.neighbours(who.store, who.grant, ref, limit)
    who.audit("graph-neighbours", ref, nodes=len(found.nodes), more=found.more,
              relationships=[int(k.id[1:]) for k in found.links if k.id.startswith("r")])  # fmt: skip
    names = nb.entity_names(who.store, who.grant, [ref, *found.nodes])
    return _json({"node": ref, "elements": nb.elements(found.nodes, found.links, names),
                  "shown": len(found.nodes), "more": found.more})  # fmt: skip


def _export(who: WebCaller, refs: list[str], view: ViewExport, now: dt.datetime) -> bytes:
    found = nb.view_records(who.store, who.grant, refs, view.edge_types)
    data = export_bundle(found.assertions, found.entities, found.relationships,
                         producer=who.viewer.label, now=now)  # fmt: skip
    who.audit("export", "graph-view stix21", ids=found.assertion_ids, nodes=len(found.refs),
              asked=len(view.nodes),
              relationships=audit.id_summary(found.relationship_ids))  # fmt: skip
    return data


@router.post("/graph/stix")
async def graph_stix(request: Request, who: Exporter) -> Response:
    """The view's nodes and links that the viewer may still see, as a STIX 2.1 bundle."""
    try:
        view = msgspec.json.decode(await request.body(), type=ViewExport)
    except msgspec.ValidationError as exc:
        raise WebError(400, f"The view to export is not valid: {exc}.") from None
    except msgspec.DecodeError:
        raise WebError(400, N_('The view to export must be JSON: {"nodes": [...]}.')) from None
    if len(view.nodes) > MAX_EXPORT:
        raise WebError(400, N_("A view to export holds at most 20,000 nodes."))
    refs = [r for r in view.nodes if 0 < len(r) <= MAX_REF and "\x00" not in r]  # none stored
    if view.edge_types is not None:
        view.edge_types = [t for t in view.edge_types if "\x00" not in t]
    now = dt.datetime.now(dt.UTC)
    data = await run_in_threadpool(_export, who, refs, view, now)
    name = f"marsad-view-{now:%Y%m%dT%H%M%S}.json"
    return Response(data, media_type="application/stix+json;version=2.1",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})  # fmt: skip
