"""Alerts: the caller's organisation's alerts, each with only the evidence it may see today.

Reading goes through `marsad.store.alert_reads`, which asks the policy in SQL at every
read; an alert whose evidence the organisation may no longer see answers 404 like one
that never existed. Acknowledging needs only READ: it records that the organisation has
seen the alert and changes nothing anyone else sees.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import Paging, json_response, page_of, paging
from marsad.exchange.auth import Caller, permit
from marsad.exchange.problems import Problem
from marsad.store import alert_reads

router = APIRouter(tags=["alerts"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]
Triager = Annotated[Caller, Depends(permit(Action.TRIAGE))]


def _org(who: Caller) -> tuple[int, str]:
    org_id, name = who.viewer.org_id, who.viewer.org_name
    assert org_id is not None and name is not None  # a token always acts for an organisation
    return org_id, name


@router.get("/alerts", summary="Your organisation's alerts, oldest first, with visible evidence")
def list_alerts(
    request: Request,
    who: Reader,
    page: Annotated[Paging, Depends(paging)],
    unacked: Annotated[bool, Query(description="Only alerts not acknowledged.")] = False,
) -> Response:
    org_id, name = _org(who)
    ids = alert_reads.alert_ids(
        who.store, org_id, who.grant, unacked=unacked, after=page.after("alerts"),
        limit=page.limit + 1,
    )  # fmt: skip
    rows = alert_reads.alerts_by_id(who.store, org_id, name, who.grant, ids)
    items, nxt = page_of("alerts", rows, page.limit)
    who.audit("list-alerts", request.url.path, ids=[a.id for a in items], unacked=unacked)
    return json_response({"items": items, "next": nxt})


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge one of your organisation's alerts")
def ack_alert(who: Triager, alert_id: Annotated[int, Path(ge=1)]) -> Response:
    org_id, name = _org(who)
    done, _ = alert_reads.acknowledge(who.store, org_id, who.grant, [alert_id], who.user)
    if not done:
        who.audit("ack-alert", str(alert_id), outcome="deny")
        raise Problem(404, f"no alert {alert_id}")
    [alert] = alert_reads.alerts_by_id(who.store, org_id, name, who.grant, done)
    who.audit("ack-alert", str(alert_id), ids=[alert_id])
    return json_response(alert)
