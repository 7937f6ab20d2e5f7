"""Assertions in TAXII order: by date added, then id, with the access policy in the query.

An assertion's *date added* is the completion time of the submission that last wrote it
(``last_submission_id``): that is when its current version became readable, so a client
bookmarking the newest date added it saw never misses a later change. Pages are keyset
pages on (date added, submission id, assertion id), served from two indexes (migration
0003), so page 1,000 costs what page 1 costs. A page is read in at most two queries: the
rest of the submission the cursor sits in, then the submissions after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Select, and_, or_, select

from marsad.access.policy import Grant
from marsad.store.schema import assertions, observables, organisations, submissions
from marsad.store.store import Store
from marsad.store.visibility import visible

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the last row's date added, submission id and assertion id."""

    added: dt.datetime
    submission_id: int
    assertion_id: int


class PageQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What a caller asks of a collection (the policy's grant is passed beside it)."""

    tlp: int | None = None  # the collection's TLP rank; None: every TLP
    added_after: dt.datetime | None = None
    ids: tuple[int, ...] | None = None  # assertion ids (match[id]); None: any
    versions: tuple[dt.datetime, ...] | None = None  # exact dates added; None: any
    exclude_sources: tuple[int, ...] = ()  # e.g. what a peer sent us is not pushed back
    after: Cursor | None = None
    limit: int = 1000


def _base(grant: Grant, q: PageQuery) -> tuple[Select[Any], list[Any]]:
    query = (
        select(
            assertions.c.id,
            assertions.c.threat_type,
            assertions.c.first_seen,
            assertions.c.last_seen,
            assertions.c.sightings,
            assertions.c.confidence,
            assertions.c.tlp,
            assertions.c.pap,
            assertions.c.releasable_to,
            assertions.c.reliability,
            assertions.c.credibility,
            assertions.c.purpose,
            assertions.c.retain_until,
            assertions.c.review_at,
            assertions.c.name,
            assertions.c.description,
            assertions.c.revoked_at,
            assertions.c.last_submission_id.label("submission_id"),
            submissions.c.completed_at.label("added"),
            observables.c.type.label("obs_type"),
            observables.c.value.label("obs_value"),
            organisations.c.name.label("source"),
        )
        .select_from(submissions)
        .join(assertions, assertions.c.last_submission_id == submissions.c.id)
        .join(observables, observables.c.id == assertions.c.observable_id)
        .join(organisations, organisations.c.id == assertions.c.source_org_id)
    )
    # A range on the index (not IS NOT NULL) makes SQLite drive the join from submissions in
    # date order, so ORDER BY needs no sort and LIMIT stops the scan early.
    conds: list[Any] = [visible(grant, assertions), submissions.c.completed_at >= _EPOCH]
    if q.tlp is not None:
        conds.append(assertions.c.tlp == q.tlp)
    if q.added_after is not None:
        conds.append(submissions.c.completed_at > q.added_after)
    if q.ids is not None:
        conds.append(assertions.c.id.in_(q.ids))
    if q.versions is not None:
        conds.append(submissions.c.completed_at.in_(q.versions))
    if q.exclude_sources:
        conds.append(assertions.c.source_org_id.not_in(q.exclude_sources))
    return query, conds


def page(store: Store, grant: Grant, q: PageQuery) -> list[Any]:
    """Up to ``q.limit`` rows the grant covers, in (date added, submission, id) order."""
    if (
        q.limit <= 0
        or (q.ids is not None and not q.ids)
        or (q.versions is not None and not q.versions)
    ):
        return []
    query, conds = _base(grant, q)
    order = (submissions.c.completed_at, submissions.c.id, assertions.c.id)
    rows: list[Any] = []
    with store.engine.connect() as conn:
        after = q.after
        if after is not None:  # the rest of the submission the previous page ended in
            rest = query.where(
                *conds,
                assertions.c.last_submission_id == after.submission_id,
                submissions.c.id == after.submission_id,
                assertions.c.id > after.assertion_id,
            )
            rows = list(conn.execute(rest.order_by(assertions.c.id).limit(q.limit)))
            if len(rows) == q.limit:
                return rows
            conds += [
                submissions.c.completed_at >= after.added,
                or_(
                    submissions.c.completed_at > after.added,
                    and_(
                        submissions.c.completed_at == after.added,
                        submissions.c.id > after.submission_id,
                    ),
                ),
            ]
        more = query.where(*conds).order_by(*order).limit(q.limit - len(rows))
        rows += conn.execute(more).all()
    return rows


def cursor_of(row: Any) -> Cursor:
    """The cursor just after this row."""
    return Cursor(added=row.added, submission_id=row.submission_id, assertion_id=row.id)


def one(store: Store, grant: Grant, assertion_id: int, tlp: int | None) -> Any | None:
    """One assertion by id if the grant covers it (and it is in the collection)."""
    rows = page(store, grant, PageQuery(tlp=tlp, ids=(assertion_id,), limit=1))
    return rows[0] if rows else None


def existing_ids(store: Store, ids: Sequence[int]) -> set[int]:
    """Which of these assertion ids exist at all (to tell a denial from a miss, for audit)."""
    if not ids:
        return set()
    with store.engine.connect() as conn:
        return {r[0] for r in conn.execute(select(assertions.c.id).where(assertions.c.id.in_(ids)))}
