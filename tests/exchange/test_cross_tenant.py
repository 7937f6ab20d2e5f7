"""No route ever answers with a record the access policy denies its caller.

Every route of `create_app` is enumerated; a route with no case generator in
`cross_tenant_cases.ROUTE_CASES` fails the test. For each route, hypothesis draws callers
(every organisation of a network with sub-units, look-alike names and LIKE wildcards, in
every role, and callers without a valid token) and queries over the planted world; each
response, whatever its format, is scanned for the markers of planted records, and every
marker found must belong to a record `may_see` grants that caller. Over 10,000 cases run
on SQLite and a quarter as many again on PostgreSQL ($MARSAD_CROSS_TENANT_SCALE multiplies
both).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from starlette.routing import Mount

from marsad.exchange.app import create_app
from marsad.exchange.auth import PERMIT_MARK
from marsad.store.engine import sqlite_url
from marsad.store.store import Store
from marsad.web.app import OPEN_ROUTES as WEB_OPEN_ROUTES
from tests.conftest import PG_URL, _pg_admin
from tests.exchange.cross_tenant_cases import ROUTE_CASES, Case, refused_for_nul
from tests.exchange.tenant_world import World, build_world, leaks

OPEN_ROUTES = {"GET /api/health", "GET /api/openapi.json", *WEB_OPEN_ROUTES}
SCALE = float(os.environ.get("MARSAD_CROSS_TENANT_SCALE", "1"))
"""More cases for a longer run (e.g. 10 overnight); 1 gives the CI budget."""
PG_SHARE = 0.25
"""PostgreSQL runs a quarter of the cases: the same routes and SQL, a second engine's planner."""


def _contexts(routes: list[Any]) -> list[Any]:
    try:  # FastAPI >= 0.16x keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        return list(routes)
    return list(iter_route_contexts(routes))


def route_table(routes: list[Any], prefix: str = "") -> dict[str, Any]:
    """Every ``"METHOD /path"`` the application answers, mounted sub-applications included."""
    table: dict[str, Any] = {}
    for route in _contexts(routes):
        original = getattr(route, "original_route", route)
        path = prefix + route.path
        if isinstance(original, Mount) and original.routes:
            table.update(route_table(list(original.routes), path))
            continue
        methods = set(route.methods or ["*"])  # a websocket or an opaque mount: "*"
        if "GET" in methods:
            methods.discard("HEAD")
        table.update({f"{m} {path}": route for m in methods})
    return table


@pytest.fixture(scope="module")
def routes(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("routes") / "marsad.db"
    shutil.copy(sqlite_template, path)
    store = Store.open(sqlite_url(path))
    return route_table(create_app(store).routes)


def test_every_route_has_a_case_generator(routes: dict[str, Any]) -> None:
    missing = sorted(set(routes) - set(ROUTE_CASES))
    assert not missing, (
        f"routes with no cross-tenant case generator: {missing}; register them in "
        "tests/exchange/cross_tenant_cases.py (ROUTE_CASES)"
    )
    stale = sorted(set(ROUTE_CASES) - set(routes))
    assert not stale, f"case generators for routes the application does not have: {stale}"


def test_at_least_10000_cases_per_engine() -> None:
    assert sum(r.examples for r in ROUTE_CASES.values()) >= 10_000


def test_every_api_route_declares_its_permission(routes: dict[str, Any]) -> None:
    def permits(dependant: Any) -> set[Any]:
        own = getattr(dependant.call, PERMIT_MARK, None)
        found = {own} if own is not None else set()
        for sub in dependant.dependencies:
            found |= permits(sub)
        return found

    undeclared = [
        key for key, route in routes.items()
        if key not in OPEN_ROUTES
        and len(permits(getattr(route, "dependant", None) or route.original_route.dependant)) != 1
    ]  # fmt: skip
    assert not undeclared, f"routes without exactly one permit(Action) dependency: {undeclared}"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The planted world, built once per engine for the whole module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("world") / "marsad.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        store = Store.open(sqlite_url(path))
        built = build_world(store)
        yield built
        built.api.close()
        store.close()
        return
    template = request.getfixturevalue("pg_template")
    name = f"marsad_w_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    store = Store.open(PG_URL.rsplit("/", 1)[0] + "/" + name)
    built = build_world(store)
    yield built
    built.api.close()
    store.close()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()  # type: ignore[attr-defined]


def _send(world: World, headers: dict[str, str], c: Case) -> Any:
    return world.api.client.request(
        c.method, c.path, params=c.params, json=c.json, content=c.content, files=c.files,
        headers={**headers, **c.headers},
    )  # fmt: skip


@pytest.mark.parametrize("key", sorted(ROUTE_CASES))
def test_no_response_contains_a_record_the_policy_denies(world: World, key: str) -> None:
    route = ROUTE_CASES[key]
    scale = SCALE * (1.0 if world.api.store.dialect.sqlite else PG_SHARE)

    @settings(max_examples=max(10, round(route.examples * scale)), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])  # fmt: skip
    @given(caller=st.sampled_from(world.callers), c=route.cases(world))
    def check(caller: Any, c: Case) -> None:
        response = _send(world, caller.headers, c)
        where = f"{key} as {caller.label}: {c.method} {response.request.url}"
        assert response.status_code < 500, f"{where} -> {response.text[:300]}"
        if not caller.authenticated and c.path.startswith("/api/v1/"):
            # 404: no route matches the path; 400: a NUL byte refused before authentication
            assert response.status_code in (401, 404) or refused_for_nul(response), where
        sent = [c.content or b"", orjson.dumps(c.json)]
        sent += [part[1] for part in (c.files or {}).values()]
        asked = (unquote(str(response.request.url)).encode() + b"".join(sent)).lower()
        leaked = leaks(world, caller.grant, asked, response.content)
        assert not leaked, f"{where} leaked {leaked}"
        if c.expect is not None:
            c.expect(world, caller.grant, response)

    check()
