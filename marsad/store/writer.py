"""Merge one submission's rows into the store with set-based SQL.

Called inside the submission's single transaction: either everything below lands with
the submission marked ingested, or nothing does. A large submission is written while it
is still being parsed: each chunk of new assertion rows is staged on the calling thread
and merged by one worker thread, whose few long statements run in the database without
holding the GIL, so parsing the next chunk and merging this one use both cores.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection

from marsad.ingest.batch import (
    ASSERTION_COLUMNS,
    ENTITY_COLUMNS,
    HANDLING_COLUMNS,
    RELATIONSHIP_COLUMNS,
    Batch,
    BatchBuilder,
)
from marsad.model.records import AssertionBlock, ConsumedBlock, Record
from marsad.store.bulk import Dialect

STREAM_CHUNK = 1 << 16
"""Records parsed between two merges of a streamed submission."""
STREAM_CACHE_KIB = 1 << 20
"""SQLite page cache while a submission streams in (its indexes outgrow the default)."""

_TYPES = {
    "first_seen": "TIMESTAMP",
    "last_seen": "TIMESTAMP",
    "retain_until": "DATE",
    "review_at": "DATE",
    "sightings": "INTEGER",
    "confidence": "INTEGER",
    "hid": "INTEGER",
    "tlp": "INTEGER",
    "pap": "INTEGER",
    "credibility": "INTEGER",
    "count": "INTEGER",
}
_HANDLING = HANDLING_COLUMNS[1:]
_H_SELECT = ", ".join(f"h.{c}" for c in _HANDLING)
_H_LIST = ", ".join(_HANDLING)
# SQLite keeps no statistics on a fresh staging table and may put it in the inner loop,
# scanning it once per stored row (quadratic as the store grows). CROSS JOIN makes SQLite
# drive from the staged rows into the indexes; PostgreSQL plans it as an ordinary join.
_STAGE_FIRST = "stage_a s CROSS JOIN observables o"
_ASSERTED = (
    "threat_type",
    "first_seen",
    "last_seen",
    "sightings",
    "confidence",
    "location",
    "stix_id",
    "name",
    "description",
)


class WriteCounts(msgspec.Struct, kw_only=True):
    """What a batch did to the store."""

    accepted: int = 0
    merged: int = 0
    entities: int = 0
    relationships: int = 0


def _columns(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(n, _TYPES.get(n, "TEXT")) for n in names]


def _refresh_handling(d: Dialect, target: str) -> str:
    # The source's newest statement sets grading and releasability; TLP/PAP only tighten
    # on merge (an owner loosens explicitly, never by re-sending).
    parts = [
        f"tlp = {d.greatest}({target}.tlp, excluded.tlp)",
        f"pap = {d.greatest}({target}.pap, excluded.pap)",
    ]
    parts += [f"{c} = excluded.{c}" for c in _HANDLING[2:]]
    return ", ".join(parts)


def _span(d: Dialect, target: str) -> str:
    return (
        f"first_seen = {d.least}(coalesce({target}.first_seen, excluded.first_seen),"
        f" coalesce(excluded.first_seen, {target}.first_seen)),"
        f" last_seen = {d.greatest}(coalesce({target}.last_seen, excluded.last_seen),"
        f" coalesce(excluded.last_seen, {target}.last_seen))"
    )


def write_batch(
    conn: Connection, d: Dialect, batch: Batch, *, submission_id: int, source_org_id: int
) -> WriteCounts:
    """Stage the batch and merge it: observables, assertions, provenance, entities, edges."""
    return StreamWriter(conn, d, submission_id=submission_id, source_org_id=source_org_id).finish(
        batch
    )


def write_stream(
    conn: Connection,
    d: Dialect,
    records: Iterable[Record | AssertionBlock | ConsumedBlock],
    builder: BatchBuilder,
    *,
    submission_id: int,
    source_org_id: int,
    chunk: int | None = None,
) -> tuple[Batch, WriteCounts]:
    """Merge records into the store while they are still being parsed; the batch and counts.

    Ends in the same store state as `write_batch` of the whole batch (late rows fix up
    what merged after it was written). A format that raises half way leaves the caller's
    transaction to roll back; the worker is always joined first.
    """
    return write_chunks(
        conn,
        d,
        builder.chunks(records, chunk or STREAM_CHUNK),
        builder.finish,
        submission_id=submission_id,
        source_org_id=source_org_id,
    )


def write_chunks(
    conn: Connection,
    d: Dialect,
    chunks: Iterable[tuple[list[tuple[Any, ...]], list[Any]]],
    finish: Callable[[], Batch],
    *,
    submission_id: int,
    source_org_id: int,
    presorted: bool = False,
) -> tuple[Batch, WriteCounts]:
    """Merge chunks of (new handling, new assertion rows) as they come, then the rest of
    the batch that ``finish`` gives. The chunks come from a `BatchBuilder`, here or in a
    parser process (`marsad.ingest.parse_process`), which sends each chunk's rows in
    (type, value) order: ``presorted`` spares the database sorting them again."""
    writer = StreamWriter(
        conn, d, submission_id=submission_id, source_org_id=source_org_id, presorted=presorted
    )
    try:
        for handling, rows in chunks:
            writer.add(handling, rows)
        batch = finish()
        return batch, writer.finish(batch)
    finally:
        writer.close()


class StreamWriter:
    """One submission's writes: chunks of assertion rows, then everything else."""

    def __init__(
        self,
        conn: Connection,
        d: Dialect,
        *,
        submission_id: int,
        source_org_id: int,
        presorted: bool = False,
    ) -> None:
        self.conn = conn
        self.presorted = presorted  # the chunks' rows (not the batch's) in (type, value) order
        self.d = d
        self.submission_id = submission_id
        self.source_org_id = source_org_id
        self.counts = WriteCounts()
        self.rows = 0  # distinct assertion rows written
        self.staged_h = False
        self.staged_a = False
        self.worker: threading.Thread | None = None
        self.error: BaseException | None = None
        self.cache_size: int | None = None  # SQLite's own, restored by close()

    def add(self, handling: list[tuple[Any, ...]], rows: list[Any]) -> None:
        """Stage a chunk of new rows here and merge it on the worker thread."""
        self._wait()
        if self.d.sqlite and self.cache_size is None:
            self.cache_size = int(self.conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
            self.conn.exec_driver_sql(f"PRAGMA cache_size=-{STREAM_CACHE_KIB}")
        self._stage(handling, rows)
        if rows:
            self.worker = threading.Thread(
                target=self._merge_in_worker,
                args=(len(rows), self.presorted),
                name="marsad-merge",
            )
            self.worker.start()

    def finish(self, batch: Batch) -> WriteCounts:
        """Write what is left of the batch; the counts for the whole submission."""
        self._wait()
        conn, d, counts = self.conn, self.d, self.counts
        anything = batch.assertions or batch.late or batch.entities or batch.relationships
        if anything or self.staged_h:
            self._stage(batch.handling, batch.assertions)
            if batch.assertions:
                self._merge(len(batch.assertions))
            if batch.late:
                self._write_late(batch.late)
            if batch.entities:
                counts.entities = self._merge_staged(
                    "entities", ENTITY_COLUMNS, batch.entities,
                    conflict="ref, source_org_id",
                    update="name = excluded.name, kind = excluded.kind,"
                    " description = excluded.description, attributes = excluded.attributes",
                )  # fmt: skip
            if batch.relationships:
                counts.relationships = self._merge_staged(
                    "relationships", RELATIONSHIP_COLUMNS, batch.relationships,
                    conflict="source_ref, type, target_ref, source_org_id",
                    update="count = relationships.count + excluded.count",
                )  # fmt: skip
            if self.staged_a:
                conn.exec_driver_sql("DROP TABLE stage_a")
            conn.exec_driver_sql("DROP TABLE stage_h")
        counts.merged = self.rows - counts.accepted
        d.executemany(
            conn,
            "INSERT INTO rejections (submission_id, location, reason, raw) VALUES (?, ?, ?, ?)",
            [(self.submission_id, loc, reason, raw) for loc, reason, raw in batch.rejections],
        )
        return counts

    def close(self) -> None:
        """Join the worker (on success and on failure alike) before the transaction ends."""
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        if self.cache_size is not None:
            size, self.cache_size = self.cache_size, None
            self.conn.exec_driver_sql(f"PRAGMA cache_size={size}")

    # -- staging and the per-chunk merge --------------------------------------------
    def _wait(self) -> None:
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _stage(self, handling: list[tuple[Any, ...]], rows: list[Any]) -> None:
        d, conn = self.d, self.conn
        if not self.staged_h:
            d.stage(conn, "stage_h", _columns(HANDLING_COLUMNS), handling)
            self.staged_h = True
        else:
            d.load(conn, "stage_h", HANDLING_COLUMNS, handling)
        if not rows:
            return
        if not self.staged_a:
            d.stage(conn, "stage_a", _columns(ASSERTION_COLUMNS), rows)
            self.staged_a = True
        else:
            d.clear(conn, "stage_a")
            d.load(conn, "stage_a", ASSERTION_COLUMNS, rows)

    def _merge_in_worker(self, n: int, presorted: bool) -> None:
        try:
            self._merge(n, presorted)
        except BaseException as exc:  # handed to the calling thread by _wait
            self.error = exc

    def _merge(self, n: int, presorted: bool = False) -> None:
        """Merge the staged rows: observables, assertions, and their provenance."""
        conn, d = self.conn, self.d
        src, sub = self.source_org_id, self.submission_id
        before = int(
            conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM assertions").scalar_one()
        )
        # In key order, each index page is visited once per chunk rather than once a row;
        # assertions follow in observable order, so their unique index is appended to.
        # Rows staged in key order already are read as they are: new observables' ids
        # then rise with the key, and so assertions still follow observable order.
        conn.exec_driver_sql(
            "INSERT INTO observables (type, value, registered_domain)"
            " SELECT type, value, registered_domain FROM stage_a WHERE true"
            f"{'' if presorted else ' ORDER BY type, value'}"
            " ON CONFLICT (type, value) DO NOTHING"
        )
        self._upsert_assertions(presorted)
        # New rows have ids above the old maximum and this submission as their first; their
        # provenance comes straight from the rows, without joining the staged values again.
        new_rows = " FROM assertions WHERE id > ? AND first_submission_id = ?"
        accepted = int(
            conn.exec_driver_sql(d.sql("SELECT count(*)" + new_rows), (before, sub)).scalar_one()
        )
        conn.exec_driver_sql(
            d.sql(
                "INSERT INTO assertion_sources (assertion_id, submission_id, location, sightings)"
                " SELECT id, first_submission_id, location, sightings" + new_rows
            ),
            (before, sub),
        )
        if n > accepted:  # rows that merged into another submission's assertions
            conn.exec_driver_sql(
                d.sql(
                    "INSERT INTO assertion_sources (assertion_id, submission_id, location,"
                    f" sightings) SELECT a.id, ?, s.location, s.sightings FROM {_STAGE_FIRST}"
                    " CROSS JOIN assertions a WHERE o.type = s.type AND o.value = s.value"
                    " AND a.observable_id = o.id AND a.source_org_id = ?"
                    " AND a.threat_type = s.threat_type AND a.first_submission_id <> ?"
                ),
                (sub, src, sub),
            )
        self.counts.accepted += accepted
        self.rows += n

    def _upsert_assertions(self, presorted: bool = False) -> None:
        d, src, sub = self.d, self.source_org_id, self.submission_id
        collist = ", ".join(_ASSERTED)
        picked = ", ".join(f"s.{c}" for c in _ASSERTED)
        self.conn.exec_driver_sql(
            d.sql(
                f"INSERT INTO assertions (observable_id, source_org_id, owner_org_id,"
                f" first_submission_id, last_submission_id, {collist}, {_H_LIST})"
                f" SELECT o.id, ?, ?, ?, ?, {picked}, {_H_SELECT}"
                f" FROM {_STAGE_FIRST} JOIN stage_h h ON h.hid = s.hid"
                " WHERE o.type = s.type AND o.value = s.value"
                f"{'' if presorted else ' ORDER BY o.id'}"
                " ON CONFLICT (observable_id, source_org_id, threat_type) DO UPDATE SET "
                f"{_span(d, 'assertions')},"
                " sightings = assertions.sightings + excluded.sightings,"
                " confidence = coalesce(excluded.confidence, assertions.confidence),"
                f" {_refresh_handling(d, 'assertions')},"
                " last_submission_id = excluded.last_submission_id"
            ),
            (src, src, sub, sub),
        )

    def _write_late(self, late: list[tuple[Any, ...]]) -> None:
        """Rows written in an earlier chunk that merged again: upsert the increase.

        Every merge rule is idempotent (least, greatest, coalesce of the newest, the first
        row's location) except the sightings sum, which late rows carry as an increase.
        """
        d, conn = self.d, self.conn
        self._stage([], late)
        conn.exec_driver_sql(
            d.sql(
                "UPDATE assertion_sources SET sightings = assertion_sources.sightings + l.sightings"
                f" FROM (SELECT a.id AS aid, s.sightings FROM {_STAGE_FIRST} CROSS JOIN assertions a"
                " WHERE o.type = s.type AND o.value = s.value AND a.observable_id = o.id"
                " AND a.source_org_id = ? AND a.threat_type = s.threat_type) AS l"
                " WHERE assertion_sources.assertion_id = l.aid"
                " AND assertion_sources.submission_id = ?"
            ),
            (self.source_org_id, self.submission_id),
        )
        self._upsert_assertions()

    def _merge_staged(
        self,
        table: str,
        columns: tuple[str, ...],
        rows: list[list[Any]],
        *,
        conflict: str,
        update: str,
    ) -> int:
        """Stage rows for ``table`` and upsert them: span, handling and last submission refresh."""
        d, conn = self.d, self.conn
        d.stage(conn, "stage_x", _columns(columns), rows)
        cols = ", ".join(c for c in columns if c != "hid")
        picked = ", ".join(f"s.{c}" for c in columns if c != "hid")
        conn.exec_driver_sql(
            d.sql(
                f"INSERT INTO {table} (source_org_id, first_submission_id, last_submission_id,"
                f" {cols}, {_H_LIST}) SELECT ?, ?, ?, {picked}, {_H_SELECT}"
                " FROM stage_x s JOIN stage_h h ON h.hid = s.hid WHERE true"
                f" ON CONFLICT ({conflict}) DO UPDATE SET {update}, {_span(d, table)},"
                f" {_refresh_handling(d, table)}, last_submission_id = excluded.last_submission_id"
            ),
            (self.source_org_id, self.submission_id, self.submission_id),
        )
        conn.exec_driver_sql("DROP TABLE stage_x")
        return len(rows)
