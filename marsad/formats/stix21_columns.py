"""The STIX reader's columnar path: runs of plain indicators become `AssertionBlock`s.

Plain means what large feeds send: an indicator with a string id, no extensions, labels
or kill-chain phases, no ``indicates`` relationship of its own, a name and description
that are strings (or absent), markings as a list, and a one-comparison pattern
``[type:path = 'value']`` whose path we map. Such a chunk is read by column: fields are
gathered in one pass, values already in canonical form (`model.normalize.canonical`, the
hex and dotted-quad checks) are taken as they are with one C-level match per value and
only the rest go through the normaliser, and the rows become blocks that the batch
builder merges without a record per row. Any other object, and any plain indicator
whose value the normaliser rejects, goes through the reader's own per-object handler in
its place, so the output is the same records in the same order (`AssertionBlock.records`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

import msgspec

from marsad.formats import stix_vocab as V
from marsad.formats.stix21_decode import UNSEEN
from marsad.formats.stix_patterns import split_single
from marsad.model.errors import InvalidObservable
from marsad.model.normalize.canonical import CANONICAL_DOMAIN, CANONICAL_URL
from marsad.model.normalize.ip import is_ipv4
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import AssertionBlock, Consumed, ConsumedBlock, Record, ThreatType

if TYPE_CHECKING:
    from marsad.formats.stix21 import _Parser

T = ObservableType
# Values in these shapes are what the normaliser would return for them.
_CANONICAL: Final[dict[ObservableType, Callable[[str], Any]]] = {
    T.IPV4: is_ipv4,
    T.DOMAIN: CANONICAL_DOMAIN.match,
    T.URL: CANONICAL_URL.match,
    T.MD5: re.compile(r"[0-9a-f]{32}\Z").match,
    T.SHA1: re.compile(r"[0-9a-f]{40}\Z").match,
    T.SHA256: re.compile(r"[0-9a-f]{64}\Z").match,
    T.SHA512: re.compile(r"[0-9a-f]{128}\Z").match,
}
_STR: Final = {str}
_STR_OR_NONE: Final = {str, type(None)}
_LIST_OR_NONE: Final = {list, type(None)}
_EMPTY: Final[dict[str, Observable]] = {}
_ASSERTED_BY_INDICATOR: Final = "value asserted by an indicator of the same bundle"
_GROUP: Final = {"indicator": 0} | dict.fromkeys(V.SCO_TYPES, 1)
_NO_TYPES: Final[tuple[ThreatType | None, ThreatType | None]] = (None, None)


def _type_threats(kinds: tuple[Any, ...]) -> tuple[ThreatType | None, ThreatType | None]:
    """(threat of the first specific indicator_type, of the first one we know) as
    `_Parser._indicator_threat` reads them."""
    specific = next(
        (
            V.INDICATOR_TYPE_THREAT[k]
            for k in kinds
            if isinstance(k, str) and k in V.SPECIFIC_INDICATOR_TYPES
        ),
        None,
    )
    known = next(
        (
            V.INDICATOR_TYPE_THREAT[k]
            for k in kinds
            if isinstance(k, str) and k in V.INDICATOR_TYPE_THREAT
        ),
        None,
    )
    return specific, known


class _Rows:
    """The columns of a chunk's plain indicators (row j at chunk position ``pos[j]``)."""

    __slots__ = (
        "confidence",
        "descriptions",
        "first_seen",
        "handling",
        "ids",
        "kinds",
        "locations",
        "names",
        "observables",
        "pos",
        "scos",
        "threats",
        "values",
    )

    def __init__(self) -> None:
        self.pos: list[int] = []
        self.kinds: list[ObservableType | None] = []
        self.values: list[str] = []
        self.scos: list[str] = []
        self.locations: list[str] = []
        self.ids: list[str] = []
        self.first_seen: list[Any] = []
        self.confidence: list[int | None] = []
        self.handling: list[Any] = []
        self.names: list[str | None] = []
        self.descriptions: list[str | None] = []
        self.threats: list[ThreatType] = []
        self.observables: list[Observable] = []

    def drop(self, rows: set[int]) -> None:
        """Leave out rows (their objects go through the per-object handler instead)."""
        for name in self.__slots__:
            column = getattr(self, name)
            setattr(self, name, [x for j, x in enumerate(column) if j not in rows])

    def block(self, a: int, b: int) -> AssertionBlock:
        return AssertionBlock(
            observables=self.observables[a:b],
            threat_types=self.threats[a:b],
            locations=self.locations[a:b],
            first_seen=self.first_seen[a:b],
            confidence=self.confidence[a:b],
            handling=self.handling[a:b],
            stix_ids=self.ids[a:b],
            names=self.names[a:b],
            descriptions=self.descriptions[a:b],
        )


