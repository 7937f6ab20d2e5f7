"""Read paths for the API: pages of records, bulk lookups, observables, submissions.

Every function takes the caller's `Grant` and applies `visible(grant, …)` (or, for
submissions, the grant's own organisations) inside the SQL, so nothing the policy denies
ever leaves the database. Pages are keyset pages on the id: ``after`` is the last id the
caller has, and a page asks for one row more than it returns to know whether more follow.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Text,
    and_,
    any_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)

from marsad.access.policy import Grant
from marsad.model.handling import TLP, Handling
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import ThreatType
from marsad.store.bulk import as_utc
from marsad.store.schema import assertions, entities, observables, organisations, relationships
from marsad.store.schema import submissions as submissions_t
from marsad.store.store import (
    Store,
    StoredAssertion,
    SubmissionRow,
    _assertion_query,  # one definition of how a row becomes a record, shared with Store
    _stored,
    _submission,
    _submission_query,
    handling_of,
)
from marsad.store.visibility import visible as _visible_predicate

visible = functools.lru_cache(maxsize=512)(_visible_predicate)
"""The policy's SQL predicate, built once per grant and table: building it costs more than
the query it filters (a grant is immutable and hashable; expressions are reusable)."""

LOOKUP_BATCH = 10_000
"""Values per lookup query: under SQLite's 32,766 bind parameters; one array on PostgreSQL."""


class AssertionQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters over assertions. Records with no time are kept by a time window, as in export."""

    types: tuple[ObservableType, ...] = ()
    threat_types: tuple[ThreatType, ...] = ()
    sources: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2 of the source organisation
    since: dt.datetime | None = None  # last seen on or after
    until: dt.datetime | None = None  # first seen on or before
    max_tlp: TLP | None = None


class ObservableRow(msgspec.Struct, frozen=True, kw_only=True):
    """An observable with how many assertions about it the caller may see."""

    id: int
    type: ObservableType
    value: str
    registered_domain: str | None
    assertions: int


class EntityRow(msgspec.Struct, frozen=True, kw_only=True):
    """An entity (threat actor, campaign, report, …) as one source described it."""

    id: int
    ref: str
    kind: str
    name: str
    description: str | None
    attributes: dict[str, Any]
    source: str
    handling: Handling
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None


class RelationshipRow(msgspec.Struct, frozen=True, kw_only=True):
    """A typed edge between two refs, as one source stated it."""

    id: int
    source_ref: str
    type: str
    target_ref: str
    source: str
    stix_id: str | None
    attributes: dict[str, Any]
    count: int
    handling: Handling
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _assertion_conds(grant: Grant, q: AssertionQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [visible(grant, assertions)]
    if q.types:
        conds.append(observables.c.type.in_([t.value for t in q.types]))
    if q.threat_types:
        conds.append(assertions.c.threat_type.in_([t.value for t in q.threat_types]))
    if q.sources:
        conds.append(organisations.c.name.in_(q.sources))
    if q.countries:
        conds.append(organisations.c.country.in_([c.upper() for c in q.countries]))
    if q.since is not None:
        conds.append(or_(assertions.c.last_seen >= _utc(q.since), assertions.c.last_seen.is_(None)))
    if q.until is not None:
        conds.append(
            or_(assertions.c.first_seen <= _utc(q.until), assertions.c.first_seen.is_(None))
        )
    if q.max_tlp is not None:
        conds.append(assertions.c.tlp <= q.max_tlp.rank)
    return conds


def assertion_page(
    store: Store, grant: Grant, q: AssertionQuery, *, after: int = 0, limit: int = 100
) -> list[StoredAssertion]:
    """Up to ``limit`` + 1 visible assertions with id > ``after``, in id order."""
    query = (
        _assertion_query()
        .where(assertions.c.id > after, *_assertion_conds(grant, q))
        .order_by(assertions.c.id)
        .limit(limit + 1)
    )
    with store.engine.connect() as conn:
        return [_stored(r) for r in conn.execute(query)]


def iter_assertions(
    store: Store, grant: Grant, q: AssertionQuery, batch: int = 10000
) -> Iterator[StoredAssertion]:
    """Every visible assertion matching the filters, streamed in id order."""
    after = 0
    while True:
        page = assertion_page(store, grant, q, after=after, limit=batch - 1)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


def assertion_by_id(store: Store, grant: Grant, assertion_id: int) -> StoredAssertion | None:
    """One assertion, or None when it does not exist or the grant does not cover it."""
    query = _assertion_query().where(assertions.c.id == assertion_id, visible(grant, assertions))
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return _stored(row) if row else None


def exists(store: Store, table_name: str, record_id: int) -> bool:
    """Whether a record exists at all (for the audit log only; never shown to the caller)."""
    table = {"assertions": assertions, "entities": entities, "relationships": relationships}[
        table_name
    ]
    with store.engine.connect() as conn:
        return conn.execute(select(table.c.id).where(table.c.id == record_id)).first() is not None


def _value_in(store: Store, values: list[str]) -> ColumnElement[bool]:
    """``value IN (…)``: one array parameter on PostgreSQL (no per-value bind to render)."""
    if store.dialect.sqlite:
        return observables.c.value.in_(values)
    return observables.c.value == any_(cast(literal(values, ARRAY(Text)), ARRAY(Text)))


def lookup(
    store: Store, grant: Grant, wanted: Sequence[Observable], batch: int = LOOKUP_BATCH
) -> list[StoredAssertion]:
    """Visible assertions about any of ``wanted``: one query per batch of values, by type."""
    keys = sorted(set(wanted))
    found: list[StoredAssertion] = []
    with store.engine.connect() as conn:
        for start in range(0, len(keys), batch):
            by_type: dict[ObservableType, list[str]] = defaultdict(list)
            for obs in keys[start : start + batch]:
                by_type[obs.type].append(obs.value)
            match = or_(
                false(),
                *(
                    and_(observables.c.type == t.value, _value_in(store, values))
                    for t, values in by_type.items()
                ),
            )
            query = _assertion_query().where(match, visible(grant, assertions))
            found += [_stored(r) for r in conn.execute(query)]
    found.sort(key=lambda a: a.id)
    return found


def observable_page(
    store: Store,
    grant: Grant,
    *,
    type: ObservableType | None = None,
    registered_domain: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[ObservableRow]:
    """Observables with at least one visible assertion (others are not known to exist)."""
    count = func.count(assertions.c.id)
    query = (
        select(observables, count.label("n"))
        .join(assertions, assertions.c.observable_id == observables.c.id)
        .where(observables.c.id > after, visible(grant, assertions))
        .group_by(observables.c.id)
        .order_by(observables.c.id)
        .limit(limit + 1)
    )
    if type is not None:
        query = query.where(observables.c.type == type.value)
    if registered_domain is not None:
        query = query.where(observables.c.registered_domain == registered_domain)
    with store.engine.connect() as conn:
        return [
            ObservableRow(
                id=r.id, type=ObservableType(r.type), value=r.value,
                registered_domain=r.registered_domain, assertions=r.n,
            )
            for r in conn.execute(query)
        ]  # fmt: skip


def _entity_query() -> Any:
    return select(entities, organisations.c.name.label("source_name")).join(
        organisations, organisations.c.id == entities.c.source_org_id
    )


def _entity(r: Any) -> EntityRow:
    return EntityRow(
        id=r.id, ref=r.ref, kind=r.kind, name=r.name, description=r.description,
        attributes=orjson.loads(r.attributes), source=r.source_name, handling=handling_of(r),
        first_seen=as_utc(r.first_seen), last_seen=as_utc(r.last_seen),
    )  # fmt: skip


def entity_page(
    store: Store,
    grant: Grant,
    *,
    kind: str | None = None,
    ref: str | None = None,
    source: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[EntityRow]:
    """Up to ``limit`` + 1 visible entities with id > ``after``, in id order."""
    query = (
        _entity_query()
        .where(entities.c.id > after, visible(grant, entities))
        .order_by(entities.c.id)
        .limit(limit + 1)
    )
    for column, wanted in ((entities.c.kind, kind), (entities.c.ref, ref),
                           (organisations.c.name, source)):  # fmt: skip
        if wanted is not None:
            query = query.where(column == wanted)
    with store.engine.connect() as conn:
        return [_entity(r) for r in conn.execute(query)]


def _relationship_query() -> Any:
    return select(relationships, organisations.c.name.label("source_name")).join(
        organisations, organisations.c.id == relationships.c.source_org_id
    )


def _relationship(r: Any) -> RelationshipRow:
    return RelationshipRow(
        id=r.id, source_ref=r.source_ref, type=r.type, target_ref=r.target_ref,
        source=r.source_name, stix_id=r.stix_id, attributes=orjson.loads(r.attributes),
        count=r.count, handling=handling_of(r), first_seen=as_utc(r.first_seen),
        last_seen=as_utc(r.last_seen),
    )  # fmt: skip


def relationship_page(
    store: Store,
    grant: Grant,
    *,
    ref: str | None = None,
    type: str | None = None,
    source: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[RelationshipRow]:
    """Visible relationships (touching ``ref`` at either end, if given), in id order."""
    query = (
        _relationship_query()
        .where(relationships.c.id > after, visible(grant, relationships))
        .order_by(relationships.c.id)
        .limit(limit + 1)
    )
    if ref is not None:
        query = query.where(
            or_(relationships.c.source_ref == ref, relationships.c.target_ref == ref)
        )
    if type is not None:
        query = query.where(relationships.c.type == type)
    if source is not None:
        query = query.where(organisations.c.name == source)
    with store.engine.connect() as conn:
        return [_relationship(r) for r in conn.execute(query)]


def own_submissions(grant: Grant) -> ColumnElement[bool]:
    """Submissions the grant covers: an organisation's own; everything for the operator."""
    if grant.everything:
        return true()
    if not grant.own_org_ids:
        return false()
    return submissions_t.c.source_org_id.in_(sorted(grant.own_org_ids))


def submission_page(
    store: Store, grant: Grant, *, after: int | None = None, limit: int = 50
) -> list[SubmissionRow]:
    """Up to ``limit`` + 1 own submissions, newest first (ids below ``after``)."""
    query = (
        _submission_query()
        .where(own_submissions(grant))
        .order_by(submissions_t.c.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(submissions_t.c.id < after)
    with store.engine.connect() as conn:
        return [_submission(r) for r in conn.execute(query)]


def submission_of(store: Store, grant: Grant, submission_id: int) -> SubmissionRow | None:
    """One submission if the grant covers it, else None."""
    query = _submission_query().where(submissions_t.c.id == submission_id, own_submissions(grant))
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return _submission(row) if row else None
