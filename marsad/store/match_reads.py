"""Bulk match, the store's half: stage the keys, join them in SQL under the policy.

The distinct keys go into a temporary table (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) in index order, and one join against the ``(type, value)`` index of
observables and then assertions, filtered by `visible(grant, …)`, returns the hits. A
second join returns, for keys whose records the viewer may not see, only the owners
who chose "exists, ask the owner". Sightings are written back per assertion and
matching organisation, so the sources learn that their data was seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    case,
    false,
    or_,
    select,
    true,
    type_coerce,
)

from marsad.access import audit
from marsad.access.policy import Grant, Viewer
from marsad.formats.gcpause import gc_paused
from marsad.store.bulk import as_utc
from marsad.store.correlation_reads import disclosable, owners
from marsad.store.reads import visible
from marsad.store.schema import (
    assertion_sources,
    assertions,
    observables,
    organisations,
    sightings,
    submissions,
)
from marsad.store.store import PAP_BY_RANK, TLP_BY_RANK, Store, StoredAssertion

KEYS = "match_keys"
match_keys = Table(
    KEYS, MetaData(), Column("k", BigInteger), Column("type", String(20)), Column("value", Text)
)


class HitRow(msgspec.Struct, frozen=True, kw_only=True):
    """One visible assertion about one matched key."""

    key: int
    assertion_id: int
    threat_type: str
    source: str
    tlp: str
    pap: str
    grading: str
    first_seen: str | None  # ISO text: hits are many, and go out as text (CSV, JSON)
    last_seen: str | None


class SightingRow(msgspec.Struct, frozen=True, kw_only=True):
    """An owner's record seen in another organisation's data."""

    assertion_id: int
    type: str
    value: str
    threat_type: str
    seen_by: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


def _stage(store: Store, conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
    """Load the keys in index order: the join then probes the index sequentially, which
    halves its cost once the index outgrows the cache (sorting strings alone is cheap)."""
    values = [v for _, v in keys]
    order = sorted(range(len(keys)), key=values.__getitem__)
    rows = [(k, keys[k][0], values[k]) for k in order]
    store.dialect.stage(conn, KEYS, [("k", "BIGINT"), ("type", "TEXT"), ("value", "TEXT")], rows)
    if not store.dialect.sqlite:
        conn.exec_driver_sql(f"ANALYZE {KEYS}")


def _text(value: Any) -> str | None:
    """A stored time as ISO text (SQLite hands back its text, PostgreSQL a datetime)."""
    if value is None or isinstance(value, str):
        return value
    return str(as_utc(value).isoformat())  # type: ignore[union-attr]


def find(
    store: Store, grant: Grant, keys: Sequence[tuple[str, str]]
) -> tuple[list[HitRow], list[tuple[int, str]]]:
    """Visible hits per key, and (key, owner) of the disclosable records the grant misses.

    One pass over the keys: the join keeps rows the grant covers or whose owner discloses
    them, and says which is which; of the second kind only the key and owner leave here.
    """
    if not keys:
        return [], []
    a, k = assertions.c, match_keys.c
    seen = visible(grant, assertions)
    ask = disclosable(grant) if not grant.everything and grant.own_org_ids else None
    joined = (
        match_keys.join(
            observables, (observables.c.type == k.type) & (observables.c.value == k.value)
        )
        .join(assertions, a.observable_id == observables.c.id)
        .join(organisations, organisations.c.id == a.source_org_id)
    )
    columns: list[Any] = [k.k, a.id, a.threat_type, organisations.c.name, a.tlp, a.pap,
                          a.reliability, a.credibility, type_coerce(a.first_seen, Text),
                          type_coerce(a.last_seen, Text)]  # fmt: skip
    if ask is None:
        query = select(*columns, true()).select_from(joined).where(seen)
    else:
        joined = joined.join(owners, owners.c.id == a.owner_org_id)
        query = (
            select(*columns, case((seen, true()), else_=false()), owners.c.name)
            .select_from(joined)
            .where(or_(seen, ask))
        )
    with gc_paused(), store.engine.begin() as conn:
        _stage(store, conn, keys)
        result = conn.execute(query)
        found: Sequence[Any] = result.cursor.fetchall()  # plain tuples: no Row per hit
        result.close()
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {KEYS}")
        hits, asked = _rows(found)
    return hits, sorted(asked)


def _rows(found: Sequence[Any]) -> tuple[list[HitRow], set[tuple[int, str]]]:
    hits: list[HitRow] = []
    asked: set[tuple[int, str]] = set()
    tlp, pap = [t.label for t in TLP_BY_RANK], [p.label for p in PAP_BY_RANK]
    for r in found:
        if not r[10]:
            asked.add((int(r[0]), str(r[11])))  # nothing else of a record one may not see
            continue
        hits.append(
            HitRow(
                key=r[0], assertion_id=r[1], threat_type=r[2], source=r[3], tlp=tlp[r[4]],
                pap=pap[r[5]], grading=f"{r[6]}{r[7]}", first_seen=_text(r[8]),
                last_seen=_text(r[9]),
            )
        )  # fmt: skip
    return hits, asked  # in no particular order: callers sort what they show


def stored_views(store: Store, grant: Grant, ids: Sequence[int]) -> Iterator[StoredAssertion]:
    """Full records of hit assertions (for STIX), the policy applied again."""
    from marsad.store.store import _assertion_query, _stored  # one row-to-record definition

    with store.engine.connect() as conn:
        for start in range(0, len(ids), 5000):
            chunk = list(ids[start : start + 5000])
            query = _assertion_query().where(assertions.c.id.in_(chunk), visible(grant, assertions))
            for row in conn.execute(query):
                yield _stored(row)


def record_sightings(
    store: Store, viewer: Viewer, counts: Sequence[tuple[int, int]], target: str, now: dt.datetime
) -> int:
    """Add this organisation's sightings of these assertions, audited in the same transaction."""
    if viewer.org_id is None or not counts:
        return 0
    when = store.dialect.time(now)
    rows = [(aid, viewer.org_id, n, when, when) for aid, n in counts]
    sql = (
        "INSERT INTO sightings (assertion_id, org_id, count, first_at, last_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (assertion_id, org_id) DO UPDATE SET "
        "count = sightings.count + excluded.count, last_at = excluded.last_at"
    )
    with store.engine.begin() as conn:
        store.dialect.executemany(conn, sql, rows)
        audit.append(conn, actor=viewer.label, org=viewer.org_name, action="sighting",
                     target=target, details=audit.id_summary([aid for aid, _ in counts]))  # fmt: skip
    return len(rows)


