"""Dialect-specific bulk primitives: staging tables filled by executemany or COPY.

Everything after staging is plain set-based SQL shared by both engines; only the few
spellings that differ (LEAST/GREATEST, parameter style, time binding) live here.

PostgreSQL text cannot hold a NUL character, which a JSON ``\\u0000`` or a stray byte in
a CSV can put in a name or a description. Rather than fail the submission, a load that
PostgreSQL refuses for that reason is repeated under a savepoint with each NUL stored as
U+FFFD; the raw submission keeps the original bytes. Only refused loads pay for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from psycopg import DataError
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

UTC = dt.UTC


class Dialect:
    """The handful of SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sqlite = name == "sqlite"
        self.least = "min" if self.sqlite else "least"
        self.greatest = "max" if self.sqlite else "greatest"
        self._times: dict[dt.datetime, Any] = {}

    def sql(self, text: str) -> str:
        """Translate ``?`` placeholders to the driver's style."""
        return text if self.sqlite else text.replace("?", "%s")

    def time(self, value: dt.datetime | None) -> Any:
        """Bind a timestamp the way SQLAlchemy's DateTime type would store it (UTC)."""
        if value is None:
            return None
        found = self._times.get(value)  # feeds repeat timestamps: convert each once
        if found is None:
            utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            found = utc.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else utc
            if len(self._times) > 100_000:
                self._times.clear()
            self._times[value] = found
        return found

    def date(self, value: dt.date | None) -> Any:
        """Bind a date (SQLite stores ISO text)."""
        if value is None:
            return None
        return value.isoformat() if self.sqlite else value

    def stage(
        self,
        conn: Connection,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Create a temporary table and load rows into it the fastest way the engine allows."""
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        cols = ", ".join(
            f"{name} {'TIMESTAMPTZ' if sqltype == 'TIMESTAMP' and not self.sqlite else sqltype}"
            for name, sqltype in columns
        )
        drop = "" if self.sqlite else " ON COMMIT DROP"
        conn.exec_driver_sql(f"CREATE TEMP TABLE {table} ({cols}){drop}")
        self.load(conn, table, [name for name, _ in columns], rows)

    def load(
        self, conn: Connection, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append rows (tuples bind fastest on SQLite) to a staging table."""
        if not rows:
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        if self.sqlite:
            # straight to the driver: SQLAlchemy would inspect every row first
            marks = ", ".join("?" for _ in names)
            raw.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            return
        copy_sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"

        def copy_rows(batch: Sequence[Sequence[Any]]) -> None:
            with raw.cursor().copy(copy_sql) as copy:
                for row in batch:
                    copy.write_row(row)

        _nul_safe(conn, copy_rows, rows)

    def clear(self, conn: Connection, table: str) -> None:
        """Empty a staging table for the next chunk of rows."""
        conn.exec_driver_sql(f"DELETE FROM {table}" if self.sqlite else f"TRUNCATE {table}")

    def executemany(self, conn: Connection, text: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run one statement over many parameter tuples."""
        if not rows:
            return
        if self.sqlite:
            conn.exec_driver_sql(text, list(rows))
            return
        _nul_safe(conn, lambda batch: conn.exec_driver_sql(self.sql(text), list(batch)), rows)


def _refused_for_nul(exc: Exception) -> bool:
    return "NUL (0x00)" in str(exc)


def _nul_safe(
    conn: Connection, write: Callable[[Sequence[Sequence[Any]]], Any], rows: Sequence[Sequence[Any]]
) -> None:
    """Write rows on PostgreSQL; if a NUL in a text value is refused, write them without it."""
    try:
        with conn.begin_nested():
            write(rows)
        return
    except (DBAPIError, DataError) as exc:
        if not _refused_for_nul(exc):
            raise
    with conn.begin_nested():
        write([tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in row)
               for row in rows])  # fmt: skip


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Read back a stored timestamp as an aware UTC datetime (SQLite returns naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
