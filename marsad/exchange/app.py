"""The web application: one factory that every server, test and router mounts on.

`create_app(store)` wires the problem+json error handlers, the request size limit and the
routers. Every route under ``/api/v1`` needs a bearer token and declares its permission;
``/api/health`` and the OpenAPI document (``/api/openapi.json``) are open.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from marsad.exchange import (
    api_actions,
    api_alerts,
    api_export,
    api_lookup,
    api_meta,
    api_records,
    api_submissions,
    problems,
    taxii,
)
from marsad.exchange.auth import Settings
from marsad.exchange.limits import BodyLimit
from marsad.store.store import Store
from marsad.web.app import install as install_web

API_PREFIX = "/api/v1"


def _version() -> str:
    try:
        return version("marsad")
    except PackageNotFoundError:
        return "0"


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The Marsad web application over ``store``."""
    settings = settings or Settings()
    app = FastAPI(
        title="Marsad API",
        version=_version(),
        description="Threat data under strict handling rules: every answer is filtered by "
        "the one access policy, and every read is audited.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the UI pages load scripts from a CDN; the document is enough
        redoc_url=None,
    )
    app.state.store = store
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(api_meta.health_router)
    for module in (api_meta, api_submissions, api_lookup, api_records, api_export, api_alerts,
                   api_actions):  # fmt: skip
        app.include_router(module.router, prefix=API_PREFIX)
    # routers: taxii
    app.include_router(taxii.taxii_router())
    install_web(app)  # the pages: same process, same policy door, same route test
    return app
