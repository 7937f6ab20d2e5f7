"""SQLite engine settings for bulk ingest: page size, and raw bytes checkpointed aside."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from marsad.model.handling import Handling
from marsad.model.organisation import make_organisation
from marsad.store.engine import checkpoint_later, sqlite_url
from marsad.store.store import Store


def test_a_new_sqlite_store_has_16k_pages_in_wal(tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path / "new.db"), create=True)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_raw_bytes_are_committed_at_once_and_copied_into_the_file_aside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.db"
    store = Store.open(sqlite_url(path), create=True)
    store.add_org(make_organisation("PhishGuard", "private-partner", "AU", None))
    org = store.org("PhishGuard")
    raw = os.urandom(8 << 20)
    digest = hashlib.sha256(raw).hexdigest()
    with checkpoint_later(store.engine):
        sub = store.receive(
            source_org_id=org.id,
            raw=raw,
            sha256=digest,
            filename=None,
            defaults=Handling(),
            received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            existing=None,
        )
        # committed (another connection reads it) but still only in the write-ahead log
        assert path.stat().st_size < len(raw)
        other = Store.open(sqlite_url(path))
        assert other.raw(sub) == raw
        other.close()
    with store.engine.begin() as conn:  # the next commit waits for the checkpoint
        conn.exec_driver_sql("SELECT 1")
    assert path.stat().st_size > len(raw)
    assert store.raw(sub) == raw
    # commits outside the block checkpoint as SQLite does by default again
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    store.close()


def test_none_binds_as_null_through_its_own_adapter() -> None:
    # The engine registers an adapter for None (bulk loads bind it faster); it must still
    # store SQL NULL, in executemany as in a single execute.
    import sqlite3

    import marsad.store.engine  # noqa: F401  (registers the adapter)

    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a, b)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), ("x", None)])
    con.execute("INSERT INTO t VALUES (?, ?)", (None, None))
    assert con.execute("SELECT count(*) FROM t WHERE a IS NULL").fetchone() == (2,)
    assert con.execute("SELECT typeof(b) FROM t ORDER BY rowid").fetchall() == [
        ("integer",),
        ("null",),
        ("null",),
    ]