def primaries(p: _Parser, indexes: list[int]) -> list[Record | AssertionBlock]:
    """`_Parser._primaries` for a chunk, with its runs of plain indicators as blocks."""
    plain = _gather_plain(p, indexes)
    rows, slow = (plain, []) if plain is not None else _gather(p, indexes)
    if rows.pos:
        slow.extend(_observe(p, rows))
        slow.sort()
    out: list[Record | AssertionBlock] = []
    a = 0
    start = 0
    while start < len(slow):  # each run of objects for the handler, after the rows before it
        end = start + 1
        while end < len(slow) and slow[end] == slow[end - 1] + 1:
            end += 1
        b = bisect_left(rows.pos, slow[start], a)
        if b > a:
            out.append(_emit(p, rows, a, b))
        out.extend(p._primaries([indexes[k] for k in slow[start:end]]))
        a, start = b, end
    if a < len(rows.pos):
        out.append(_emit(p, rows, a, len(rows.pos)))
    return out


def index(p: _Parser, primary: list[int], scos: list[int]) -> bool:
    """`_Parser._index` of a document of indicators and SCOs only (the usual feed), by
    column; False (nothing done) for any other, which the reader indexes object by object."""
    objs = p.objs
    if None in objs:
        return False
    try:
        groups = list(map(_GROUP.get, map(attrgetter("type"), objs)))
    except TypeError:  # an unhashable type
        return False
    if None in groups:
        return False
    primary.extend([i for i, g in enumerate(groups) if not g])
    scos.extend([i for i, g in enumerate(groups) if g])
    found = [objs[i] for i in scos]
    for name in ("resolves_to_refs", "belongs_to_refs"):
        if list(map(attrgetter(name), found)).count(None) != len(found):
            p.need_ids = True
    return True


def scos(p: _Parser, indexes: list[int]) -> list[Record | ConsumedBlock]:
    """`_Parser._scos` for a chunk: the SCOs an indicator of the bundle already asserted
    (the usual SCO beside its indicator) found by column and Consumed; the others through
    the handler, in order. Only when nothing refers to ids and no SCO of the chunk has
    markings or extensions (else the handler reads the whole chunk)."""
    objs = p.objs
    chunk = [objs[i] for i in indexes]
    n = len(chunk)
    if (
        not p.shortcuts
        or p.need_ids
        or not n
        or list(map(attrgetter("extensions"), chunk)).count(msgspec.UNSET) != n
        or any(map(attrgetter("object_marking_refs"), chunk))
    ):
        return list(p._scos(indexes))
    by_type: dict[Any, list[int]] = {}
    for k, t in enumerate(map(attrgetter("type"), chunk)):
        by_type.setdefault(t, []).append(k)
    found: list[Any] = [None] * n
    normalised, hash_kind = p.normalised, p._hash_kind
    for t, ks in by_type.items():
        group = [chunk[k] for k in ks] if len(ks) < n else chunk
        spec = V.VALUE_SCOS.get(t)
        if spec is not None:
            lookup = normalised.get(spec[1]) if spec[1] is not None else None
            if lookup is None:  # (an auto-detected kind: the handler's quick check skips it)
                continue
            values = list(map(attrgetter(spec[0]), group))
            if set(map(type, values)) == _STR:
                observed = list(map(lookup.get, values))
            else:
                observed = [lookup.get(v) if type(v) is str else None for v in values]
        elif t in V.HASHED_SCOS:
            observed = []
            for h in map(attrgetter("hashes"), group):
                obs = None
                if type(h) is dict and len(h) == 1:
                    ((name, value),) = h.items()
                    kind = hash_kind(t, name)
                    if kind is not None and type(value) is str:
                        obs = normalised.get(kind, _EMPTY).get(value)
                observed.append(obs)
        else:
            continue
        if len(ks) == n:
            found = observed
        else:
            for k, obs in zip(ks, observed, strict=True):
                found[k] = obs
    asserted = p.asserted
    consumed = list(map(asserted.__contains__, found))
    ids = list(map(attrgetter("id"), chunk))
    pfx, what = p.pfx, _ASSERTED_BY_INDICATOR
    plain = pfx and set(map(type, ids)) == _STR
    if plain and consumed.count(True) == n:
        return [ConsumedBlock(what=what, prefix=pfx, positions=indexes, ids=ids)]
    locations = [f"{pfx}{i}] ({oid})" if pfx and type(oid) is str else p._loc(i)
                 for i, oid in zip(indexes, ids, strict=True)]  # fmt: skip
    out: list[Record | ConsumedBlock] = []
    run: list[int] = []
    for i, loc, done in zip(indexes, locations, consumed, strict=True):
        if done:
            if run:
                out.extend(p._scos(run))
                run = []
            out.append(Consumed(location=loc, what=what))
        else:
            run.append(i)
    if run:
        out.extend(p._scos(run))
    return out


