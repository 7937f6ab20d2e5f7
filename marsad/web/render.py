"""Pages and their JSON twins from one data dict; the security headers every response wears.

A handler builds one dict of data and calls `page`: browsers get the template rendered in
their language, ``?format=json`` (or ``Accept: application/json`` without HTML) gets the
same dict as JSON, as the house style asks of every page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marsad.access.policy import Action, may
from marsad.model.handling import TLP
from marsad.web import sessions
from marsad.web.auth import WebCaller
from marsad.web.i18n import LANGUAGES, environment

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
TLP_CLASS = {t: "tlp-" + t.value.replace("+", "-") for t in TLP}


class SecurityHeaders:
    """Add the security headers to every response (pages, API, static files alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def wants_json(request: Request) -> bool:
    """Whether this request asks for the page's JSON twin."""
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def when(value: dt.datetime | dt.date | None) -> str:
    """A date or time as people read it in a table (UTC, to the minute)."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def common(request: Request, who: WebCaller | None, lang: str) -> dict[str, Any]:
    """What every template needs: the user, their organisations, language, CSRF token."""
    direction = LANGUAGES[lang][1]
    base = who.session.sid if who is not None and who.session is not None else None
    store = request.app.state.store
    return {
        "request": request,
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "lang": lang,
        "dir": direction,
        "who": who,
        "csrf": sessions.csrf_token(store, base) if base else None,
        "may_admin": who is not None and may(who.viewer, Action.ADMINISTER),
        "may_audit": who is not None and may(who.viewer, Action.READ_AUDIT),
        "may_submit": who is not None and may(who.viewer, Action.SUBMIT),
        "tlp_class": TLP_CLASS,
        "when": when,
    }


def html(request: Request, template: str, context: dict[str, Any], status: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    """Render a template of the request's language; pages with data are never cached."""
    lang = context["lang"]
    body = environment(lang).get_template(template).render(context)
    return HTMLResponse(body, status_code=status,
                        headers={"Cache-Control": "no-store", **(headers or {})})  # fmt: skip


def page(request: Request, who: WebCaller, template: str, data: dict[str, Any],
         status: int = 200) -> Response:  # fmt: skip
    """The page, or its JSON twin built from the same data."""
    if wants_json(request):
        return Response(msgspec.json.encode(data), status_code=status,
                        media_type="application/json", headers={"Cache-Control": "no-store"})  # fmt: skip
    return html(request, template, {**common(request, who, who.lang), **data}, status)
