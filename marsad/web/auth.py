"""Who is using a page: a signed-in browser (session cookie) or a script with an API token.

Every page declares the action it needs with ``Depends(page_permit(Action.X))``, marked
like the API's `permit` so the route test counts it. A browser without a session is sent
to the sign-in page; a bad bearer token gets 401; a role without the action gets 403; all
refusals are audited. Forms are protected against CSRF in the same dependency: a POST
from a session must carry the session's token (bearer calls cannot be forged cross-site).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy import select

from marsad.access import audit, identity
from marsad.access.policy import PUBLIC, Action, Grant, Role, Viewer, grant_for, may
from marsad.exchange.auth import PERMIT_MARK, Caller, settings_of, store_of
from marsad.store.schema import memberships, organisations, users
from marsad.store.store import Store
from marsad.web import sessions
from marsad.web.i18n import LANG_COOKIE, pick

CSRF_FIELD = "csrf_token"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CSRF_HEADER = "X-CSRF-Token"


def N_(message: str) -> str:
    """Mark a message for the catalogues; the error page translates it when shown."""
    return message


class WebError(Exception):
    """A page that cannot be shown: rendered as an HTML error page with this status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class SignInRequired(Exception):
    """No session: the browser goes to the sign-in page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class WebCaller(Caller):
    """A `Caller` with what pages need: the session, the memberships, the language."""

    def __init__(
        self, store: Store, user: str, viewer: Viewer, grant: Grant,
        session: sessions.Session | None, member_of: dict[str, Role], lang: str,
    ) -> None:  # fmt: skip
        super().__init__(store, user, viewer, grant, None)
        self.session = session
        self.member_of = member_of
        self.lang = lang

    def refuse(
        self, action: str, target: str, status: int, message: str, **details: Any
    ) -> NoReturn:
        """Audit a refusal and show it (404 where existence must not show)."""
        self.audit(action, target, outcome="deny", **details)
        raise WebError(status, message)


def clean(text: str) -> str:
    """Text without control characters (no value has them, and no database text may hold NUL)."""
    return _CONTROL.sub("", text)


def language(request: Request) -> str:
    """The language of this request."""
    return pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def memberships_of(store: Store, user: str) -> tuple[bool, dict[str, Role]] | None:
    """Whether the user is disabled, and their organisations with their role in each."""
    query = (
        select(users.c.disabled, organisations.c.name, memberships.c.role)
        .join(memberships, memberships.c.user_id == users.c.id)
        .join(organisations, organisations.c.id == memberships.c.org_id)
        .where(users.c.name == user)
        .order_by(organisations.c.name)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return None
    return bool(rows[0].disabled), {r.name: Role(r.role) for r in rows}


def _today(request: Request) -> dt.date:
    return settings_of(request).today()


def _bearer(request: Request, store: Store, header: str) -> WebCaller:
    secret = header[7:].strip()
    try:
        principal = identity.authenticate(store, secret)
    except identity.AccessDenied as exc:
        audit.record(store, PUBLIC, "authenticate", f"{request.method} {request.url.path}",
                     actor="anonymous", outcome="deny",
                     details={"reason": str(exc), "prefix": secret[:12]})  # fmt: skip
        raise WebError(401, N_("invalid, expired or revoked token"),
                       {"WWW-Authenticate": 'Bearer realm="marsad"'}) from None  # fmt: skip
    viewer = principal.viewer
    assert viewer.org_name is not None
    return WebCaller(store, principal.user, viewer, grant_for(viewer, _today(request)), None,
                     {viewer.org_name: viewer.role}, language(request))  # fmt: skip


def current_session(request: Request, store: Store) -> sessions.Session | None:
    """The live session of this browser, if any."""
    sid = sessions.unsign(store, request.cookies.get(sessions.SESSION_COOKIE))
    return sessions.load(store, sid) if sid else None


def _next_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def form_token(request: Request) -> None:
    """Read a posted form once (Starlette keeps it for the handler) and note its CSRF field."""
    kind = request.headers.get("content-type", "")
    if request.method == "POST" and kind.startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    ):
        form = await request.form(max_files=1, max_fields=50)
        token = form.get(CSRF_FIELD)
        request.scope["marsad.csrf"] = token if isinstance(token, str) else None


def web_caller(request: Request, _form: Annotated[None, Depends(form_token)]) -> WebCaller:
    """The user of this request: bearer token, else session cookie, else sign-in."""
    store = store_of(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _bearer(request, store, header)
    session = current_session(request, store)
    found = memberships_of(store, session.user) if session else None
    if session is None or found is None or found[0] or session.org not in found[1]:
        if session is not None:  # a session whose user was disabled or removed
            sessions.close(store, session.sid)
            audit.record(store, PUBLIC, "authenticate", _next_path(request), actor=session.user,
                         outcome="deny", details={"reason": "session no longer valid"})  # fmt: skip
        raise SignInRequired(_next_path(request) if request.method == "GET" else "/")
    viewer = store.viewer(session.org, found[1][session.org])
    caller = WebCaller(store, session.user, viewer, grant_for(viewer, _today(request)), session,
                       found[1], language(request))  # fmt: skip
    if request.method not in ("GET", "HEAD"):
        check_csrf(request, store, session.sid, caller)
    return caller


def check_csrf(request: Request, store: Store, base: str | None, who: Caller | None) -> None:
    """Refuse (403, audited) a form whose token is not this browser's."""
    token = request.headers.get(CSRF_HEADER) or request.scope.get("marsad.csrf")
    if sessions.csrf_ok(store, base, token):
        return
    target = f"{request.method} {request.url.path}"
    if who is not None:
        who.audit("csrf", target, outcome="deny")
    else:
        audit.record(store, PUBLIC, "csrf", target, actor="anonymous", outcome="deny")
    raise WebError(
        403, N_("This form has expired or did not come from this site; reload the page.")
    )


def page_permit(action: Action) -> Callable[..., WebCaller]:
    """A dependency: the page's user, if their role allows ``action``; else 403, audited."""

    def dependency(request: Request, who: Annotated[WebCaller, Depends(web_caller)]) -> WebCaller:
        if not may(who.viewer, action):
            who.refuse(action.value, f"{request.method} {request.url.path}", 403,
                       N_("Your role in this organisation does not allow this page."))  # fmt: skip
        return who

    setattr(dependency, PERMIT_MARK, action)
    dependency.__name__ = f"page_permit_{action.value.replace('-', '_')}"
    return dependency


def sign_in_location(next_path: str) -> str:
    """The sign-in page, coming back to ``next_path`` afterwards."""
    return "/login?next=" + quote(next_path, safe="/")