def sightings_of(
    store: Store, grant: Grant, limit: int = 1000, submission_id: int | None = None
) -> list[SightingRow]:
    """Sightings of the viewer's own records (as owner or source), newest first; with
    ``submission_id``, of the records that submission stated (its source asks)."""
    seen_by = organisations.alias("seen_by")
    s, a = sightings.c, assertions.c
    query = (
        select(s.assertion_id, observables.c.type, observables.c.value, a.threat_type,
               seen_by.c.name, s.count, s.first_at, s.last_at)
        .join(assertions, a.id == s.assertion_id)
        .join(observables, observables.c.id == a.observable_id)
        .join(seen_by, seen_by.c.id == s.org_id)
        .order_by(s.last_at.desc(), s.assertion_id)
        .limit(limit)
    )  # fmt: skip
    if submission_id is not None:
        stated = (
            select(assertion_sources.c.assertion_id)
            .join(submissions, submissions.c.id == assertion_sources.c.submission_id)
            .where(assertion_sources.c.submission_id == submission_id)
        )
        if not grant.everything:
            stated = stated.where(submissions.c.source_org_id.in_(sorted(grant.own_org_ids)))
        query = query.where(s.assertion_id.in_(stated))
    elif not grant.everything:
        own = sorted(grant.own_org_ids)
        query = query.where(or_(a.owner_org_id.in_(own), a.source_org_id.in_(own)))
    with store.engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return [
        SightingRow(assertion_id=int(r[0]), type=r[1], value=r[2], threat_type=r[3], seen_by=r[4],
                    count=int(r[5]), first_at=as_utc(r[6]) or r[6], last_at=as_utc(r[7]) or r[7])
        for r in rows
    ]  # fmt: skip
