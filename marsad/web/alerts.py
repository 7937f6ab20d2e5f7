"""The alerts inbox: the signed-in organisation's alerts, with the evidence it may see today.

Reads go through `marsad.store.alert_reads` (the same functions as the REST API), which
re-apply the policy in SQL at every read: an alert whose evidence the organisation may no
longer see does not exist here either. Acknowledging is a CSRF-protected form.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from marsad.access.policy import Action
from marsad.store import alert_reads
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.render import page, wants_json

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
Triager = Annotated[WebCaller, Depends(page_permit(Action.TRIAGE))]
PAGE = 50
SHOWS = ("open", "all")


def _org(who: WebCaller) -> tuple[int, str]:
    org_id, name = who.viewer.org_id, who.viewer.org_name
    assert org_id is not None and name is not None  # pages always act for an organisation
    return org_id, name


def _after(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


@router.get("/alerts")
def inbox(request: Request, who: Reader) -> Response:
    """Open alerts (or all of them), oldest first, a page at a time after an alert id."""
    org_id, name = _org(who)
    show = request.query_params.get("show", "open")
    show = show if show in SHOWS else "open"
    after = _after(request.query_params.get("after"))
    ids = alert_reads.alert_ids(who.store, org_id, who.grant, unacked=show == "open",
                                after=after, limit=PAGE + 1)  # fmt: skip
    shown = alert_reads.alerts_by_id(who.store, org_id, name, who.grant, ids[:PAGE])
    who.audit("list-alerts", "/alerts", ids=[a.id for a in shown], show=show, via="web")
    more = len(ids) > PAGE
    data: dict[str, Any] = {
        "alerts": shown, "show": show, "after": after,
        "next": f"/alerts?show={show}&after={ids[PAGE - 1]}" if more else None,
    }  # fmt: skip
    return page(request, who, "alerts.html", data)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(request: Request, who: Triager, alert_id: str) -> Response:
    """Acknowledge one of the organisation's alerts; back to the inbox (or the alert as JSON)."""
    org_id, name = _org(who)
    number = int(alert_id) if alert_id.isdigit() and len(alert_id) < 12 else 0
    done = alert_reads.acknowledge(who.store, org_id, who.grant, [number], who.user)[0]
    if not number or not done:
        who.refuse("ack-alert", alert_id[:100], 404, N_("No such alert."))
    [alert] = alert_reads.alerts_by_id(who.store, org_id, name, who.grant, done)
    who.audit("ack-alert", str(number), ids=[number], via="web")
    if wants_json(request):
        return Response(msgspec.json.encode(alert), media_type="application/json",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
    show = request.query_params.get("show")
    back = "/alerts?show=all" if show == "all" else "/alerts"
    return RedirectResponse(back, status_code=303)
