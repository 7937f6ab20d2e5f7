"""The watchlist of the organisation one acts for: shown to its members, kept by its
administrators.

Entries are what alerts are raised about (`marsad.products.watch`): a country's IP space,
an ASN, a network, a ccTLD, a registered domain, a keyword, an exact value or a threat
type. They are validated and stored by the same functions as `marsad watch add|remove`,
and only ever the organisation's own: an entry of another organisation is not found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from marsad.access.policy import Action, may
from marsad.model.records import ThreatType
from marsad.products import alert_store
from marsad.products.watch import KINDS, MAX_VALUE, WatchError
from marsad.web.admin_forms import FieldErrors, Form
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Member = Annotated[WebCaller, Depends(page_permit(Action.READ))]
Admin = Annotated[WebCaller, Depends(page_permit(Action.ADMINISTER))]
# What each kind of entry looks like, said when a value is not one.
PROBLEMS = {
    "country": N_("A country is a two-letter ISO code, like FJ."),
    "asn": N_("An autonomous system is a number, like AS64500."),
    "cidr": N_("A network is an address range, like 203.0.113.0/24."),
    "cctld": N_("A country-code top-level domain looks like fj."),
    "domain": N_("Give a domain name, like example.org."),
    "keyword": N_("A keyword is one line of text."),
    "value": N_("Give the value to watch."),
    "threat-type": N_("Choose a threat type from the list."),
}
KIND_NAMES = {
    "country": N_("Country (its IP addresses)"),
    "asn": N_("Autonomous system (ASN)"),
    "cidr": N_("Network (CIDR)"),
    "cctld": N_("Country-code top-level domain"),
    "domain": N_("Registered domain"),
    "keyword": N_("Keyword"),
    "value": N_("Exact value"),
    "threat-type": N_("Threat type"),
}


def _org(who: WebCaller) -> str:
    name = who.viewer.org_name
    assert name is not None  # pages always act for an organisation
    return name


def _data(who: WebCaller, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "org": _org(who), "entries": alert_store.list_entries(who.store, _org(who)),
        "may_edit": may(who.viewer, Action.ADMINISTER), "kinds": KIND_NAMES,
        "threat_types": [t.value for t in ThreatType], "max_value": MAX_VALUE,
        "values": {"kind": "country", "value": "", **values}, "errors": errors,
    }  # fmt: skip


@router.get("/admin/watchlists")
def watchlist(request: Request, who: Member) -> Response:
    """The organisation's watchlist entries, and (for administrators) the form that adds one."""
    data = _data(who, {}, {})
    who.audit("watch-list", _org(who), ids=[e.id for e in data["entries"]], via="web")
    return page(request, who, "admin_watchlists.html", data)


@router.post("/admin/watchlists")
def add(request: Request, who: Admin, form: Form) -> Response:
    """Add an entry to the organisation's watchlist."""
    org, errors = _org(who), FieldErrors(who.lang)
    kind, value = form.get("kind"), form.get("value")
    if kind not in KINDS:
        errors.add("kind", N_("Choose a kind of entry from the list."))
    elif not value:
        errors.add("value", N_("Give the value to watch."))
    elif len(value) > MAX_VALUE:
        errors.add_said(
            "value",
            errors.ngettext("At most %(num)s character.", "At most %(num)s characters.", MAX_VALUE),
        )
    else:
        try:
            entry = alert_store.add_entry(who.store, org, kind, value)
        except WatchError:
            errors.add("value", PROBLEMS[kind])
        except alert_store.AlertConfigError:
            errors.add("value", N_("Your organisation already watches this."))
    if errors:
        who.audit("watch-add", f"{kind[:20]}:{value[:200]}", outcome="deny", via="web")
        return page(request, who, "admin_watchlists.html",
                    _data(who, {"kind": kind, "value": value}, errors), status=422)  # fmt: skip
    who.audit("watch-add", f"{entry.kind}:{entry.value}", id=entry.id, via="web")
    return RedirectResponse("/admin/watchlists", status_code=303)


@router.post("/admin/watchlists/{entry_id}/remove")
def remove(request: Request, who: Admin, entry_id: str) -> Response:
    """Remove one of the organisation's entries (another's is not found)."""
    org = _org(who)
    number = int(entry_id) if entry_id.isdigit() and len(entry_id) < 12 else 0
    found = next((e for e in alert_store.list_entries(who.store, org) if e.id == number), None)
    if found is None:
        who.refuse("watch-remove", entry_id[:100], 404, N_("No such entry in your watchlist."))
    try:
        alert_store.remove_entry(who.store, org, found.kind, found.value)
    except alert_store.AlertConfigError:  # removed meanwhile
        who.refuse("watch-remove", entry_id[:100], 404, N_("No such entry in your watchlist."))
    who.audit("watch-remove", f"{found.kind}:{found.value}", id=found.id, via="web")
    return RedirectResponse("/admin/watchlists", status_code=303)