def _gather_plain(p: _Parser, indexes: list[int]) -> _Rows | None:
    """`_gather` of a chunk whose objects are all plain indicators, column by column with
    C-level maps and counts; None when one is not (`_gather` then reads it row by row)."""
    objs = p.objs
    chunk = [objs[i] for i in indexes]
    n = len(chunk)
    if not n or None in chunk:
        return None

    def column(name: str) -> list[Any]:
        return list(map(attrgetter(name), chunk))

    if (
        column("type").count("indicator") != n
        or column("extensions").count(msgspec.UNSET) != n
        or any(column("labels"))
        or any(column("kill_chain_phases"))
        or column("pattern_type").count("stix") != n
    ):
        return None
    patterns, ids, names, descs = (
        column("pattern"),
        column("id"),
        column("name"),
        column("description"),
    )
    marks, types = column("object_marking_refs"), column("indicator_types")
    if (
        set(map(type, patterns)) != _STR
        or set(map(type, ids)) != _STR
        or not set(map(type, names)) <= _STR_OR_NONE
        or not set(map(type, descs)) <= _STR_OR_NONE
        or not set(map(type, marks)) <= _LIST_OR_NONE
        or not set(map(type, types)) <= _LIST_OR_NONE
        or (p.indicates and not p.indicates.keys().isdisjoint(ids))
    ):
        return None
    found = list(map(split_single, patterns))
    if None in found:
        return None
    scos = [f[0] for f in found]  # type: ignore[index]
    kinds = list(map(V.resolve_path, scos, [f[1] for f in found]))  # type: ignore[index]
    if V.UNKNOWN_PATH in kinds:
        return None
    keys = [tuple(t) if t else () for t in types]
    type_threats = p.type_threats
    try:
        for key in set(keys) - type_threats.keys():
            type_threats[key] = _type_threats(key)
    except TypeError:  # an unhashable indicator_type: the handler reads it
        return None
    whens = column("valid_from")
    try:
        bound = {w: p._time(w) for w in set(whens)}
    except TypeError:  # an unhashable valid_from
        return None
    rows = _Rows()
    rows.pos = list(range(n))
    rows.kinds, rows.scos, rows.ids, rows.names, rows.descriptions = kinds, scos, ids, names, descs
    rows.values = [f[2] for f in found]  # type: ignore[index]
    pfx = p.pfx
    rows.locations = [f"{pfx}{i}] ({oid})" for i, oid in zip(indexes, ids, strict=True)]
    rows.first_seen = list(map(bound.__getitem__, whens))
    rows.confidence = [
        c if type(c) is int and 0 <= c <= 100 else None for c in column("confidence")
    ]
    handling_of = p._handling
    rows.handling = (
        [handling_of(m, None) if m else None for m in marks] if any(marks) else [None] * n
    )
    default, unknown = p.meta_default, ThreatType.UNKNOWN
    rows.threats = [
        specific or by_name or by_description or default or known or unknown
        for (specific, known), by_name, by_description in zip(
            map(type_threats.__getitem__, keys),
            V.keyword_threats(names),
            V.keyword_threats(descs),
            strict=True,
        )
    ]
    return rows


