"""Sign-in, sign-out, the organisation switcher, the language switcher and static files.

These are the pages a visitor reaches before having a session (sign-in, language, static
files) or that change the session itself. Sign-in and its failures are audited; the new
session gets a fresh id (no fixation) and the pre-session CSRF cookie is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from marsad.access import audit, identity
from marsad.access.policy import PUBLIC, Action
from marsad.exchange.auth import store_of
from marsad.web import sessions, throttle
from marsad.web.auth import (
    N_,
    WebCaller,
    WebError,
    check_csrf,
    clean,
    current_session,
    form_token,
    language,
    memberships_of,
    page_permit,
)
from marsad.web.i18n import LANG_COOKIE, LANGUAGES, gettext
from marsad.web.render import common, html

router = APIRouter(include_in_schema=False)
OPEN_ROUTES = frozenset({"GET /login", "POST /login", "GET /lang/{code}", "GET /static/{name}"})
"""Routes any visitor may reach; every other page declares its permission."""

STATIC = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


def node_modules() -> Path:
    """Where the npm packages are: $MARSAD_NODE_MODULES, else beside the source tree."""
    given = os.environ.get("MARSAD_NODE_MODULES")
    if given:
        return Path(given)
    beside = Path(__file__).resolve().parents[2] / "node_modules"
    return beside if beside.is_dir() else Path.cwd() / "node_modules"


ASSETS: dict[str, tuple[str, str]] = {
    # name -> (where, path): "npm" files come from node_modules, never from the repository.
    "htmx.min.js": ("npm", "htmx.org/dist/htmx.min.js"),
    "cytoscape.min.js": ("npm", "cytoscape/dist/cytoscape.min.js"),
    "marsad.css": ("own", "marsad.css"),
    "marsad.js": ("own", "marsad.js"),
    "graph.js": ("own", "graph.js"),
}


def safe_next(value: str | None) -> str:
    """A local path to go back to (never another site: no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def set_cookie(request: Request, response: Response, name: str, value: str, *,
               max_age: int | None, same_site: str = "lax") -> None:  # fmt: skip
    """A cookie with the flags a session needs: HttpOnly, Secure, SameSite."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite=same_site,  # type: ignore[arg-type]
                        secure=True, path="/")  # fmt: skip


@router.get("/static/{name}")
def static(name: str) -> Response:
    """Our stylesheet and scripts, and the front-end packages installed by npm."""
    if name not in ASSETS:
        raise WebError(404, N_("No such file."))
    where, rel = ASSETS[name]
    path = (node_modules() if where == "npm" else STATIC) / rel
    if not path.is_file():
        raise WebError(404, f"{name} is missing: run `npm ci` (or `make demo`) first.")
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return FileResponse(path, media_type=kind,
                        headers={"Cache-Control": "public, max-age=3600"})  # fmt: skip


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the visitor's language and go back to the page they were on."""
    if code not in LANGUAGES:
        raise WebError(404, N_("No such language."))
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, LANG_COOKIE, code, max_age=YEAR)
    return response


def _login_page(request: Request, next_path: str, error: str | None, status: int = 200) -> Response:
    store = store_of(request)
    pre = sessions.unsign(store, request.cookies.get(sessions.PRE_COOKIE)) or sessions.new_id()
    context = common(request, None, language(request))
    context.update(csrf=sessions.csrf_token(store, pre), next=safe_next(next_path), error=error)
    response = html(request, "login.html", context, status)
    set_cookie(request, response, sessions.PRE_COOKIE, sessions.sign(store, pre), max_age=3600,
               same_site="strict")  # fmt: skip
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (a signed-in browser goes straight on)."""
    store = store_of(request)
    if current_session(request, store) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next or "/", None)


@router.post("/login")
def login(
    request: Request,
    _form: Annotated[None, Depends(form_token)],
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; open a session for the user's first organisation."""
    store = store_of(request)
    pre = sessions.unsign(store, request.cookies.get(sessions.PRE_COOKIE))
    check_csrf(request, store, pre, None)
    username = clean(username)
    address = request.client.host if request.client else "-"
    _ = gettext(language(request))
    if throttle.locked(store, username[:200] or "-", address):
        audit.record(store, PUBLIC, "login", username[:200] or "-", actor="anonymous",
                     outcome="deny", details={"reason": "too many failed attempts",
                                              "via": "web", "address": address})  # fmt: skip
        message = N_("Too many failed sign-in attempts: wait 15 minutes and try again.")
        return _login_page(request, next, _(message), 429)
    found = memberships_of(store, username)
    org = ""
    try:
        if found is None:
            raise identity.AccessDenied("unknown user or wrong password")
        org = next_org_of(found[1])
        principal = identity.login(store, username, password, org)
    except identity.AccessDenied as exc:
        audit.record(store, PUBLIC, "login", username[:200] or "-", actor="anonymous",
                     outcome="deny", details={"reason": str(exc), "via": "web",
                                              "address": address})  # fmt: skip
        return _login_page(request, next, _("Unknown user or wrong password."), 401)
    session = sessions.open_session(store, principal.user, org)
    audit.record(store, principal.viewer, "login", principal.user, actor=principal.user,
                 details={"via": "web"})  # fmt: skip
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, sessions.SESSION_COOKIE, sessions.sign(store, session.sid),
               max_age=int(sessions.LIFETIME.total_seconds()))  # fmt: skip
    response.delete_cookie(sessions.PRE_COOKIE, path="/")
    return response


def next_org_of(member_of: Mapping[str, object]) -> str:
    """The organisation a new session acts for: the first by name (the switcher changes it)."""
    return next(iter(sorted(member_of)))


Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]


@router.post("/logout")
def logout(request: Request, who: Reader) -> Response:
    """Sign out: the session row goes, and with it every copy of the cookie."""
    response = RedirectResponse("/login", status_code=303)
    if who.session is not None:
        sessions.close(who.store, who.session.sid)
        who.audit("logout", who.user)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


@router.post("/session/organisation")
def switch_organisation(
    request: Request,
    who: Reader,
    org: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Act for another organisation the user belongs to."""
    if who.session is None:
        raise WebError(
            400, N_("An API token acts for one organisation; there is nothing to switch.")
        )
    if org not in who.member_of:
        who.refuse(
            "switch-organisation", org, 403, N_("You are not a member of that organisation.")
        )
    sessions.switch(who.store, who.session, org)
    who.audit("switch-organisation", org)
    return RedirectResponse(safe_next(next), status_code=303)
