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


def test_migrations_downgrade_and_upgrade_again(store: Store) -> None:
    from alembic import command

    cfg = migrate.alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert migrate.current_revision(store.engine) == "0001"
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_audit_log_refuses_update_and_delete(store: Store) -> None:
    import datetime as dt

    import pytest
    from sqlalchemy import delete, insert, update
    from sqlalchemy.exc import DBAPIError

    from marsad.store.schema import audit_log

    row = dict(
        at=dt.datetime.now(dt.UTC), actor="a", org=None, action="read", target="t",
        purpose=None, outcome="allow", details="{}", prev_hash="0" * 64, hash="1" * 64,
    )  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(audit_log).values(**row))
    for stmt in (update(audit_log).values(actor="b"), delete(audit_log)):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(stmt)
