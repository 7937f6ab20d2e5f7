"""API tokens in the browser: list, create (the secret shown once), revoke.

Everyone manages their own tokens; an administrator also manages the tokens that act for
their organisation, and creates tokens for its users (a script's account has no password
to sign in with). Never another organisation's. The rules of what a token may be are
`identity.create_token`'s, as for `marsad token create`; the page only offers what they
allow. Only a signed-in person creates a token: a token minting a longer-lived one would
outlive its own revocation.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from marsad.access import identity
from marsad.access.policy import Action, Role, may, role_within
from marsad.web.admin_forms import FieldErrors, Form
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.render import page, wants_json

router = APIRouter(include_in_schema=False)
Member = Annotated[WebCaller, Depends(page_permit(Action.READ))]
DAYS = (7, 30, 90, 180, 365)
DEFAULT_DAYS = 90
LABEL_MAX = 200


def _org(who: WebCaller) -> str:
    name = who.viewer.org_name
    assert name is not None  # pages always act for an organisation
    return name


def _admin(who: WebCaller) -> bool:
    return may(who.viewer, Action.ADMINISTER)


def manageable(who: WebCaller) -> list[identity.TokenRow]:
    """The tokens this user may see and revoke: their own, and (administrators) their
    organisation's; newest first."""
    rows = {t.id: t for t in identity.list_tokens(who.store, who.user)}
    if _admin(who):
        rows.update({t.id: t for t in identity.list_tokens(who.store, org=_org(who))})
    return sorted(rows.values(), key=lambda t: t.id, reverse=True)


def _members(who: WebCaller) -> dict[str, Role]:
    """Whom a token may be created for: oneself, or (administrators) any active member."""
    if not _admin(who):
        return {who.user: who.viewer.role}
    org = _org(who)
    return {u.name: u.memberships[org] for u in identity.list_users(who.store)
            if org in u.memberships and not u.disabled}  # fmt: skip


def _data(who: WebCaller, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    cap = Role.ADMINISTRATOR if _admin(who) else who.viewer.role
    return {
        "tokens": manageable(who), "may_create": who.session is not None,
        "members": _members(who), "roles": [r.value for r in Role if role_within(r, cap)],
        "days": DAYS, "values": {"user": who.user, "role": who.viewer.role.value,
                                 "days": str(DEFAULT_DAYS), "label": "", **values},
        "errors": errors, "org": _org(who), "revoked": None,
    }  # fmt: skip


@router.get("/admin/tokens")
def tokens(request: Request, who: Member) -> Response:
    """The tokens the user manages, and the form that creates one."""
    data = _data(who, {}, {})
    asked = request.query_params.get("revoked")
    data["revoked"] = next((t.prefix for t in data["tokens"] if t.prefix == asked), None)
    who.audit("list-tokens", "/admin/tokens", ids=[t.id for t in data["tokens"]])
    return page(request, who, "admin_tokens.html", data)


@router.post("/admin/tokens")
def create(request: Request, who: Member, form: Form) -> Response:
    """Create a token; its secret is in this one answer and nowhere else."""
    if who.session is None:
        who.refuse("token-create", "/admin/tokens", 403,
                   N_("API tokens are created by a signed-in person, not with a token."))  # fmt: skip
    org, errors = _org(who), FieldErrors(who.lang)
    values = {k: form.get(k) for k in ("user", "role", "days", "label")}
    user = values["user"] or who.user
    if user != who.user and not _admin(who):
        who.refuse("token-create", f"{user[:200]}@{org}", 403,
                   N_("Only an administrator creates tokens for other users."))  # fmt: skip
    if user not in _members(who):
        errors.add("user", N_("Choose an active user of your organisation."))
    role = Role(values["role"]) if values["role"] in {r.value for r in Role} else None
    if role is None:
        errors.add("role", N_("Choose a role from the list."))
    days = int(values["days"]) if values["days"].isdigit() and len(values["days"]) < 4 else 0
    if days not in DAYS:
        errors.add("days", N_("Choose how long the token lasts from the list."))
    if len(values["label"]) > LABEL_MAX:
        errors.add_said("label", errors.ngettext("The label is at most %(num)s character.",
                                                 "The label is at most %(num)s characters.",
                                                 LABEL_MAX))  # fmt: skip
    if not errors:
        try:
            secret, row = identity.create_token(who.store, user, org, role, days=days,
                                                label=values["label"] or None)  # fmt: skip
        except identity.AccessDenied:
            errors.add("role", N_("This role would allow more than the user's role here."))
    if errors:
        who.audit("token-create", f"{user[:200]}@{org}", outcome="deny", fields=sorted(errors))
        return page(request, who, "admin_tokens.html", _data(who, values, errors), status=422)
    who.audit("token-create", f"{user}@{org}", id=row.id, role=row.role.value, via="web")
    return page(request, who, "admin_token_created.html", {"token": secret, "row": row}, 201)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(request: Request, who: Member, token_id: str) -> Response:
    """Revoke one of the tokens this user manages; it stops working at once."""
    number = int(token_id) if token_id.isdigit() and len(token_id) < 12 else 0
    found = next((t for t in manageable(who) if t.id == number and t.revoked_at is None), None)
    if found is None:
        who.refuse("token-revoke", token_id[:100], 404, N_("No such active token that you manage."))
    try:
        row = identity.revoke_token(who.store, str(found.id))
    except identity.AccessDenied:  # revoked meanwhile
        who.refuse("token-revoke", token_id[:100], 404, N_("No such active token that you manage."))
    who.audit("token-revoke", row.prefix, id=row.id, user=row.user, token_org=row.org, via="web")
    if wants_json(request):
        return Response(msgspec.json.encode(row), media_type="application/json",
                        headers={"Cache-Control": "no-store"})  # fmt: skip
    return RedirectResponse(f"/admin/tokens?revoked={row.prefix}", status_code=303)
