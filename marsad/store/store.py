"""The store: one small interface over SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError, OperationalError

from marsad.access.policy import Grant, Role, Viewer
from marsad.model.handling import PAP, TLP, Handling, Purpose, Region, Releasability
from marsad.model.observable import Observable, ObservableType
from marsad.model.organisation import Organisation, OrgKind
from marsad.model.records import AssertionView, ThreatType
from marsad.store import migrate
from marsad.store.bulk import Dialect, as_utc
from marsad.store.engine import StoreError, make_engine
from marsad.store.schema import (
    assertion_sources,
    assertions,
    blobs,
    observables,
    organisations,
    rejections,
    submissions,
)
from marsad.store.visibility import visible

TLP_BY_RANK = tuple(TLP)
PAP_BY_RANK = tuple(PAP)


class OrgRow(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as stored."""

    id: int
    name: str
    kind: OrgKind
    country: str | None
    region: Region | None
    parent: str | None = None


class SubmissionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A submission as stored (raw bytes not included)."""

    id: int
    source: str
    sha256: str
    size: int
    filename: str | None
    format: str | None
    status: str
    received_at: dt.datetime
    completed_at: dt.datetime | None
    records: int
    accepted: int
    merged: int
    rejected: int
    entities: int
    relationships: int
    error: str | None


class RejectionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A quarantined record: where it was, why it failed, and its raw text."""

    location: str
    reason: str
    raw: str


class StoredAssertion(msgspec.Struct, frozen=True, kw_only=True):
    """An assertion with its store identity and provenance."""

    id: int
    view: AssertionView
    first_submission_id: int
    last_submission_id: int


class ExportFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which assertions an export takes."""

    types: tuple[ObservableType, ...] = ()
    threat_types: tuple[ThreatType, ...] = ()
    sources: tuple[str, ...] = ()
    since: dt.datetime | None = None
    max_tlp: TLP | None = None


def handling_of(row: Any) -> Handling:
    """Rebuild a Handling from a row that has the handling columns."""
    return Handling(
        tlp=TLP_BY_RANK[row.tlp],
        pap=PAP_BY_RANK[row.pap],
        releasable_to=Releasability.from_tokens(orjson.loads(row.releasable_to)),
        reliability=row.reliability,
        credibility=row.credibility,
        purpose=Purpose(row.purpose),
        retain_until=_date(row.retain_until),
        review_at=_date(row.review_at),
    )


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class Store:
    """Marsad's persistent state behind one interface, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = Dialect(engine.dialect.name)

    @classmethod
    def open(cls, url: str, *, create: bool = False) -> Store:
        """Open an instance; with ``create`` run the migrations, else insist they ran."""
        store = cls(make_engine(url))
        try:
            if create:
                migrate.upgrade(store.engine)
            elif migrate.current_revision(store.engine) != migrate.head_revision():
                raise StoreError(
                    "the database has no Marsad schema or an old one: run `marsad init` first"
                )
        except OperationalError as exc:
            raise StoreError(f"cannot open the database: {exc.orig}") from None
        return store

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    # organisations -------------------------------------------------------------------
    def add_org(self, org: Organisation, parent: str | None = None) -> OrgRow:
        """Register an organisation; names are unique; ``parent`` makes it a sub-unit."""
        parent_id = self.org(parent).id if parent else None
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    insert(organisations).values(
                        name=org.name,
                        kind=org.kind.value,
                        country=org.country,
                        region=org.region.value if org.region else None,
                        created_at=dt.datetime.now(dt.UTC),
                        parent_org_id=parent_id,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError:
            raise StoreError(f"an organisation named {org.name!r} already exists") from None
        return OrgRow(
            id=new_id,
            name=org.name,
            kind=org.kind,
            country=org.country,
            region=org.region,
            parent=parent,
        )

    def viewer(self, name: str, role: Role = Role.ANALYST) -> Viewer:
        """The policy's view of an organisation: kind, region and the units above it."""
        orgs = {o.name: o for o in self.list_orgs()}
        if name not in orgs:
            raise StoreError(f"no organisation named {name!r} (see `marsad org list`)")
        me, parents = orgs[name], []
        up = me.parent
        while up is not None and up not in parents and up != name:
            parents.append(up)
            up = orgs[up].parent
        return Viewer(
            org_id=me.id,
            org_name=me.name,
            kind=me.kind,
            region=me.region.value if me.region else None,
            parents=tuple(parents),
            role=role,
        )

    def list_orgs(self) -> list[OrgRow]:
        """All organisations by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(organisations).order_by(organisations.c.name)).all()
        names = {r.id: r.name for r in rows}
        return [_org(r, names.get(r.parent_org_id)) for r in rows]

    def org(self, name: str) -> OrgRow:
        """The organisation called ``name``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(organisations).where(organisations.c.name == name)).first()
        if row is None:
            raise StoreError(f"no organisation named {name!r} (see `marsad org list`)")
        return _org(row)

    # submissions ---------------------------------------------------------------------
    def find_submission(self, source_org_id: int, sha256: str) -> SubmissionRow | None:
        """The submission of these exact bytes from this source, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                _submission_query().where(
                    submissions.c.source_org_id == source_org_id, submissions.c.sha256 == sha256
                )
            ).first()
        return _submission(row) if row else None

    def receive(
        self,
        *,
        source_org_id: int,
        raw: bytes,
        sha256: str,
        filename: str | None,
        defaults: Handling,
        received_at: dt.datetime,
        existing: int | None,
    ) -> int:
        """Keep the raw bytes and a pending submission row, committed before any parsing."""
        with self.engine.begin() as conn:
            if conn.execute(select(blobs.c.sha256).where(blobs.c.sha256 == sha256)).first() is None:
                conn.execute(insert(blobs).values(sha256=sha256, size=len(raw), data=raw))
            values = {
                "filename": filename,
                "status": "pending",
                "defaults": msgspec.json.encode(defaults).decode(),
                "received_at": received_at,
                "completed_at": None,
                "error": None,
            }
            if existing is not None:
                conn.execute(
                    update(submissions).where(submissions.c.id == existing).values(**values)
                )
                conn.execute(rejections.delete().where(rejections.c.submission_id == existing))
                return existing
            return int(
                conn.execute(
                    insert(submissions).values(
                        source_org_id=source_org_id, sha256=sha256, size=len(raw), **values
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )

    def finish(self, conn: Connection, submission_id: int, **values: Any) -> None:
        """Record a submission's outcome inside the caller's transaction."""
        values.setdefault("completed_at", dt.datetime.now(dt.UTC))
        conn.execute(update(submissions).where(submissions.c.id == submission_id).values(**values))

    def list_submissions(
        self, *, source: str | None = None, limit: int = 50
    ) -> list[SubmissionRow]:
        """Newest submissions first."""
        query = _submission_query().order_by(submissions.c.id.desc()).limit(limit)
        if source:
            query = query.where(organisations.c.name == source)
        with self.engine.connect() as conn:
            return [_submission(r) for r in conn.execute(query).all()]

    def submission(self, submission_id: int) -> SubmissionRow:
        """One submission by id."""
        with self.engine.connect() as conn:
            row = conn.execute(_submission_query().where(submissions.c.id == submission_id)).first()
        if row is None:
            raise StoreError(f"no submission with id {submission_id}")
        return _submission(row)

    def rejections(self, submission_id: int, limit: int | None = None) -> list[RejectionRow]:
        """A submission's quarantined records in input order."""
        query = (
            select(rejections.c.location, rejections.c.reason, rejections.c.raw)
            .where(rejections.c.submission_id == submission_id)
            .order_by(rejections.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [RejectionRow(location=r[0], reason=r[1], raw=r[2]) for r in conn.execute(query)]

    def raw(self, submission_id: int) -> bytes:
        """The exact bytes a submission was received as."""
        with self.engine.connect() as conn:
            data = conn.execute(
                select(blobs.c.data)
                .join(submissions, submissions.c.sha256 == blobs.c.sha256)
                .where(submissions.c.id == submission_id)
            ).scalar_one_or_none()
        if data is None:
            raise StoreError(f"no submission with id {submission_id}")
        return bytes(data)

    # reads ---------------------------------------------------------------------------
    def assertions_about(self, wanted: Sequence[Observable], grant: Grant) -> list[StoredAssertion]:
        """Every assertion about any of these observables that the grant lets one see."""
        if not wanted:
            return []
        keys = [(o.type.value, o.value) for o in wanted]
        query = _assertion_query().where(
            tuple_(observables.c.type, observables.c.value).in_(keys), visible(grant, assertions)
        )
        with self.engine.connect() as conn:
            return [_stored(r) for r in conn.execute(query.order_by(assertions.c.id))]

    def count_under_domain(self, domain: str) -> int:
        """How many observables sit under a registered domain."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(observables.c.registered_domain == domain)
                ).scalar_one()
            )

    def iter_assertions(
        self, flt: ExportFilter, grant: Grant, batch: int = 10000
    ) -> Iterator[StoredAssertion]:
        """Stream the assertions matching a filter that the grant covers, in id order."""
        conds: list[Any] = [visible(grant, assertions)]
        if flt.types:
            conds.append(observables.c.type.in_([t.value for t in flt.types]))
        if flt.threat_types:
            conds.append(assertions.c.threat_type.in_([t.value for t in flt.threat_types]))
        if flt.sources:
            conds.append(organisations.c.name.in_(flt.sources))
        if flt.since is not None:
            conds.append(or_(assertions.c.last_seen >= flt.since, assertions.c.last_seen.is_(None)))
        if flt.max_tlp is not None:
            conds.append(assertions.c.tlp <= flt.max_tlp.rank)
        last = 0
        with self.engine.connect() as conn:
            while True:
                query = _assertion_query().where(and_(assertions.c.id > last, *conds))
                rows = conn.execute(query.order_by(assertions.c.id).limit(batch)).all()
                if not rows:
                    return
                for row in rows:
                    yield _stored(row)
                last = rows[-1].id

    def summary(self) -> dict[str, Any]:
        """Counts for an overview: organisations, submissions, observables, assertions."""
        with self.engine.connect() as conn:

            def count(table: Any) -> int:
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

            by_type = conn.execute(
                select(observables.c.type, func.count())
                .group_by(observables.c.type)
                .order_by(func.count().desc())
            ).all()
            by_threat = conn.execute(
                select(assertions.c.threat_type, func.count())
                .group_by(assertions.c.threat_type)
                .order_by(func.count().desc())
            ).all()
            by_status = conn.execute(
                select(submissions.c.status, func.count()).group_by(submissions.c.status)
            ).all()
            return {
                "organisations": count(organisations),
                "submissions": count(submissions),
                "submissions_by_status": {s: n for s, n in by_status},
                "observables": count(observables),
                "assertions": count(assertions),
                "observables_by_type": {t: n for t, n in by_type},
                "assertions_by_threat_type": {t: n for t, n in by_threat},
                "provenance_links": count(assertion_sources),
            }


def _org(row: Any, parent: str | None = None) -> OrgRow:
    return OrgRow(
        parent=parent,
        id=row.id,
        name=row.name,
        kind=OrgKind(row.kind),
        country=row.country,
        region=Region(row.region) if row.region else None,
    )


def _submission_query() -> Any:
    return select(submissions, organisations.c.name.label("source")).join(
        organisations, organisations.c.id == submissions.c.source_org_id
    )


def _submission(row: Any) -> SubmissionRow:
    return SubmissionRow(
        id=row.id,
        source=row.source,
        sha256=row.sha256,
        size=row.size,
        filename=row.filename,
        format=row.format,
        status=row.status,
        received_at=as_utc(row.received_at),  # type: ignore[arg-type]
        completed_at=as_utc(row.completed_at),
        records=row.records,
        accepted=row.accepted,
        merged=row.merged,
        rejected=row.rejected,
        entities=row.entities,
        relationships=row.relationships,
        error=row.error,
    )


def _assertion_query() -> Any:
    return (
        select(
            assertions,
            observables.c.type.label("obs_type"),
            observables.c.value.label("obs_value"),
            organisations.c.name.label("source"),
        )
        .join(observables, observables.c.id == assertions.c.observable_id)
        .join(organisations, organisations.c.id == assertions.c.source_org_id)
    )


def _stored(row: Any) -> StoredAssertion:
    view = AssertionView(
        observable=Observable(ObservableType(row.obs_type), row.obs_value),
        threat_type=ThreatType(row.threat_type),
        handling=handling_of(row),
        source=row.source,
        first_seen=as_utc(row.first_seen),
        last_seen=as_utc(row.last_seen),
        sightings=row.sightings,
        confidence=row.confidence,
        stix_id=row.stix_id,
        name=row.name,
        description=row.description,
    )
    return StoredAssertion(
        id=row.id,
        view=view,
        first_submission_id=row.first_submission_id,
        last_submission_id=row.last_submission_id,
    )
