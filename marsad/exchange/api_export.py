"""Export: the assertions the caller may see, as STIX 2.1, a MISP event or IntelMQ events.

Only roles that may export (analyst, officer, administrator) get a file; the others get
a 403 that the audit log keeps. Filters are those of ``/assertions``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import assertion_filters
from marsad.exchange.auth import Caller, permit
from marsad.formats.intelmq import export_events
from marsad.formats.misp_export import export_event
from marsad.formats.stix21_export import export_bundle
from marsad.model.records import AssertionView
from marsad.store import reads
from marsad.store.reads import AssertionQuery

router = APIRouter(tags=["export"])
Exporter = Annotated[Caller, Depends(permit(Action.EXPORT))]


class ExportFormat(StrEnum):
    """The formats an export can be written in."""

    STIX21 = "stix21"
    MISP = "misp"
    INTELMQ = "intelmq"


MEDIA = {
    ExportFormat.STIX21: ("application/stix+json;version=2.1", "json"),
    ExportFormat.MISP: ("application/json", "json"),
    ExportFormat.INTELMQ: ("application/x-ndjson", "jsonl"),
}


@router.get("/export", summary="Export the assertions you may see (STIX 2.1, MISP, IntelMQ)")
def export(
    who: Exporter,
    q: Annotated[AssertionQuery, Depends(assertion_filters)],
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.STIX21,
) -> Response:
    now = dt.datetime.now(dt.UTC)
    exported: list[int] = []

    def views() -> Iterator[AssertionView]:
        for a in reads.iter_assertions(who.store, who.grant, q):
            exported.append(a.id)
            yield a.view

    if fmt is ExportFormat.MISP:
        data = export_event(views(), info=f"Marsad export {now:%Y-%m-%d %H:%M}", now=now)
    elif fmt is ExportFormat.INTELMQ:
        data = export_events(views())
    else:
        data = export_bundle(views(), now=now)
    who.audit("export", fmt.value, ids=exported)
    media, ext = MEDIA[fmt]
    name = f"marsad-{now:%Y%m%dT%H%M%S}.{ext}"
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
