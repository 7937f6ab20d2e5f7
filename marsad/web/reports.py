"""Reports: the activity report of a country for the signed-in organisation.

Generated synchronously through `marsad.products.service` with the signed-in
organisation as recipient, so it reads through that organisation's grant and the service
audits what it disclosed; the page shows the report's items (its JSON twin is the report),
and the same report downloads as PDF, STIX 2.1, CSV or self-contained HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.auth import settings_of
from marsad.model.errors import MarsadError
from marsad.products import render, service
from marsad.products.activity import ActivityReport
from marsad.products.period import parse_period
from marsad.store.schema import organisations
from marsad.web.auth import N_, WebCaller, WebError, clean, page_permit
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
DOWNLOADS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "pdf"),
    "stix": ("application/stix+json;version=2.1", "stix.json"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "html": ("text/html; charset=utf-8", "html"),
}
SHOWN = 200


def own_country(who: WebCaller) -> str:
    """The country of the organisation the user acts for ('' when it has none)."""
    with who.store.engine.connect() as conn:
        found = conn.execute(
            select(organisations.c.country).where(organisations.c.id == who.viewer.org_id)
        ).scalar()
    return str(found or "")


def last_month(today: dt.date) -> str:
    """The label of the month before ``today``'s."""
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _generate(
    request: Request, who: WebCaller, country: str, period: str
) -> tuple[ActivityReport, list[Any]]:
    """The report for the signed-in organisation; a clear 400 for a bad country or period."""
    now = settings_of(request).now()  # on the policy's date
    try:
        span = parse_period(period)
        report, annex = service.activity_report(who.store, country, span,
                                                as_org=who.viewer.org_name, now=now)  # fmt: skip
    except MarsadError as exc:
        who.audit("report-activity", f"{country} {period}"[:200], outcome="deny", reason=str(exc))
        raise WebError(400, str(exc)) from None
    who.audit("report-activity", f"{report.country} {span.label}",
              ids=list(report.assertion_ids), via="web")  # fmt: skip
    return report, annex


def _asked(request: Request, who: WebCaller) -> tuple[str, str]:
    params = request.query_params
    country = clean(params.get("country") or "")[:60].strip()
    period = clean(params.get("period") or "")[:60].strip()
    return country or own_country(who), period or last_month(settings_of(request).today())


@router.get("/reports")
def reports(request: Request, who: Reader) -> Response:
    """The form, and once asked for, the report's items in the page with its downloads."""
    country, period = _asked(request, who)
    data: dict[str, Any] = {"country": country, "period": period, "report": None,
                            "formats": list(DOWNLOADS), "shown": SHOWN}  # fmt: skip
    if request.query_params.get("country") or request.query_params.get("period"):
        data["report"] = _generate(request, who, country, period)[0]
    return page(request, who, "reports.html", data)


@router.get("/reports/activity.{fmt}")
def download(request: Request, who: Reader, fmt: str) -> Response:
    """The activity report as a file: PDF, STIX 2.1 bundle, CSV or self-contained HTML."""
    if fmt not in DOWNLOADS:
        raise WebError(404, N_("No such report format."))
    country, period = _asked(request, who)
    report, annex = _generate(request, who, country, period)
    if fmt == "pdf":
        body: bytes = render.pdf(report, who.lang)
    elif fmt == "stix":
        body = render.stix(report, annex)
    elif fmt == "csv":
        body = render.csv_rows(report).encode()
    else:
        body = render.html(report, who.lang).encode()
    media, suffix = DOWNLOADS[fmt]
    name = f"activity-{report.country}-{report.period.label.replace('..', '_')}.{suffix}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
    })  # fmt: skip
