"""Shared fixtures: a real store on SQLite and on PostgreSQL, frozen clocks, a CLI runner."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from marsad.model.organisation import make_organisation
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

# A shared 2-core CI machine: no per-example deadlines, a fixed example budget.
settings.register_profile(
    "marsad", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("marsad")

PG_URL = os.environ.get(
    "MARSAD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("MARSAD_REQUIRE_SERVICES") == "1"
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
DATA = Path(__file__).parent / "data"


def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no usable server
        return (
            f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); set MARSAD_TEST_PG_URL"
        )
    return None


def need_postgres() -> None:
    """Skip (on a laptop) or fail (in CI, MARSAD_REQUIRE_SERVICES=1) without PostgreSQL."""
    problem = _pg_problem()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(problem + " — MARSAD_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(problem)


def _pg_admin() -> object:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "marsad.db"
    Store.open(sqlite_url(path), create=True).close()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    need_postgres()
    name = f"marsad_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    Store.open(url, create=True).close()
    yield name
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()  # type: ignore[attr-defined]


def _sqlite_copy(template: Path, path: Path) -> Iterator[Store]:
    shutil.copy(template, path)
    store = Store.open(sqlite_url(path))
    yield store
    store.close()


@pytest.fixture
def sqlite_store(sqlite_template: Path, tmp_path: Path) -> Iterator[Store]:
    yield from _sqlite_copy(sqlite_template, tmp_path / "marsad.db")


@pytest.fixture
def second_store(sqlite_template: Path, tmp_path: Path) -> Iterator[Store]:
    """Another, empty SQLite instance (the receiving side of an exchange)."""
    yield from _sqlite_copy(sqlite_template, tmp_path / "second.db")


@pytest.fixture
def pg_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    template = request.getfixturevalue("pg_template")
    name = f"marsad_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    store = Store.open(PG_URL.rsplit("/", 1)[0] + "/" + name)
    yield store
    store.close()
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """The same test on both real stores."""
    return request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'pg'}_store")


@pytest.fixture
def orgs(store: Store) -> Store:
    """A store with a partner, a national unit and a desk registered."""
    store.add_org(make_organisation("PhishGuard", "private-partner", "AU", "asia-south-pacific"))
    store.add_org(make_organisation("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific"))
    store.add_org(make_organisation("ASP Desk", "regional-desk", "SG", "asia-south-pacific"))
    return store
