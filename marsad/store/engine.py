"""Engines for the two real stores: SQLite (embedded default, WAL) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marsad.model.errors import MarsadError
from marsad.store import changes


class StoreError(MarsadError):
    """The store cannot be opened or used as asked."""


SQLITE_PRAGMAS = (
    # Only a new, empty file takes it (before WAL is on): 16 KiB pages make bulk merges
    # and raw blobs touch a quarter of the pages; an existing file keeps its page size.
    "PRAGMA page_size=16384",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-262144",  # 256 MiB page cache: bulk upserts touch big indexes
    "PRAGMA mmap_size=1073741824",
)


# The sqlite3 driver binds an exact str, int or float at once, but looks every other
# value up in its adapter registry and then tries the protocol's ``__adapt__`` and the
# value's ``__conform__`` (two failed attribute lookups): None, the commonest parameter
# of a bulk load after those, binds faster with an adapter of its own (a
# 131,072-row staging ``executemany`` with 1.5 NULLs a row: 0.46 s -> 0.36 s, best of 8).
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))  # C, no frame

AUTOCHECKPOINT = 1000  # SQLite's default: pages of WAL after which a commit checkpoints
_LATER: ContextVar[bool] = ContextVar("marsad_checkpoint_later", default=False)
_CHECKPOINTS: weakref.WeakKeyDictionary[Engine, threading.Thread] = weakref.WeakKeyDictionary()


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, configured for bulk ingest."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"cannot read database URL {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        changes.watch(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, pool_pre_ping=True)
        changes.watch(engine)
        return engine
    raise StoreError(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://…"
    )


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling does not begin before DDL and commits at odd
    # times; take it over so one submission is exactly one BEGIN … COMMIT.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        info = conn.connection.info
        want = 0 if _LATER.get() else AUTOCHECKPOINT
        if info.get("autocheckpoint", AUTOCHECKPOINT) != want:
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={want}")
            info["autocheckpoint"] = want
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    def _on_commit(_conn: Any) -> None:
        _join_checkpoint(engine)

    @event.listens_for(engine, "engine_disposed")
    def _on_dispose(_engine: Any) -> None:
        _join_checkpoint(engine)


CHECKPOINT_THREAD = "marsad-checkpoint"
"""The name of the thread `checkpoint_later` leaves running after a commit."""


@contextmanager
def checkpoint_later(engine: Engine) -> Iterator[None]:
    """Commits in the block leave their WAL frames to a checkpoint on another thread.

    Keeping a large raw submission writes its bytes to the WAL at once; copying them into
    the database file and syncing both (seconds for hundreds of MB) then runs beside the
    parse instead of before it. The engine's next commit waits for that checkpoint first,
    so what a commit guarantees is unchanged.
    """
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    token = _LATER.set(True)
    try:
        yield
    finally:
        _LATER.reset(token)
        _join_checkpoint(engine)
        thread = threading.Thread(target=_checkpoint, args=(path,), name=CHECKPOINT_THREAD)
        _CHECKPOINTS[engine] = thread
        thread.start()


def _checkpoint(path: str) -> None:
    try:
        con = sqlite3.connect(path, timeout=30)
        try:
            con.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            con.close()
    except sqlite3.Error:  # frames left in the WAL are checkpointed by a later commit
        pass


def _join_checkpoint(engine: Engine) -> None:
    thread = _CHECKPOINTS.pop(engine, None)
    if thread is not None and thread is not threading.current_thread():
        thread.join()
