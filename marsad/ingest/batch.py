"""Turn a stream of parsed records into deduplicated, handling-resolved row batches.

Pure: no I/O. The store's writer loads these rows into staging tables and merges them
with set-based SQL. Within one submission the same (observable, threat type) is merged
here, so the database sees each key once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import msgspec
import orjson

from marsad.formats.gcpause import gc_paused
from marsad.model.handling import PAP, TLP, Handling, stricter_pap, stricter_tlp
from marsad.model.normalize import registered_domain
from marsad.model.observable import ObservableType
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    Record,
    Rejected,
    RelationshipRecord,
)

_DOMAIN_BEARING = {ObservableType.DOMAIN, ObservableType.URL, ObservableType.EMAIL}
_DEFAULT = Handling()


class SubmissionDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """The submission's default handling, and the floors the submitter set explicitly.

    A record's own marking wins over a default; an explicit ``--tlp``/``--pap`` is a floor
    that a record may tighten but never loosen.
    """

    handling: Handling = _DEFAULT
    tlp_floor: TLP | None = None
    pap_floor: PAP | None = None


class Batch(msgspec.Struct, kw_only=True):
    """Rows ready for staging, plus the counts the parse report needs.

    Rows refer to their resolved handling by index into ``handling`` (a submission has a
    handful of distinct handlings), which keeps the staged rows narrow.
    """

    handling: list[tuple[Any, ...]] = msgspec.field(default_factory=list)
    assertions: list[list[Any]] = msgspec.field(default_factory=list)
    entities: list[list[Any]] = msgspec.field(default_factory=list)
    relationships: list[list[Any]] = msgspec.field(default_factory=list)
    rejections: list[tuple[str, str, str]] = msgspec.field(default_factory=list)
    records: int = 0
    consumed: int = 0


# Column order of the staged rows (the writer's staging tables follow it).
HANDLING_COLUMNS = (
    "hid",
    "tlp",
    "pap",
    "releasable_to",
    "reliability",
    "credibility",
    "purpose",
    "retain_until",
    "review_at",
)
ASSERTION_COLUMNS = (
    "type",
    "value",
    "registered_domain",
    "threat_type",
    "first_seen",
    "last_seen",
    "sightings",
    "confidence",
    "hid",
    "location",
    "stix_id",
    "name",
    "description",
)
ENTITY_COLUMNS = (
    "ref",
    "kind",
    "name",
    "description",
    "attributes",
    "hid",
    "first_seen",
    "last_seen",
    "location",
)
RELATIONSHIP_COLUMNS = (
    "source_ref",
    "type",
    "target_ref",
    "hid",
    "stix_id",
    "attributes",
    "first_seen",
    "last_seen",
    "count",
    "location",
)


def resolve_handling(record: Handling | None, defaults: SubmissionDefaults) -> Handling:
    """Combine what a record carries with the submission's defaults and floors."""
    base = defaults.handling
    if record is None:
        return base
    tlp = record.tlp
    pap = record.pap
    if defaults.tlp_floor is not None:
        tlp = stricter_tlp(tlp, defaults.tlp_floor)
    if defaults.pap_floor is not None:
        pap = stricter_pap(pap, defaults.pap_floor)
    return Handling(
        tlp=tlp,
        pap=pap,
        releasable_to=record.releasable_to if record.releasable_to.tokens() else base.releasable_to,
        reliability=record.reliability if record.reliability != "F" else base.reliability,
        credibility=record.credibility if record.credibility != 6 else base.credibility,
        purpose=record.purpose if record.purpose != _DEFAULT.purpose else base.purpose,
        retain_until=record.retain_until or base.retain_until,
        review_at=record.review_at or base.review_at,
    )


def _handling_row(hid: int, h: Handling, date: Callable[[dt.date | None], Any]) -> tuple[Any, ...]:
    return (
        hid,
        h.tlp.rank,
        h.pap.rank,
        orjson.dumps(h.releasable_to.tokens()).decode(),
        h.reliability,
        h.credibility,
        h.purpose.value,
        date(h.retain_until),
        date(h.review_at),
    )


@lru_cache(maxsize=262144)
def _registered(host: str) -> str | None:
    return registered_domain(host)


def domain_of(type_: ObservableType, value: str) -> str | None:
    """Registered domain of a domain, a URL's host or an e-mail's domain (None for IP hosts)."""
    if type_ is ObservableType.DOMAIN:
        host = value
    elif type_ is ObservableType.URL:
        host = value.split("/", 3)[2].rpartition("@")[2]
        if host.startswith("["):
            return None
        host = host.partition(":")[0]
    else:
        host = value.rpartition("@")[2]
    if not host or host[-1].isdigit():
        return None
    return _registered(host)