def _gather(p: _Parser, indexes: list[int]) -> tuple[_Rows, list[int]]:
    """The plain indicators' fields by column; the chunk positions of everything else."""
    rows, slow = _Rows(), []
    objs, unset, pfx, indicates = p.objs, msgspec.UNSET, p.pfx, p.indicates
    type_threats, times, time_of, handling_of = p.type_threats, p.times, p._time, p._handling
    keyword, meta_default = V.keyword_threat, p.meta_default
    resolve, unknown = V.resolve_path, V.UNKNOWN_PATH
    pos, kinds, values, scos, locations = (
        rows.pos,
        rows.kinds,
        rows.values,
        rows.scos,
        rows.locations,
    )
    ids, first_seen, confidence, handling = (
        rows.ids,
        rows.first_seen,
        rows.confidence,
        rows.handling,
    )
    names, descriptions, threats = rows.names, rows.descriptions, rows.threats
    for k, i in enumerate(indexes):
        o = objs[i]
        if (
            o is None
            or o.type != "indicator"
            or o.extensions is not unset
            or o.labels
            or o.kill_chain_phases
            or o.pattern_type != "stix"
            or type(o.pattern) is not str
            or type(oid := o.id) is not str
            or (indicates and oid in indicates)
        ):
            slow.append(k)
            continue
        name, desc, marks, types = o.name, o.description, o.object_marking_refs, o.indicator_types
        if (
            (name is not None and type(name) is not str)
            or (desc is not None and type(desc) is not str)
            or (marks and type(marks) is not list)
            or (types and type(types) is not list)
        ):
            slow.append(k)
            continue
        found = split_single(o.pattern)
        kind = resolve(found[0], found[1]) if found is not None else unknown
        if kind is unknown:
            slow.append(k)
            continue
        try:
            by_types = type_threats.get(tuple(types), UNSEEN) if types else _NO_TYPES
        except TypeError:  # an unhashable indicator_type: the handler reads it
            slow.append(k)
            continue
        if by_types is UNSEEN:
            by_types = type_threats[tuple(types)] = _type_threats(tuple(types))
        threat = by_types[0]  # type: ignore[index]
        if threat is None:
            threat = (
                (keyword(name) if name is not None else None)
                or (keyword(desc) if desc is not None else None)
                or meta_default
                or by_types[1]  # type: ignore[index]
                or ThreatType.UNKNOWN
            )
        when = o.valid_from
        first: Any = times.get(when, UNSEEN) if type(when) is str else None
        if first is UNSEEN:
            first = time_of(when)
        conf = o.confidence
        pos.append(k)
        kinds.append(kind)  # type: ignore[arg-type]
        values.append(found[2])  # type: ignore[index]
        scos.append(found[0])  # type: ignore[index]
        locations.append(f"{pfx}{i}] ({oid})")
        ids.append(oid)
        first_seen.append(first)
        confidence.append(conf if type(conf) is int and 0 <= conf <= 100 else None)
        handling.append(handling_of(marks, None) if marks else None)
        names.append(name)
        descriptions.append(desc)
        threats.append(threat)
    return rows, slow


def _observe(p: _Parser, rows: _Rows) -> list[int]:
    """Each row's observable (canonical values as they are, the rest normalised); the
    chunk positions of rows whose value the normaliser rejects, left out of the rows."""
    by_kind: dict[ObservableType | None, list[int]] = {}
    for j, kind in enumerate(rows.kinds):
        by_kind.setdefault(kind, []).append(j)
    observables: list[Any] = [None] * len(rows.kinds)
    values, scos, make, normalised = rows.values, rows.scos, p.make, p.normalised
    rejected: set[int] = set()
    for kind, js in by_kind.items():
        whole = len(js) == len(values)
        raw = values if whole else [values[j] for j in js]
        check = _CANONICAL.get(kind) if kind is not None else None
        made: list[Any] = [None] * len(js)
        ok: Any = repeat(None)
        by_value = normalised.get(kind)
        if by_value is None:
            by_value = normalised[kind] = {}
        if check is not None:
            made = list(map(Observable, repeat(kind), raw))  # type: ignore[arg-type]
            ok = list(map(check, raw))
            if not ok.count(None) and not ok.count(False):  # all canonical: no row to visit
                by_value.update(zip(raw, made, strict=True))
                if whole:
                    observables = made
                else:
                    for j, obs in zip(js, made, strict=True):
                        observables[j] = obs
                continue
        for j, value, obs, fine in zip(js, raw, made, ok, strict=False):
            if not fine:
                try:
                    obs = make(kind, value, scos[j])
                except InvalidObservable:
                    rejected.add(j)
                    continue
            observables[j] = obs
            by_value[value] = obs
    rows.observables = observables
    if not rejected:
        return []
    slow = [rows.pos[j] for j in rejected]
    rows.drop(rejected)
    return slow


def _emit(p: _Parser, rows: _Rows, a: int, b: int) -> AssertionBlock:
    """Rows a..b as a block, with the parser's indexes brought up to them."""
    block = rows.block(a, b)
    p.asserting.extend(block.observables)
    if p.need_ids:
        ind_obs = p.ind_obs
        for oid, obs in zip(block.stix_ids, block.observables, strict=True):
            ind_obs[oid] = [obs]
    return block
