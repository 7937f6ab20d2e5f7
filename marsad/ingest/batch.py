"""Turn a stream of parsed records into deduplicated, handling-resolved row batches.

Pure: no I/O. The store's writer loads these rows into staging tables and merges them
with set-based SQL. Within one submission the same (observable, threat type) is merged
here, so the database sees each key once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter, methodcaller
from typing import Any

import msgspec
import orjson

from marsad.formats.gcpause import gc_paused
from marsad.model.handling import (
    PAP,
    TLP,
    Handling,
    Purpose,
    Releasability,
    parse_pap,
    parse_tlp,
    stricter_pap,
    stricter_tlp,
)
from marsad.model.normalize import registered_domain
from marsad.model.normalize.domain import registered_domains
from marsad.model.observable import ObservableType
from marsad.model.records import (
    AssertionBlock,
    AssertionRecord,
    Consumed,
    ConsumedBlock,
    EntityRecord,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)

_DOMAIN_BEARING = {ObservableType.DOMAIN, ObservableType.URL, ObservableType.EMAIL}
# Rows hold enum values as plain str: the sqlite3 driver binds an exact str directly but
# looks for an adapter (and fails, raising twice) on every StrEnum member it binds.
_TEXT: dict[str, str] = {m: m.value for m in (*ObservableType, *ThreatType)}
_DEFAULT = Handling()
_UNSEEN: Any = object()
_TYPE = attrgetter("type")
_VALUE = attrgetter("value")


class SubmissionDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """The submission's default handling, and the floors the submitter set explicitly.

    A record's own marking wins over a default; an explicit ``--tlp``/``--pap`` is a floor
    that a record may tighten but never loosen.
    """

    handling: Handling = _DEFAULT
    tlp_floor: TLP | None = None
    pap_floor: PAP | None = None


def submission_defaults(
    *,
    tlp: str | None = None,
    pap: str | None = None,
    releasable_to: str | None = None,
    reliability: str | None = None,
    credibility: int | None = None,
    purpose: Purpose | None = None,
    retain_until: dt.date | None = None,
    review_at: dt.date | None = None,
) -> SubmissionDefaults:
    """A submission's defaults from its options as typed (CLI, API, web form); an explicit
    TLP or PAP is also a floor. A bad value raises HandlingError naming it."""
    tlp_v = parse_tlp(tlp) if tlp else None
    pap_v = parse_pap(pap) if pap else None
    handling = Handling(
        tlp=tlp_v or _DEFAULT.tlp,
        pap=pap_v or _DEFAULT.pap,
        releasable_to=Releasability.from_tokens((releasable_to or "").split(",")),
        reliability=(reliability or _DEFAULT.reliability).upper(),
        credibility=_DEFAULT.credibility if credibility is None else credibility,
        purpose=purpose or _DEFAULT.purpose,
        retain_until=retain_until,
        review_at=review_at,
    )
    return SubmissionDefaults(handling=handling, tlp_floor=tlp_v, pap_floor=pap_v)


class Batch(msgspec.Struct, kw_only=True):
    """Rows ready for staging, plus the counts the parse report needs.

    Rows refer to their resolved handling by index into ``handling`` (a submission has a
    handful of distinct handlings), which keeps the staged rows narrow.
    """

    handling: list[tuple[Any, ...]] = msgspec.field(default_factory=list)
    assertions: list[Any] = msgspec.field(default_factory=list)
    # rows a streaming writer has written already and that merged again since
    late: list[tuple[Any, ...]] = msgspec.field(default_factory=list)
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
    return registered_domain(host)  # cached there: hosts repeat in feeds


def domains_of(types: list[ObservableType], values: list[str]) -> list[str | None]:
    """`domain_of` each (type, value), by column: the rows of each kind picked and their
    hosts cut out with C-level maps, then one registered domain lookup per distinct
    parent (`registered_domains`)."""
    out: list[str | None] = [None] * len(types)
    present = set(types)
    at: list[int] = []
    hosts: list[str] = []
    for kind, cut in _HOST_OF.items():
        if kind not in present:
            continue
        rows = list(compress(range(len(types)), map(is_, types, repeat(kind))))
        found = cut(list(map(values.__getitem__, rows)))
        kept = [k for k, host in enumerate(found) if host and not host[-1].isdigit()]
        at.extend(map(rows.__getitem__, kept))
        hosts.extend(map(found.__getitem__, kept))
    for j, found_domain in zip(at, registered_domains(hosts), strict=True):
        out[j] = found_domain
    return out


def _url_hosts(urls: list[str]) -> list[str]:
    """The host of each (normalised) URL; "" for an IP literal in brackets."""
    hosts = list(map(_THIRD, map(_AFTER_AT, map(_THIRD, map(_SPLIT_PATH, urls)))))
    return [h.partition(":")[0] if h[:1] != "[" else "" for h in hosts]


_THIRD = itemgetter(2)
_SPLIT_PATH = methodcaller("split", "/", 3)
_AFTER_AT = methodcaller("rpartition", "@")
_HOST_OF: dict[ObservableType, Callable[[list[str]], list[str]]] = {
    ObservableType.DOMAIN: lambda values: values,
    ObservableType.URL: _url_hosts,
    ObservableType.EMAIL: lambda values: list(map(_THIRD, map(_AFTER_AT, values))),
}


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
    records: Iterable[Record | AssertionBlock | ConsumedBlock],
    defaults: SubmissionDefaults,
    received_at: dt.datetime,
    *,
    time: Callable[[dt.datetime | None], Any],
    date: Callable[[dt.date | None], Any],
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Group records into merged rows; ``time``/``date`` bind values for the target engine."""
    builder = BatchBuilder(defaults, received_at, time=time, date=date, progress=progress)
    builder.add(records)
    return builder.finish()


