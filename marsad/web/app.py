"""Install the web application's pages on the Marsad FastAPI application.

The pages join the API's application (one process, one port, one cross-tenant test over
every route): `install` adds the routers, the HTML error pages and the security headers.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from marsad.web import (
    actions,
    admin,
    alerts,
    dashboard,
    graph,
    pages,
    products,
    records,
    reports,
    signin,
    uploads,
)
from marsad.web.auth import SignInRequired, WebError, language, sign_in_location
from marsad.web.i18n import gettext
from marsad.web.render import SecurityHeaders, common, html, wants_json

OPEN_ROUTES = signin.OPEN_ROUTES


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if wants_json(request):
        return JSONResponse({"error": exc.message}, exc.status, headers=exc.headers)
    lang = language(request)
    context = {**common(request, None, lang), "status": exc.status,
               "message": gettext(lang)(exc.message)}  # fmt: skip
    return html(request, "error.html", context, exc.status, exc.headers)


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if wants_json(request):
        return JSONResponse({"error": "sign in or send a bearer token"}, 401)
    where = sign_in_location(exc.next_path)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


def install(app: FastAPI) -> None:
    """Add the pages, their error handlers and the security headers to ``app``."""
    app.add_exception_handler(WebError, _web_error)
    app.add_exception_handler(SignInRequired, _sign_in)
    for module in (signin, dashboard, pages, records, actions, graph, uploads, alerts, reports,
                   products, admin):  # fmt: skip
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders)
