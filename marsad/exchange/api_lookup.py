"""Lookup: is this value known, by whom, under which handling — one value or 100,000.

Values are normalised as typed (defanged or not, any case). The bulk form normalises the
whole list first, then asks the database one query per batch of values, never one per
value; its answer is columnar: the normalised ref of each input (or null), and the
matching assertions once each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import assertion_json, json_response
from marsad.exchange.auth import Caller, permit
from marsad.exchange.problems import Problem
from marsad.model.normalize import detect, expand, normalize
from marsad.model.observable import Observable, ObservableType
from marsad.store import reads

router = APIRouter(tags=["lookup"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]
MAX_BULK = 100_000


class BulkLookup(BaseModel):
    """Up to 100,000 values, each normalised as typed."""

    model_config = ConfigDict(extra="forbid")
    values: list[Annotated[str, StringConstraints(max_length=4096)]] = Field(
        min_length=1, max_length=MAX_BULK
    )


@router.get("/lookup", summary="Every assertion about one value that the caller may see")
def lookup_one(
    who: Reader,
    value: Annotated[str, Query(min_length=1, max_length=4096, description="As typed.")],
    type: Annotated[
        ObservableType | None, Query(description="Its type, when detection would guess wrong.")
    ] = None,
    expand_value: Annotated[
        bool,
        Query(
            alias="expand",
            description="Also what the value implies: URL → host → registered domain.",
        ),
    ] = False,
) -> Response:
    if type is not None:
        wanted = [Observable(type, normalize(type, value))]
    else:
        found = expand(value) if expand_value else [detect(value)]
        wanted = [o for o in found if o is not None]
    if not wanted:
        raise Problem(
            422,
            f"{value[:80]!r} is not a value Marsad recognises (IP, domain, URL, e-mail, hash, …)",
            kind="unrecognised-value",
        )
    hits = reads.lookup(who.store, who.grant, wanted)
    who.audit("lookup", value, ids=[a.id for a in hits])
    return json_response(
        {
            "query": value,
            "normalised": [{"type": o.type.value, "value": o.value} for o in wanted],
            "assertions": [assertion_json(a) for a in hits],
        }
    )


@router.post("/lookup", summary="Bulk lookup of up to 100,000 values in one request")
def lookup_many(who: Reader, body: BulkLookup) -> Response:
    detected = [detect(v) for v in body.values]
    wanted = [o for o in detected if o is not None]
    hits = reads.lookup(who.store, who.grant, wanted)
    who.audit("lookup", f"{len(body.values)} values", ids=[a.id for a in hits],
              values=len(body.values), recognised=len(wanted))  # fmt: skip
    return json_response(
        {
            "count": len(body.values),
            "recognised": len(wanted),
            "normalised": [o.ref if o is not None else None for o in detected],
            "assertions": [assertion_json(a) for a in hits],
        }
    )
