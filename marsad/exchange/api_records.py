"""Assertions, observables, entities and relationships: paged, filtered, policy applied.

A record the caller may not see does not exist for them: listings leave it out in SQL,
and asking for it by id answers 404 exactly as for an id that was never used (the audit
log, not the caller, learns the difference).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import (
    Paging,
    assertion_filters,
    assertion_json,
    entity_json,
    json_response,
    page_of,
    paging,
    relationship_json,
)
from marsad.exchange.auth import Caller, permit
from marsad.exchange.problems import Problem
from marsad.model.normalize import normalize
from marsad.model.observable import Observable, ObservableType
from marsad.store import reads
from marsad.store.reads import AssertionQuery

router = APIRouter(tags=["records"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]
Page = Annotated[Paging, Depends(paging)]


def _target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@router.get("/assertions", summary="Assertions the caller may see, filtered, in id order")
def list_assertions(
    request: Request,
    who: Reader,
    page: Page,
    q: Annotated[AssertionQuery, Depends(assertion_filters)],
) -> Response:
    rows = reads.assertion_page(
        who.store, who.grant, q, after=page.after("assertions") or 0, limit=page.limit
    )
    items, nxt = page_of("assertions", rows, page.limit)
    who.audit("list-assertions", _target(request), ids=[a.id for a in items])
    return json_response({"items": [assertion_json(a) for a in items], "next": nxt})


@router.get("/assertions/{assertion_id}", summary="One assertion")
def get_assertion(
    request: Request, who: Reader, assertion_id: Annotated[int, Path(ge=1)]
) -> Response:
    found = reads.assertion_by_id(who.store, who.grant, assertion_id)
    if found is None:
        hidden = reads.exists(who.store, "assertions", assertion_id)
        if hidden:
            who.deny("read-assertion", str(assertion_id), 404, f"no assertion {assertion_id}")
        who.audit("read-assertion", str(assertion_id), ids=[])
        raise Problem(404, f"no assertion {assertion_id}")
    who.audit("read-assertion", str(assertion_id), ids=[found.id])
    return json_response(assertion_json(found))


@router.get("/observables", summary="Observables with at least one assertion the caller may see")
def list_observables(
    request: Request,
    who: Reader,
    page: Page,
    type: ObservableType | None = None,
    registered_domain: Annotated[
        str | None, Query(description="Only observables under this registered domain.")
    ] = None,
) -> Response:
    rows = reads.observable_page(
        who.store, who.grant, type=type, registered_domain=registered_domain,
        after=page.after("observables") or 0, limit=page.limit,
    )  # fmt: skip
    items, nxt = page_of("observables", rows, page.limit)
    who.audit("list-observables", _target(request), observables=len(items))
    return json_response({"items": items, "next": nxt})


@router.get(
    "/observables/{type}/{value:path}",
    summary="One observable: the assertions and relationships about it the caller may see",
)
def get_observable(request: Request, who: Reader, type: ObservableType, value: str) -> Response:
    obs = Observable(type, normalize(type, value))
    found = reads.lookup(who.store, who.grant, [obs])
    edges = reads.relationship_page(who.store, who.grant, ref=obs.ref, limit=1000)[:1000]
    who.audit("read-observable", obs.ref, ids=[a.id for a in found],
              relationships=[r.id for r in edges])  # fmt: skip
    if not found and not edges:
        raise Problem(404, f"nothing known about {obs.ref} that you may see")
    return json_response(
        {
            "type": obs.type.value,
            "value": obs.value,
            "assertions": [assertion_json(a) for a in found],
            "relationships": [relationship_json(r) for r in edges],
        }
    )


@router.get("/entities", summary="Entities (actors, campaigns, reports, …) the caller may see")
def list_entities(
    request: Request,
    who: Reader,
    page: Page,
    kind: str | None = None,
    ref: Annotated[str | None, Query(description="A STIX-style id.")] = None,
    source: str | None = None,
) -> Response:
    rows = reads.entity_page(
        who.store, who.grant, kind=kind, ref=ref, source=source,
        after=page.after("entities") or 0, limit=page.limit,
    )  # fmt: skip
    items, nxt = page_of("entities", rows, page.limit)
    who.audit("list-entities", _target(request), ids=[e.id for e in items])
    return json_response({"items": [entity_json(e) for e in items], "next": nxt})


@router.get("/relationships", summary="Relationships the caller may see")
def list_relationships(
    request: Request,
    who: Reader,
    page: Page,
    ref: Annotated[
        str | None, Query(description="Either end: `type:value` or a STIX-style id.")
    ] = None,
    type: str | None = None,
    source: str | None = None,
) -> Response:
    rows = reads.relationship_page(
        who.store, who.grant, ref=ref, type=type, source=source,
        after=page.after("relationships") or 0, limit=page.limit,
    )  # fmt: skip
    items, nxt = page_of("relationships", rows, page.limit)
    who.audit("list-relationships", _target(request), ids=[r.id for r in items])
    return json_response({"items": [relationship_json(r) for r in items], "next": nxt})
