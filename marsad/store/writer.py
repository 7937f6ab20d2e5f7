"""Merge one submission's row batch into the store with set-based SQL.

Called inside the submission's single transaction: either everything below lands with
the submission marked ingested, or nothing does.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection

from marsad.ingest.batch import (
    ASSERTION_COLUMNS,
    ENTITY_COLUMNS,
    HANDLING_COLUMNS,
    RELATIONSHIP_COLUMNS,
    Batch,
)
from marsad.store.bulk import Dialect

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
    counts = WriteCounts()
    ids = (source_org_id, submission_id, submission_id)
    if batch.assertions or batch.entities or batch.relationships:
        d.stage(conn, "stage_h", _columns(HANDLING_COLUMNS), batch.handling)
    if batch.assertions:
        counts.accepted, counts.merged = _write_assertions(conn, d, batch, ids)
    if batch.entities:
        counts.entities = _merge_staged(
            conn, d, "entities", ENTITY_COLUMNS, batch.entities, ids,
            conflict="ref, source_org_id",
            update="name = excluded.name, kind = excluded.kind,"
            " description = excluded.description, attributes = excluded.attributes",
        )  # fmt: skip
    if batch.relationships:
        counts.relationships = _merge_staged(
            conn, d, "relationships", RELATIONSHIP_COLUMNS, batch.relationships, ids,
            conflict="source_ref, type, target_ref, source_org_id",
            update="count = relationships.count + excluded.count",
        )  # fmt: skip
    if batch.assertions or batch.entities or batch.relationships:
        conn.exec_driver_sql("DROP TABLE stage_h")
    d.executemany(
        conn,
        "INSERT INTO rejections (submission_id, location, reason, raw) VALUES (?, ?, ?, ?)",
        [(submission_id, loc, reason, raw) for loc, reason, raw in batch.rejections],
    )
    return counts


def _merge_staged(
    conn: Connection,
    d: Dialect,
    table: str,
    columns: tuple[str, ...],
    rows: list[list[Any]],
    ids: tuple[int, int, int],
    *,
    conflict: str,
    update: str,
) -> int:
    """Stage rows for ``table`` and upsert them: span, handling and last submission refresh."""
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
        ids,
    )
    conn.exec_driver_sql("DROP TABLE stage_x")
    return len(rows)


def _write_assertions(
    conn: Connection, d: Dialect, batch: Batch, ids: tuple[int, int, int]
) -> tuple[int, int]:
    source_org_id, submission_id, _ = ids
    before = int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM assertions").scalar_one())
    d.stage(conn, "stage_a", _columns(ASSERTION_COLUMNS), batch.assertions)
    conn.exec_driver_sql(
        "INSERT INTO observables (type, value, registered_domain)"
        " SELECT type, value, registered_domain FROM stage_a WHERE true"
        " ON CONFLICT (type, value) DO NOTHING"
    )
    cols = (
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
    collist = ", ".join(cols)
    picked = ", ".join(f"s.{c}" for c in cols)
    conn.exec_driver_sql(
        d.sql(
            f"INSERT INTO assertions (observable_id, source_org_id, owner_org_id,"
            f" first_submission_id, last_submission_id, {collist}, {_H_LIST})"
            f" SELECT o.id, ?, ?, ?, ?, {picked}, {_H_SELECT}"
            f" FROM {_STAGE_FIRST} JOIN stage_h h ON h.hid = s.hid"
            " WHERE o.type = s.type AND o.value = s.value"
            " ON CONFLICT (observable_id, source_org_id, threat_type) DO UPDATE SET "
            f"{_span(d, 'assertions')},"
            " sightings = assertions.sightings + excluded.sightings,"
            " confidence = coalesce(excluded.confidence, assertions.confidence),"
            f" {_refresh_handling(d, 'assertions')},"
            " last_submission_id = excluded.last_submission_id"
        ),
        (source_org_id, source_org_id, submission_id, submission_id),
    )
    # New rows have ids above the old maximum and this submission as their first; their
    # provenance comes straight from the rows, without joining the staged values again.
    new_rows = " FROM assertions WHERE id > ? AND first_submission_id = ?"
    accepted = int(
        conn.exec_driver_sql(
            d.sql("SELECT count(*)" + new_rows), (before, submission_id)
        ).scalar_one()
    )
    conn.exec_driver_sql(
        d.sql(
            "INSERT INTO assertion_sources (assertion_id, submission_id, location, sightings)"
            " SELECT id, first_submission_id, location, sightings" + new_rows
        ),
        (before, submission_id),
    )
    merged = len(batch.assertions) - accepted
    if merged:
        conn.exec_driver_sql(
            d.sql(
                "INSERT INTO assertion_sources (assertion_id, submission_id, location, sightings)"
                f" SELECT a.id, ?, s.location, s.sightings FROM {_STAGE_FIRST}"
                " CROSS JOIN assertions a WHERE o.type = s.type AND o.value = s.value"
                " AND a.observable_id = o.id AND a.source_org_id = ?"
                " AND a.threat_type = s.threat_type AND a.first_submission_id <> ?"
            ),
            (submission_id, source_org_id, submission_id),
        )
    conn.exec_driver_sql("DROP TABLE stage_a")
    return accepted, merged
