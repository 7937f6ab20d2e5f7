"""The sharing agreement of the organisation one acts for: shown to its members, set by its
administrator (the hub's administrators also see every organisation's).

A private partner's agreement, or a unit's defaults for its own submissions, is the floor
of its data's handling (`marsad.access.agreements`): each submission may ask for stricter,
never looser. Only the organisation itself sets it: the form names no other organisation,
and a POST naming one is refused, however it was made. The values are parsed by the same
functions as `marsad agreement set`; each problem is shown next to its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from marsad.access import stewardship
from marsad.access.policy import Action, may
from marsad.model.handling import (
    CREDIBILITY,
    PAP,
    RELIABILITY,
    TLP,
    Handling,
    HandlingError,
    Purpose,
    Region,
    Releasability,
    parse_pap,
    parse_tlp,
)
from marsad.model.organisation import OrgKind
from marsad.web.admin_forms import FieldErrors, Form, Posted
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Member = Annotated[WebCaller, Depends(page_permit(Action.READ))]
Admin = Annotated[WebCaller, Depends(page_permit(Action.ADMINISTER))]
NAMES_MAX = 100


def _org(who: WebCaller) -> str:
    name = who.viewer.org_name
    assert name is not None  # pages always act for an organisation
    return name


def _values(h: Handling) -> dict[str, Any]:
    """The form's fields as they show a handling."""
    r = h.releasable_to
    return {"tlp": h.tlp.value, "pap": h.pap.value, "members": r.all_members,
            "partners": r.partners, "regions": [g.value for g in r.regions],
            "organisations": "\n".join(r.organisations), "reliability": h.reliability,
            "credibility": str(h.credibility), "purpose": h.purpose.value,
            "retain_until": h.retain_until.isoformat() if h.retain_until else ""}  # fmt: skip


def _overview(who: WebCaller) -> list[dict[str, Any]] | None:
    """Every organisation's agreement, for the hub's administrators (whom partners sign with)."""
    if who.viewer.kind != OrgKind.HUB or not may(who.viewer, Action.ADMINISTER):
        return None
    found = stewardship.all_agreements(who.store)
    return [{"org": o.name, "kind": o.kind.value, "agreement": found[o.id],
             "recipients": found[o.id].releasable_to.tokens()}
            for o in who.store.list_orgs() if o.id in found]  # fmt: skip


def _data(who: WebCaller, values: dict[str, Any] | None, errors: dict[str, str]) -> dict[str, Any]:
    org = who.store.org(_org(who))
    agreement = stewardship.agreement_of(who.store, org.id)
    return {
        "overview": _overview(who),
        "org": org.name, "kind": org.kind.value, "agreement": agreement,
        "recipients": agreement.releasable_to.tokens() if agreement else [],
        "may_edit": may(who.viewer, Action.ADMINISTER),
        "values": values or _values(agreement or Handling()), "errors": errors,
        "tlps": [t.value for t in TLP], "paps": [p.value for p in PAP],
        "regions": [g.value for g in Region], "reliabilities": list(RELIABILITY),
        "credibilities": [str(c) for c in CREDIBILITY], "purposes": [p.value for p in Purpose],
    }  # fmt: skip


@router.get("/admin/agreements")
def agreement(request: Request, who: Member) -> Response:
    """The organisation's agreement (and, for its administrator, the form that sets it)."""
    data = _data(who, None, {})
    data["saved"] = request.query_params.get("saved") == "1"
    who.audit("agreement-show", _org(who), via="web")
    return page(request, who, "admin_agreements.html", data)


def _parse(who: WebCaller, form: Posted, errors: FieldErrors) -> Handling | None:
    """The handling the form asks for, each field parsed as `marsad agreement set` parses it."""
    tokens = ["members"] * bool(form.get("members")) + ["partners"] * bool(form.get("partners"))
    parsed: dict[str, Any] = {}
    for field, parse, message in (
        ("tlp", parse_tlp, N_("Choose a TLP label from the list.")),
        ("pap", parse_pap, N_("Choose a PAP label from the list.")),
    ):
        try:
            parsed[field] = parse(form.get(field))
        except HandlingError:
            errors.add(field, message)
    for region in form.all("regions"):
        try:
            Releasability.from_tokens([f"region:{region}"])
            tokens.append(f"region:{region}")
        except HandlingError:
            errors.add("regions", N_("Unknown region: %(name)s."), name=region[:100])
    known = {o.name for o in who.store.list_orgs()}
    names = [n.strip() for n in form.get("organisations").replace(",", "\n").splitlines()]
    names = [n for n in names if n]
    if len(names) > NAMES_MAX:
        errors.add_said("organisations", errors.ngettext("Name at most %(num)s organisation.",
                                                         "Name at most %(num)s organisations.",
                                                         NAMES_MAX))  # fmt: skip
    for name in names:
        if name not in known:
            errors.add("organisations", N_("Unknown organisation: %(name)s."), name=name[:200])
    tokens += [f"org:{n}" for n in names]
    credibility = form.get("credibility")
    retain = _retain_until(who, form.get("retain_until"), errors)
    try:
        purpose = Purpose(form.get("purpose"))
    except ValueError:
        purpose = Purpose.THREAT_ANALYSIS
        errors.add("purpose", N_("Choose a purpose from the list."))
    if form.get("reliability") not in RELIABILITY:
        errors.add("reliability", N_("Source reliability is a letter from A to F."))
    if credibility not in {str(c) for c in CREDIBILITY}:
        errors.add("credibility", N_("Information credibility is a number from 1 to 6."))
    if errors:
        return None
    return Handling(tlp=parsed["tlp"], pap=parsed["pap"],
                    releasable_to=Releasability.from_tokens(tokens),
                    reliability=form.get("reliability"), credibility=int(credibility),
                    purpose=purpose, retain_until=retain)  # fmt: skip


def _retain_until(who: WebCaller, text: str, errors: FieldErrors) -> dt.date | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day <= who.grant.today:  # today as the policy counts it
        errors.add("retain_until", N_("Give a date after today, like 2027-01-31, or none."))
        return None
    return day


@router.post("/admin/agreements")
def set_agreement(request: Request, who: Admin, form: Form) -> Response:
    """Set the organisation's agreement; only its own administrator may."""
    org, asked = _org(who), form.get("org")
    if asked != org:
        who.refuse("agreement-set", asked[:200] or "-", 403,
                   N_("Only an organisation's own administrator sets its agreement."))  # fmt: skip
    errors = FieldErrors(who.lang)
    handling = _parse(who, form, errors)
    if handling is None:
        values = {"tlp": form.get("tlp"), "pap": form.get("pap"),
                  "members": bool(form.get("members")), "partners": bool(form.get("partners")),
                  "regions": form.all("regions"), "organisations": form.get("organisations"),
                  "reliability": form.get("reliability"), "credibility": form.get("credibility"),
                  "purpose": form.get("purpose"), "retain_until": form.get("retain_until")}  # fmt: skip
        who.audit("agreement-set", org, outcome="deny", fields=sorted(errors), via="web")
        return page(request, who, "admin_agreements.html", {**_data(who, values, errors),
                                                            "saved": False}, status=422)  # fmt: skip
    stewardship.set_agreement(who.store, org, handling, who.viewer, user=who.user)
    return RedirectResponse("/admin/agreements?saved=1", status_code=303)