class BatchBuilder:
    """Merges records into rows as they arrive, so that a writer can stream them.

    `take` hands over the assertion rows made since the last take; a later record with
    the same key still merges into its row, which then also appears in the finished
    batch's ``late`` rows (its sightings column holding only the increase), so that
    writing the taken rows and then upserting the late ones ends in the same store state
    as writing the whole batch at once.
    """

    def __init__(
        self,
        defaults: SubmissionDefaults,
        received_at: dt.datetime,
        *,
        time: Callable[[dt.datetime | None], Any],
        date: Callable[[dt.date | None], Any],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.time = time
        self.progress = progress
        self.batch = Batch()
        self.profiles = _Profiles(defaults, date)
        self.seen_at = time(received_at)
        self.default_hid = self.profiles.hid(None)
        # assertion rows (tuples of ASSERTION_COLUMNS) in order, and each key's position
        self.rows: list[tuple[Any, ...]] = []
        self.index: dict[tuple[str, str, str], int] = {}
        self.taken = 0  # rows before this position were handed over by `take`
        self.late_base: dict[int, int] = {}  # taken row that merged again -> its sightings then
        self.entities: dict[str, list[Any]] = {}
        self.rels: dict[tuple[str, str, str], list[Any]] = {}
        self.handling_taken = 0

    def add(self, records: Iterable[Record | AssertionBlock | ConsumedBlock]) -> None:
        """Merge more records (the cyclic GC paused: nothing they build is cyclic; the rows
        it built are promoted to the oldest generation after it, as they live on)."""
        with gc_paused(promote=True):
            self._add(records)

    def chunks(
        self, records: Iterable[Record | AssertionBlock | ConsumedBlock], size: int
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """Merge the records ``size`` at a time (a block counts its rows), each time
        taking what that made: a stream of (new handling, new rows) for a writer."""
        it = iter(records)
        while True:
            before = self.batch.records
            self.add(_upto(it, size))
            if self.batch.records == before:
                return
            yield self.take()

    def take(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Handling profiles and assertion rows made since the last take."""
        rows = self.rows[self.taken :]
        self.taken = len(self.rows)
        return self._new_handling(), rows

    def finish(self) -> Batch:
        """The batch: what was not taken, late rows, entities, relationships, rejections."""
        batch, rows = self.batch, self.rows
        batch.handling = self._new_handling()
        batch.assertions = rows[self.taken :]
        batch.late = [
            (*r[:6], r[6] - base, *r[7:]) for i, base in self.late_base.items() for r in (rows[i],)
        ]
        batch.entities = list(self.entities.values())
        batch.relationships = list(self.rels.values())
        return batch

    def _new_handling(self) -> list[tuple[Any, ...]]:
        rows = self.profiles.rows[self.handling_taken :]
        self.handling_taken = len(self.profiles.rows)
        return rows

    def _add(self, records: Iterable[Record | AssertionBlock | ConsumedBlock]) -> None:
        batch, profiles, time, progress = self.batch, self.profiles, self.time, self.progress
        rows, index, entities, rels = self.rows, self.index, self.entities, self.rels
        seen_at, default_hid = self.seen_at, self.default_hid
        n = batch.records
        consumed = 0
        # feeds repeat one timestamp: remember the last one converted
        prev: Any = None
        prev_bound: Any = None
        for rec in records:
            if type(rec) is AssertionBlock or type(rec) is ConsumedBlock:
                batch.records = n
                n += len(rec)
                if type(rec) is AssertionBlock:
                    self._add_block(rec)
                else:
                    consumed += len(rec)
                if progress is not None and n >> 14 != batch.records >> 14:
                    progress(n)
                continue
            n += 1
            if progress is not None and not n & 0x3FFF:
                progress(n)
            if type(rec) is AssertionRecord:
                obs = rec.observable
                key = (obs.type, obs.value, rec.threat_type)
                h = rec.handling
                hid = default_hid if h is None else profiles.hid(h)
                when = rec.first_seen
                if when is None:
                    first = seen_at
                elif when is prev:
                    first = prev_bound
                else:
                    first = prev_bound = time(when)
                    prev = when
                when = rec.last_seen
                last = first if when is None else time(when)
                at = index.get(key)
                if at is None:
                    t = key[0]
                    index[key] = len(rows)
                    rows.append(
                        (
                            _TEXT[t],
                            key[1],
                            domain_of(t, key[1]) if t in _DOMAIN_BEARING else None,
                            _TEXT[key[2]],
                            first,
                            last,
                            rec.sightings,
                            rec.confidence,
                            hid,
                            rec.location,
                            rec.stix_id,
                            rec.name,
                            rec.description,
                        )
                    )
                    continue
                row = rows[at]
                if at < self.taken and at not in self.late_base:  # written: fix it up late
                    self.late_base[at] = row[6]
                conf = rec.confidence
                rows[at] = (
                    *row[:4],
                    min(row[4], first),
                    max(row[5], last),
                    row[6] + rec.sightings,
                    row[7] if conf is None else max(row[7] or 0, conf),
                    # never loosen within one submission
                    hid if row[8] == hid else profiles.stricter(row[8], hid),
                    *row[9:],
                )
            elif type(rec) is Consumed:
                consumed += 1
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
                consumed += 1
        batch.records = n
        batch.consumed += consumed

    def _add_block(self, block: AssertionBlock) -> None:
        """Merge a block's rows: what `_add` does with each of its records, by column."""
        rows, index, profiles, time = self.rows, self.index, self.profiles, self.time
        seen_at, default_hid = self.seen_at, self.default_hid
        n = len(block)
        if block.handling.count(None) == n:
            hids = [default_hid] * n
        else:
            hids = [default_hid if h is None else profiles.hid(h) for h in block.handling]
        # feeds repeat one timestamp (one object per string): bind each object once
        whens = dict(zip(map(id, block.first_seen), block.first_seen, strict=True))
        bound = {k: seen_at if w is None else time(w) for k, w in whens.items()}
        firsts = list(map(bound.__getitem__, map(id, block.first_seen)))
        observables, threats = block.observables, block.threat_types
        types, values = list(map(_TYPE, observables)), list(map(_VALUE, observables))
        text = _TEXT
        keys = dict.fromkeys(zip(types, values, threats, strict=True))
        regds = domains_of(types, values)
        rest = (block.confidence, hids, block.locations, block.stix_ids, block.names,
                block.descriptions)  # fmt: skip
        if len(keys) == n and index.keys().isdisjoint(keys):  # all new: rows by column
            start = len(rows)
            index.update(zip(keys, range(start, start + n), strict=True))
            rows.extend(
                zip(
                    map(text.__getitem__, types),
                    values,
                    regds,
                    map(text.__getitem__, threats),
                    firsts,
                    firsts,
                    repeat(1, n),
                    *rest,
                    strict=True,
                )
            )
            return
        for t, value, regd, threat, first, conf, hid, loc, sid, name, desc in zip(
            types, values, regds, threats, firsts, *rest, strict=True
        ):
            key = (t, value, threat)
            at = index.get(key)
            if at is None:
                index[key] = len(rows)
                rows.append(
                    (
                        text[t],
                        value,
                        regd,
                        text[threat],
                        first,
                        first,
                        1,
                        conf,
                        hid,
                        loc,
                        sid,
                        name,
                        desc,
                    )
                )
                continue
            row = rows[at]
            if at < self.taken and at not in self.late_base:  # written: fix it up late
                self.late_base[at] = row[6]
            rows[at] = (
                *row[:4],
                min(row[4], first),
                max(row[5], first),
                row[6] + 1,
                row[7] if conf is None else max(row[7] or 0, conf),
                hid if row[8] == hid else profiles.stricter(row[8], hid),
                *row[9:],
            )


def _upto(records: Iterable[Record | AssertionBlock | ConsumedBlock], n: int) -> Iterator[Any]:
    """Records until n of them are taken (a block counts its rows), none pulled beyond."""
    taken = 0
    for rec in records:
        yield rec
        taken += len(rec) if type(rec) is AssertionBlock or type(rec) is ConsumedBlock else 1
        if taken >= n:
            return
