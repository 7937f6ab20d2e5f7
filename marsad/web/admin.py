"""Administration pages: organisations, users, and the audit log with its chain status.

Administrators see organisations and users; auditors (and administrators) see the audit
log. The hub's staff see the whole instance; anyone else sees their own organisation's
users and audit entries only, since audit targets name the values people looked up.
API tokens, the sharing agreement and the watchlist have their own modules, whose pages
this router carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy import and_, select
from starlette.responses import Response

from marsad.access import audit, identity
from marsad.access.policy import Action
from marsad.model.organisation import OrgKind
from marsad.store.bulk import as_utc
from marsad.store.schema import audit_log
from marsad.web import admin_agreements, admin_tokens, admin_watchlists
from marsad.web.auth import WebCaller, clean, page_permit
from marsad.web.pages import page_number
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Admin = Annotated[WebCaller, Depends(page_permit(Action.ADMINISTER))]
Auditor = Annotated[WebCaller, Depends(page_permit(Action.READ_AUDIT))]
PAGE = 100
FILTERS = ("actor", "org", "action", "outcome")
for _module in (admin_tokens, admin_agreements, admin_watchlists):
    router.include_router(_module.router)


def _whole_instance(who: WebCaller) -> bool:
    return who.viewer.kind == OrgKind.HUB


@router.get("/admin/organisations")
def organisations(request: Request, who: Admin) -> Response:
    """Every organisation with its kind, country, region and parent unit."""
    rows = who.store.list_orgs()
    number = page_number(request.query_params.get("page"))
    who.audit("admin-organisations", "/admin/organisations", count=len(rows))
    data = {"organisations": rows[(number - 1) * PAGE : number * PAGE], "page": number,
            "pages": -(-len(rows) // PAGE)}  # fmt: skip
    return page(request, who, "admin_organisations.html", data)


@router.get("/admin/users")
def users(request: Request, who: Admin) -> Response:
    """Users with their organisations and roles (the hub: all; others: their members)."""
    rows = identity.list_users(who.store)
    if not _whole_instance(who):
        rows = [u for u in rows if who.viewer.org_name in u.memberships]
    number = page_number(request.query_params.get("page"))
    who.audit("admin-users", "/admin/users", count=len(rows))
    data = {
        "users": [{"name": u.name, "disabled": u.disabled,
                   "memberships": {k: v.value for k, v in u.memberships.items()}}
                  for u in rows[(number - 1) * PAGE : number * PAGE]],
        "page": number, "pages": -(-len(rows) // PAGE),
    }  # fmt: skip
    return page(request, who, "admin_users.html", data)


@router.get("/admin/audit")
def audit_log_page(request: Request, who: Auditor) -> Response:
    """Audit entries, newest first, filtered by actor, organisation, action and outcome."""
    params = request.query_params
    wanted = {k: clean(params[k])[:200] for k in FILTERS if params.get(k)}
    if not _whole_instance(who):
        wanted["org"] = who.viewer.org_name or ""
    c = audit_log.c
    conds: list[Any] = [getattr(c, k) == v for k, v in wanted.items()]
    before = params.get("before")
    if before and before.isdigit() and len(before) < 19:
        conds.append(c.id < int(before))
    query = select(audit_log).where(and_(*conds)).order_by(c.id.desc()).limit(PAGE + 1)
    with who.store.engine.connect() as conn:
        rows = conn.execute(query).all()
    entries = [
        {"id": r.id, "at": as_utc(r.at), "actor": r.actor, "org": r.org, "action": r.action,
         "target": r.target, "purpose": r.purpose, "outcome": r.outcome,
         "details": orjson.loads(r.details)}
        for r in rows[:PAGE]
    ]  # fmt: skip
    more = len(rows) > PAGE
    query_string = urlencode(wanted)
    who.audit("read-audit", "/admin/audit", filters=wanted, entries=len(entries))
    data = {
        "entries": entries, "filters": wanted, "scoped": not _whole_instance(who),
        "next": f"/admin/audit?{query_string}&before={entries[-1]['id']}" if more else None,
    }  # fmt: skip
    return page(request, who, "admin_audit.html", data)


@router.get("/admin/audit/verify")
def audit_verify(request: Request, who: Auditor) -> Response:
    """Recompute the hash chain (loaded into the audit page by htmx: it reads every entry)."""
    report = audit.verify(who.store)
    who.audit("audit-verify", "chain", ok=report.ok, entries=report.entries)
    data = {"ok": report.ok, "entries": report.entries, "head": report.head,
            "first_bad_id": report.first_bad_id, "problem": report.problem,
            "checked_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    return page(request, who, "audit_verify.html", data)
