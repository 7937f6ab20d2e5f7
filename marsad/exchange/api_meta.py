"""Health (no token), who am I, and the organisations of the network (public information)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import text
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import json_response
from marsad.exchange.auth import Caller, permit, store_of

health_router = APIRouter(tags=["meta"])
router = APIRouter(tags=["meta"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]


@health_router.get("/api/health", summary="Liveness and database reachability (no token)")
def health(request: Request) -> Response:
    with store_of(request).engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return json_response({"status": "ok"})


@router.get("/me", summary="Who the token acts as: user, organisation, role")
def me(who: Reader) -> Response:
    v = who.viewer
    who.audit("whoami", who.user)
    return json_response(
        {"user": who.user, "organisation": v.org_name, "kind": v.kind, "region": v.region,
         "role": v.role, "parents": list(v.parents)}
    )  # fmt: skip


@router.get("/organisations", summary="The organisations of the network (public information)")
def organisations(who: Reader) -> Response:
    rows = who.store.list_orgs()
    who.audit("list-organisations", "*", organisations=len(rows))
    return json_response({"items": rows})
