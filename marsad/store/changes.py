"""The store's change counter: one number that moves whenever stored data may have changed.

Results kept between requests (a viewer's clusters, the dashboard's ranking, a product)
are valid only while nothing they were made from has changed: a record, its marking, a
relationship, a cluster, an organisation, an agreement, a membership. Rather than trust
each write path to say so, every engine Marsad opens watches the statements it runs: a
transaction that wrote anything (an INSERT, UPDATE, DELETE or schema change) bumps the
counter in ``instance_state`` in the same transaction, just before it commits. So the
counter moves with the commit, on both engines, whichever process wrote (the server, an
ingest from the shell, a second server), and a rolled-back transaction moves nothing.

Only writes that cannot change what anyone may see leave it alone: the audit log (every
page view appends to it), ``instance_state`` (web sessions, bookmarks, this counter), API
tokens (their last use; a token only decides who signs in, and kept results are keyed by
the grant of whoever did), Alembic's revision and a connection's own temporary tables
(staging for bulk reads). Reading the counter is one primary-key look-up.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, event, select

from marsad.store.schema import instance_state

KEY = "data-version"
QUIET = frozenset({"audit_log", "instance_state", "api_tokens", "alembic_version"})
"""Tables whose writes never change what a viewer may see."""

_DIRTY = "marsad_wrote"
_TEMP = "marsad_temp_tables"
_READ = re.compile(
    r"\s*(SELECT|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|EXPLAIN|SHOW|SET|VALUES)\b", re.I
)
_CREATE_TEMP = re.compile(
    r"\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\W?(\w+)", re.I
)
_TARGET = re.compile(
    r"\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|TRUNCATE(?:\s+TABLE)?|COPY)\s+\W?(\w+)",
    re.I,
)
_WITH_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.I)


def writes(statement: str, temp: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether a statement may change stored data (anything not known to be harmless does)."""
    if _READ.match(statement):
        return False
    if statement.lstrip()[:4].upper() == "WITH":
        return bool(_WITH_WRITE.search(statement))
    if _CREATE_TEMP.match(statement):
        return False
    target = _TARGET.match(statement)
    if target is not None:
        table = target.group(1).lower()
        return table not in QUIET and table not in temp
    return True


def watch(engine: Engine) -> None:
    """Make every transaction of ``engine`` that writes bump the counter as it commits."""

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.info.pop(_DIRTY, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get(_DIRTY):
            return
        temp: set[str] = conn.info.setdefault(_TEMP, set())
        created = _CREATE_TEMP.match(statement)
        if created is not None:
            temp.add(created.group(1).lower())
        elif writes(statement, temp):
            conn.info[_DIRTY] = True

    @event.listens_for(engine, "commit")
    def _commit(conn: Any) -> None:
        if conn.info.pop(_DIRTY, False):
            _bump(conn, engine.dialect.name == "sqlite")

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Any) -> None:
        conn.info.pop(_DIRTY, None)


def _bump(conn: Any, sqlite: bool) -> None:
    """Add one to the counter in the committing transaction (straight to the driver, so the
    statement is not watched itself); a database without ``instance_state`` yet (migrations
    half way) has nothing kept to invalidate."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if sqlite:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'instance_state'"
            )
        else:
            cursor.execute("SELECT 1 WHERE to_regclass('instance_state') IS NOT NULL")
        if cursor.fetchone() is None:
            return
        number = "INTEGER" if sqlite else "BIGINT"
        cursor.execute(
            "INSERT INTO instance_state (key, value, updated_at) "
            f"VALUES ('{KEY}', '1', CURRENT_TIMESTAMP) ON CONFLICT (key) DO UPDATE SET "
            f"value = CAST(CAST(instance_state.value AS {number}) + 1 AS TEXT), "
            "updated_at = CURRENT_TIMESTAMP"
        )
    finally:
        cursor.close()


def data_version(engine: Engine) -> int:
    """The counter now: equal readings mean no write committed in between."""
    with engine.connect() as conn:
        value = conn.execute(
            select(instance_state.c.value).where(instance_state.c.key == KEY)
        ).scalar_one_or_none()
    return int(value or 0)