class _Profiles:
    """Distinct resolved handlings of one submission, numbered for the staged rows."""

    def __init__(self, defaults: SubmissionDefaults, date: Callable[[dt.date | None], Any]) -> None:
        self.defaults = defaults
        self.date = date
        self.by_record: dict[Handling | None, int] = {}
        self.by_resolved: dict[Handling, int] = {}
        self.resolved: list[Handling] = []
        self.rows: list[tuple[Any, ...]] = []

    def hid(self, record: Handling | None) -> int:
        """The profile number of a record's handling."""
        found = self.by_record.get(record)
        if found is None:
            found = self.by_record[record] = self._number(resolve_handling(record, self.defaults))
        return found

    def stricter(self, a: int, b: int) -> int:
        """The profile of ``a`` with TLP and PAP tightened to ``b``'s where stricter."""
        ha, hb = self.resolved[a], self.resolved[b]
        tlp, pap = stricter_tlp(ha.tlp, hb.tlp), stricter_pap(ha.pap, hb.pap)
        if (tlp, pap) == (ha.tlp, ha.pap):
            return a
        return self._number(msgspec.structs.replace(ha, tlp=tlp, pap=pap))

    def _number(self, h: Handling) -> int:
        found = self.by_resolved.get(h)
        if found is None:
            found = self.by_resolved[h] = len(self.resolved)
            self.resolved.append(h)
            self.rows.append(_handling_row(found, h, self.date))
        return found


def build_batch(
    records: Iterable[Record],
    defaults: SubmissionDefaults,
    received_at: dt.datetime,
    *,
    time: Callable[[dt.datetime | None], Any],
    date: Callable[[dt.date | None], Any],
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Group records into merged rows; ``time``/``date`` bind values for the target engine."""
    with gc_paused():
        return _build_batch(records, defaults, received_at, time=time, date=date, progress=progress)


def _build_batch(
    records: Iterable[Record],
    defaults: SubmissionDefaults,
    received_at: dt.datetime,
    *,
    time: Callable[[dt.datetime | None], Any],
    date: Callable[[dt.date | None], Any],
    progress: Callable[[int], None] | None,
) -> Batch:
    batch = Batch()
    profiles = _Profiles(defaults, date)
    merged: dict[tuple[str, str, str], list[Any]] = {}
    entities: dict[str, list[Any]] = {}
    rels: dict[tuple[str, str, str], list[Any]] = {}
    seen_at = time(received_at)
    default_hid = profiles.hid(None)
    n = 0
    for rec in records:
        n += 1
        if progress is not None and not n & 0x3FFF:
            progress(n)
        if type(rec) is AssertionRecord:
            obs = rec.observable
            # StrEnum members are str: they key the dict and bind as text without .value
            key = (obs.type, obs.value, rec.threat_type)
            hid = default_hid if rec.handling is None else profiles.hid(rec.handling)
            first = time(rec.first_seen) if rec.first_seen else seen_at
            last = time(rec.last_seen) if rec.last_seen else first
            row = merged.get(key)
            if row is None:
                rd = domain_of(obs.type, obs.value) if obs.type in _DOMAIN_BEARING else None
                merged[key] = [
                    key[0],
                    key[1],
                    rd,
                    key[2],
                    first,
                    last,
                    rec.sightings,
                    rec.confidence,
                    hid,
                    rec.location,
                    rec.stix_id,
                    rec.name,
                    rec.description,
                ]
            else:
                row[4] = min(row[4], first)
                row[5] = max(row[5], last)
                row[6] += rec.sightings
                if rec.confidence is not None:
                    row[7] = max(row[7] or 0, rec.confidence)
                if row[8] != hid:  # never loosen within one submission
                    row[8] = profiles.stricter(row[8], hid)
        elif isinstance(rec, EntityRecord):
            first = time(rec.first_seen) if rec.first_seen else None
            entities[rec.ref] = [
                rec.ref,
                rec.kind,
                rec.name,
                rec.description,
                orjson.dumps(rec.attributes, option=orjson.OPT_SORT_KEYS).decode(),
                profiles.hid(rec.handling),
                first,
                time(rec.last_seen) if rec.last_seen else first,
                rec.location,
            ]
        elif isinstance(rec, RelationshipRecord):
            rkey = (rec.source_ref, rec.type, rec.target_ref)
            existing = rels.get(rkey)
            if existing is not None:
                existing[8] += 1
                continue
            first = time(rec.first_seen) if rec.first_seen else None
            rels[rkey] = [
                rec.source_ref,
                rec.type,
                rec.target_ref,
                profiles.hid(rec.handling),
                rec.stix_id,
                orjson.dumps(rec.attributes, option=orjson.OPT_SORT_KEYS).decode(),
                first,
                time(rec.last_seen) if rec.last_seen else first,
                1,
                rec.location,
            ]
        elif isinstance(rec, Rejected):
            batch.rejections.append((rec.location, rec.reason, rec.raw))
        else:
            batch.consumed += 1
    batch.records = n
    batch.handling = profiles.rows
    batch.assertions = list(merged.values())
    batch.entities = list(entities.values())
    batch.relationships = list(rels.values())
    return batch
