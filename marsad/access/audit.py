"""The audit log: append-only and hash-chained, so an edited or removed entry shows.

Each entry's hash covers its id, its content and the previous entry's hash. The database
refuses UPDATE and DELETE on the table (triggers from the migration); `verify` catches
what bypasses them (a restored file, a superuser). Truncating the newest entries leaves a
valid shorter chain: `verify(expect_head=…)` compares with a head recorded elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import msgspec
import orjson
from sqlalchemy import Connection, insert, select, text

from marsad.access.policy import Viewer
from marsad.store.bulk import as_utc
from marsad.store.schema import audit_log
from marsad.store.store import Store

GENESIS = "0" * 64


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audited event."""

    id: int
    at: dt.datetime
    actor: str
    org: str | None
    action: str
    target: str
    purpose: str | None
    outcome: str
    details: dict[str, Any]
    hash: str


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of verifying the chain."""

    ok: bool
    entries: int
    head: str
    first_bad_id: int | None = None
    problem: str | None = None


def _digest(prev: str, entry_id: int, fields: dict[str, Any]) -> str:
    body = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{prev}|{entry_id}|".encode() + body).hexdigest()


def _fields(at: dt.datetime, actor: str, org: str | None, action: str, target: str,
            purpose: str | None, outcome: str, details: str) -> dict[str, Any]:  # fmt: skip
    return {
        "at": as_utc(at).isoformat(),  # type: ignore[union-attr]
        "actor": actor,
        "org": org,
        "action": action,
        "target": target,
        "purpose": purpose,
        "outcome": outcome,
        "details": details,
    }


def id_summary(ids: list[int], keep: int = 10000) -> dict[str, Any]:
    """What was read, for the record: the ids themselves, or their count and digest."""
    digest = hashlib.sha256(b",".join(str(i).encode() for i in ids)).hexdigest()
    return {"count": len(ids), "ids_sha256": digest, "ids": ids if len(ids) <= keep else None}


def _printable(value: str) -> str:
    """NUL cannot be stored in PostgreSQL text; an attempt that carried one is still recorded."""
    return value.replace("\x00", "\\x00")


def append(
    conn: Connection,
    *,
    actor: str,
    org: str | None,
    action: str,
    target: str,
    outcome: str = "allow",
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's transaction; writers are serialised."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7262237)"))  # one chain, one writer
    last = conn.execute(
        select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
    ).first()
    actor, action, target = _printable(actor), _printable(action), _printable(target)[:2000]
    org = _printable(org) if org is not None else None
    purpose = _printable(purpose) if purpose is not None else None
    prev = last.hash if last else GENESIS
    entry_id = (last.id if last else 0) + 1
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    blob = orjson.dumps(details or {}, option=orjson.OPT_SORT_KEYS).decode()
    fields = _fields(at, actor, org, action, target, purpose, outcome, blob)
    conn.execute(
        insert(audit_log).values(
            id=entry_id, at=at, actor=actor, org=org, action=action, target=target,
            purpose=purpose, outcome=outcome, details=blob, prev_hash=prev,
            hash=_digest(prev, entry_id, fields),
        )
    )  # fmt: skip
    return entry_id


def record(
    store: Store,
    viewer: Viewer,
    action: str,
    target: str,
    *,
    actor: str | None = None,
    outcome: str = "allow",
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry in its own transaction, for the viewer acting."""
    with store.engine.begin() as conn:
        return append(
            conn,
            actor=actor or viewer.label,
            org=viewer.org_name,
            action=action,
            target=target,
            outcome=outcome,
            purpose=purpose,
            details=details,
        )


def entries(
    store: Store,
    *,
    actor: str | None = None,
    org: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries matching the filters, newest first."""
    c = audit_log.c
    conds: list[Any] = [
        col == wanted
        for col, wanted in (
            (c.actor, actor),
            (c.org, org),
            (c.action, action),
            (c.outcome, outcome),
        )
        if wanted is not None
    ]
    if since is not None:
        conds.append(c.at >= since)
    query = select(audit_log).where(*conds).order_by(c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [_entry(r) for r in conn.execute(query)]


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        id=r.id, at=as_utc(r.at), actor=r.actor, org=r.org, action=r.action,  # type: ignore[arg-type]
        target=r.target, purpose=r.purpose, outcome=r.outcome,
        details=orjson.loads(r.details), hash=r.hash,
    )  # fmt: skip


def _rows(store: Store, batch: int = 20000) -> Iterator[Any]:
    last = 0
    with store.engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(audit_log).where(audit_log.c.id > last).order_by(audit_log.c.id).limit(batch)
            ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].id


def verify(store: Store, expect_head: str | None = None) -> ChainReport:
    """Recompute the chain from the first entry; report the first entry that breaks it."""
    prev, count, expected_id = GENESIS, 0, 1
    for r in _rows(store):
        fields = _fields(r.at, r.actor, r.org, r.action, r.target, r.purpose, r.outcome, r.details)
        problem = None
        if r.id != expected_id:
            problem = f"entry {expected_id} is missing (next entry is {r.id})"
        elif r.prev_hash != prev:
            problem = f"entry {r.id} does not follow the previous entry (removed or reordered)"
        elif r.hash != _digest(prev, r.id, fields):
            problem = f"entry {r.id} was altered after it was written"
        if problem:
            return ChainReport(
                ok=False, entries=count, head=prev, first_bad_id=r.id, problem=problem
            )
        prev, count, expected_id = r.hash, count + 1, r.id + 1
    if expect_head is not None and expect_head != prev:
        return ChainReport(
            ok=False, entries=count, head=prev,
            problem=f"the chain ends at {prev[:16]}…, not at the expected head {expect_head[:16]}…",
        )  # fmt: skip
    return ChainReport(ok=True, entries=count, head=prev)
