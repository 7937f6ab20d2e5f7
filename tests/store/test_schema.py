"""The migrated schema is exactly the declared one, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from marsad.store import migrate
from marsad.store.schema import metadata
from marsad.store.store import Store


def test_migrations_build_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_sqlite_runs_in_wal_mode(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_lookup_indexes_exist(store: Store) -> None:
    from sqlalchemy import inspect

    insp = inspect(store.engine)
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("observables")}
    indexes = {tuple(i["column_names"]) for i in insp.get_indexes("observables")}
    assert ("type", "value") in uniques | indexes
    assert ("registered_domain",) in indexes
