"""STIX 2.1 bundles (also a bare array of objects, or one object) to canonical records.

What becomes what (every input object yields records, a Rejected or a Consumed):
- indicator with a simple pattern: one AssertionRecord per observable; with a complex
  pattern, another pattern language, or a property we do not track: an EntityRecord
  ``kind="indicator"`` keeping the pattern (beside the assertions it did yield).
- SCO we track: one AssertionRecord per observable with the submission's default threat
  type (a bare value says nothing malicious, but nothing is lost); Consumed when an
  indicator of the same bundle already asserts that value. Other SCO types: Rejected.
- every SDO (and custom ``x-*`` object, statement marking, extension-definition):
  EntityRecord; report/grouping ``object_refs`` add ``refers-to`` relationships and
  observed-data ``object_refs`` add ``observed`` ones.
- relationship / sighting: RelationshipRecord, with indicator and SCO ids rewritten to the
  refs of the observables they became (one edge per observable).
- TLP 1.0/2.0 marking-definitions and our own extension-definition: Consumed; objects
  marked with them get ``Handling(tlp=…)`` (full handling from our property-extension).

Threat type of an indicator, first that applies: a label that is a ThreatType (or a known
synonym); a specific indicator_type (benign, compromised, anonymization); an ``indicates``
relationship to a malware (by its malware_types); keywords in the name; a kill-chain phase;
the submission's default; a generic indicator_type (malicious-activity, unknown, …).

Decoding is `stix21_decode` (typed structs for the bulk, orjson for the rest);
relationships, sightings and object refs are `stix21_refs`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

import msgspec

from marsad.formats import stix_vocab as V
from marsad.formats.gcpause import gc_paused
from marsad.formats.stix21_columns import index as index_by_column
from marsad.formats.stix21_columns import primaries as primaries_by_column
from marsad.formats.stix21_columns import scos as scos_by_column
from marsad.formats.stix21_decode import (
    TYPED,
    UNSEEN,
    Bundle,
    LazyDicts,
    Obj,
    as_orjson,
    compact,
    generic,
    observe,
)
from marsad.formats.stix21_refs import RefReader, SCOEdge
from marsad.formats.stix_patterns import parse_general, parse_simple
from marsad.model.errors import InvalidObservable
from marsad.model.handling import (
    TLP,
    Handling,
    HandlingError,
    parse_tlp,
)
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import (
    AssertionBlock,
    AssertionRecord,
    Consumed,
    ConsumedBlock,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    ThreatType,
)

NAME = "stix21"
DESCRIPTION = "STIX 2.1 bundle, array of objects or single object (indicators, SDOs, SCOs, SROs)"

_REF_OBJECTS: Final = frozenset({"relationship", "sighting", "report", "grouping", "observed-data"})
_OBJECT_REFS: Final = {"observed-data": "observed", "report": "refers-to", "grouping": "refers-to"}
_CONSUMED_EXTENSIONS: Final = frozenset({V.MARSAD_EXTENSION_ID, V.TLP2_EXTENSION_ID})
_SNIFF_ID: Final = re.compile(rb'"id"\s*:\s*"[a-z0-9-]+--[0-9a-fA-F-]{36}"')
_ASSERTED_BY_INDICATOR: Final = "value asserted by an indicator of the same bundle"
_EMPTY: Final[dict[str, Any]] = {}
_CHUNK: Final = 8192  # objects per list of records handed on (GC paused while building one)
_MALFORMED: Final = (HandlingError, ValueError, TypeError, AttributeError, KeyError)


def sniff(raw: bytes) -> bool:
    """JSON whose start looks like STIX: a bundle, or objects with ``type--uuid`` ids."""
    head = raw[:8192].lstrip()
    if head[:1] not in (b"{", b"["):
        return False
    return b'"type"' in head and (b'"bundle"' in head or _SNIFF_ID.search(head) is not None)


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """Canonical records for every object of the document, located by JSON path.

    The document is decoded now (an unreadable one raises FormatError at once); records
    follow lazily, a few thousand objects at a time, each batch built with the cyclic GC
    paused (none of them holds a cycle, and re-scanning millions of young objects costs
    more than building them).
    """
    return itertools.chain.from_iterable(_parser(raw, meta, typed=True).chunks())


def parse_blocks(raw: bytes, meta: ParseMeta) -> Iterator[Record | AssertionBlock | ConsumedBlock]:
    """`parse` with runs of plain indicators as `AssertionBlock`s and runs of SCOs they
    assert as `ConsumedBlock`s (`stix21_columns`): the same records once each block is
    expanded (``block.records()``), what ingest reads."""
    return itertools.chain.from_iterable(_parser(raw, meta, typed=True, blocks=True).chunks())


def parse_generic(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """The same records as `parse` by the general path: orjson dicts, no shortcuts."""
    return itertools.chain.from_iterable(_parser(raw, meta, typed=False).chunks())


def _parser(raw: bytes, meta: ParseMeta, *, typed: bool, blocks: bool = False) -> _Parser:
    with gc_paused(promote=blocks):  # the document's objects live as long as the parse
        if typed:
            try:
                doc = TYPED.decode(raw)
            except msgspec.MsgspecError:
                doc = None
            if isinstance(doc, list) or (isinstance(doc, Bundle) and doc.type == "bundle"):
                objs = doc if isinstance(doc, list) else (doc.objects or [])
                prefix = "$" if isinstance(doc, list) else "$.objects"
                return _Parser(meta, objs, LazyDicts(raw), prefix, blocks=blocks)
        objects, prefix = generic(raw)
        structs = [msgspec.convert(o, Obj) if isinstance(o, dict) else None for o in objects]
        return _Parser(
            meta, structs, objects.__getitem__, prefix, shortcuts=typed, blocks=blocks and typed
        )


class _Parser(RefReader):
    """One parse: the indexes the passes share (markings, indicator and SCO refs)."""

    def __init__(
        self,
        meta: ParseMeta,
        objs: list[Any],
        dict_of: Callable[[int], Any],
        prefix: str,
        *,
        shortcuts: bool = True,
        blocks: bool = False,
    ) -> None:
        self.objs = objs
        # blocks: plain indicators read by column into AssertionBlocks (stix21_columns)
        self.blocks = blocks
        # shortcuts: the pattern reader's string splitting, canonical values taken as they
        # are, consumed SCOs recognised at once; without them, the reference path for tests
        self.shortcuts = shortcuts
        self.read_pattern = parse_simple if shortcuts else parse_general
        self.make = observe if shortcuts else V.make_observable
        self.dict_of = dict_of
        self.prefix = prefix
        self.pfx = f"{prefix}[" if prefix else ""
        self.default = meta.default_threat_type or ThreatType.UNKNOWN
        self.meta_default = meta.default_threat_type
        self.tlp_of: dict[str, TLP] = dict(V.STANDARD_TLP_MARKINGS)
        self.by_tlp = {t: Handling(tlp=t) for t in TLP}
        self.handling_cache: dict[tuple[Any, ...], Handling] = {}
        self.times: dict[str, dt.datetime | None] = {}
        self.ind_obs: dict[str, list[Observable]] = {}
        self.sco_obs: dict[str, list[Observable]] = {}
        # observables asserted by indicators with an id: a list while indicators are read,
        # a set (made at once) for the SCOs, which all come after them
        self.asserting: list[Observable] = []
        self.asserted: set[Observable] = set()
        # (observable type, raw value) an indicator already normalised: the SCO beside it
        # (the usual shape of a bundle) reuses the result instead of normalising again.
        self.normalised: dict[ObservableType | None, dict[str, Observable]] = {}
        # indicator and SCO ids are remembered only when something refers to objects
        self.need_ids = False
        self.hash_kinds: dict[tuple[str, str], ObservableType | None] = {}
        self.type_threats: dict[tuple[Any, ...], tuple[ThreatType | None, ThreatType | None]] = {}
        self.indicates: dict[str, list[str]] = {}
        self.malware_threat: dict[str, ThreatType] = {}
        self.sco_edges: list[SCOEdge] = []

    def chunks(self) -> Iterator[list[Any]]:
        """Four passes: markings and index, SDOs and indicators, SCOs, ref-bearing objects."""
        primary: list[int] = []
        scos: list[int] = []
        refs: list[int] = []
        with gc_paused():
            quick = self.blocks and index_by_column(self, primary, scos)
            out: list[Any] = [] if quick else self._index(primary, scos, refs)
        yield out
        handlers: tuple[Callable[[list[int]], list[Any]], ...] = (
            (self._primaries_by_column, self._scos_by_column)
            if self.blocks
            else (self._primaries, self._scos)
        )
        for group, handler in zip((primary, scos), handlers, strict=True):
            for start in range(0, len(group), _CHUNK):
                with gc_paused():
                    if group is scos and not start:
                        self.asserted = set(self.asserting)
                    out = handler(group[start : start + _CHUNK])
                yield out
        yield list(self._sco_edges())
        for start in range(0, len(refs), _CHUNK):
            with gc_paused():
                out = []
                for i in refs[start : start + _CHUNK]:
                    out.extend(self._guard(self._object, self.dict_of(i), self._loc(i)))
            yield out

    def _index(self, primary: list[int], scos: list[int], refs: list[int]) -> list[Record]:
        out: list[Record] = []
        for i, o in enumerate(self.objs):
            t = o.type if o is not None else None
            if type(t) is not str:
                primary.append(i)  # rejected by the entity path, with the reason
            elif t == "marking-definition":
                out.extend(self._guard(self._marking, self.dict_of(i), self._loc(i)))
            elif t in V.SCO_TYPES:
                scos.append(i)
                if o.resolves_to_refs is not None or o.belongs_to_refs is not None:
                    self.need_ids = True
            elif t in _REF_OBJECTS:
                refs.append(i)
                self.need_ids = True
                if t == "relationship" and o.relationship_type == "indicates":
                    source, target = str(o.source_ref), str(o.target_ref)
                    self.indicates.setdefault(source, []).append(target)
            else:
                primary.append(i)
                if t == "malware":
                    self.malware_threat[str(o.id)] = self._malware_threat(o.malware_types)
        return out

    def _loc(self, i: int) -> str:
        base = f"{self.prefix}[{i}]" if self.prefix else "$"
        o = self.objs[i]
        oid = o.id if o is not None else None
        return f"{base} ({oid})" if isinstance(oid, str) else base

    def _struct(self, i: int) -> Obj:
        """Object i with every value exactly as orjson reads it (extensions included)."""
        return msgspec.convert(self.dict_of(i), Obj)

    def _primaries_by_column(self, indexes: list[int]) -> list[Record | AssertionBlock]:
        return primaries_by_column(self, indexes)

    def _scos_by_column(self, indexes: list[int]) -> list[Record | ConsumedBlock]:
        return scos_by_column(self, indexes)

    def _primaries(self, indexes: list[int]) -> list[Record]:
        out: list[Record] = []
        objs, unset, indicator, pfx = self.objs, msgspec.UNSET, self._indicator, self.pfx
        for i in indexes:
            o = objs[i]
            oid = o.id if o is not None else None
            loc = f"{pfx}{i}] ({oid})" if pfx and type(oid) is str else self._loc(i)
            if o is None or o.type != "indicator":
                out.extend(self._guard(self._object, self.dict_of(i), loc))
                continue
            mark = len(out)
            try:
                indicator(o if o.extensions is unset else self._struct(i), i, loc, out)
            except _MALFORMED as exc:
                del out[mark:]
                out.append(self._malformed(i, loc, exc))
        return out

    def _scos(self, indexes: list[int]) -> list[Record]:
        out: list[Record] = []
        objs, unset, sco, pfx = self.objs, msgspec.UNSET, self._sco, self.pfx
        normalised, asserted, hash_kind = self.normalised, self.asserted, self._hash_kind
        # the usual SCO beside its indicator, when nothing refers to ids: Consumed at once
        quick = self.shortcuts and not self.need_ids
        for i in indexes:
            o = objs[i]
            oid = o.id
            loc = f"{pfx}{i}] ({oid})" if pfx and type(oid) is str else self._loc(i)
            if quick and o.extensions is unset and not o.object_marking_refs:
                t = o.type
                spec = V.VALUE_SCOS.get(t)
                kind: Any = None
                if spec is not None:
                    kind, value = spec[1], getattr(o, spec[0])
                elif t in V.HASHED_SCOS and type(o.hashes) is dict and len(o.hashes) == 1:
                    ((name, value),) = o.hashes.items()
                    kind = hash_kind(t, name)
                if kind is not None and type(value) is str:
                    obs = normalised.get(kind, _EMPTY).get(value)
                    if obs is not None and obs in asserted:
                        out.append(Consumed(location=loc, what=_ASSERTED_BY_INDICATOR))
                        continue
            mark = len(out)
            try:
                sco(o if o.extensions is unset else self._struct(i), i, loc, out)
            except _MALFORMED as exc:
                del out[mark:]
                out.append(self._malformed(i, loc, exc))
        return out

    def _malformed(self, i: int, loc: str, exc: Exception) -> Rejected:
        o = self.dict_of(i)
        return Rejected(location=loc, reason=f"malformed {o.get('type')}: {exc}", raw=compact(o))

    def _guard(self, handler: Any, o: Any, loc: str) -> list[Record]:
        """Run one object's handler; malformed content rejects that object, never the file."""
        if not isinstance(o, dict):
            return [Rejected(location=loc, reason="not a JSON object", raw=compact(o))]
        try:
            return list(handler(o, loc))
        except _MALFORMED as exc:
            reason = f"malformed {o.get('type')}: {exc}"
            return [Rejected(location=loc, reason=reason, raw=compact(o))]

    def _object(self, o: dict[str, Any], loc: str) -> Iterable[Record]:
        t = o.get("type")
        if not isinstance(t, str):
            return [Rejected(location=loc, reason="object without a type", raw=compact(o))]
        if t == "relationship":
            return self._relationship(o, loc)
        if t == "sighting":
            return self._sighting(o, loc)
        if t == "extension-definition" and o.get("id") in _CONSUMED_EXTENSIONS:
            return [
                Consumed(location=loc, what=f"extension-definition {o.get('name', '')}".strip())
            ]
        if not isinstance(o.get("id"), str):
            return [Rejected(location=loc, reason=f"{t} without an id", raw=compact(o))]
        out: list[Record] = [self._entity(o, t, loc)]
        if t in _OBJECT_REFS:
            out.extend(self._object_refs(o, _OBJECT_REFS[t], loc))
        return out

    # -- handling and small fields ---------------------------------------------------
    def _time(self, value: Any) -> dt.datetime | None:
        if not isinstance(value, str):
            return None
        found = self.times.get(value, UNSEEN)
        if found is UNSEEN:
            try:
                parsed: dt.datetime | None = dt.datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            if len(self.times) > 100_000:
                self.times.clear()
            self.times[value] = found = parsed
        return found  # type: ignore[return-value]

    def _handling(self, marks: Any, ext: Any) -> Handling | None:
        mine = ext.get(V.MARSAD_EXTENSION_ID) if ext else None
        tlp: TLP | None = None
        if marks:
            for ref in marks:
                found = self.tlp_of.get(ref) if isinstance(ref, str) else None
                if found is not None and (tlp is None or found.rank > tlp.rank):
                    tlp = found
        if not mine:
            return None if tlp is None else self.by_tlp[tlp]
        key = (tlp, *(compact(mine[k]) if k in mine else None for k in V.EXTENSION_KEYS))
        cached = self.handling_cache.get(key)
        if cached is None:
            cached = self.handling_cache[key] = V.handling_from_extension(tlp or TLP.AMBER, mine)
        return cached

    def _dict_handling(self, o: dict[str, Any]) -> Handling | None:
        return self._handling(o.get("object_marking_refs"), o.get("extensions"))

    def _marking(self, o: dict[str, Any], loc: str) -> Iterator[Record]:
        oid = o.get("id")
        tlp = V.STANDARD_TLP_MARKINGS.get(oid) if isinstance(oid, str) else None
        definition = o.get("definition")
        if tlp is None and o.get("definition_type") == "tlp" and isinstance(definition, dict):
            tlp = parse_tlp(str(definition.get("tlp")))
        tlp2 = (o.get("extensions") or {}).get(V.TLP2_EXTENSION_ID)
        if tlp is None and isinstance(tlp2, dict):
            tlp = parse_tlp(str(tlp2.get("tlp_2_0")))
        if tlp is None:
            yield self._entity(o, "marking-definition", loc)
            return
        if isinstance(oid, str):
            self.tlp_of[oid] = tlp
        yield Consumed(location=loc, what=f"{tlp.label} marking-definition")

    # -- indicators and observables ------------------------------------------------
    def _indicator(self, o: Obj, i: int, loc: str, out: list[Record]) -> None:
        pattern = o.pattern
        comparisons = None
        if isinstance(pattern, str) and o.pattern_type == "stix":
            comparisons = self.read_pattern(pattern)
        if comparisons is None:
            out.append(self._entity(self.dict_of(i), "indicator", loc))
            return
        ext = o.extensions
        mine = (ext.get(V.MARSAD_EXTENSION_ID) if ext else None) or _EMPTY
        seen, conf, oid = mine.get("sightings"), o.confidence, o.id
        if type(oid) is not str:
            oid = as_orjson(oid)
        threat = self._indicator_threat(o)
        when = o.valid_from
        first: Any = self.times.get(when, UNSEEN) if type(when) is str else None
        if first is UNSEEN:
            first = self._time(when)
        last = self._time(mine.get("last_seen")) if mine else None
        confidence = conf if type(conf) is int and 0 <= conf <= 100 else None
        sightings = seen if type(seen) is int and seen > 0 else 1
        marks = o.object_marking_refs
        handling = self._handling(marks, ext) if marks or ext else None
        name, description = o.name, o.description
        if type(name) is int or type(description) is int:
            name, description = as_orjson(name), as_orjson(description)
        found: list[Observable] = []
        unmapped = False
        for sco, path, value in comparisons:
            kind = V.resolve_path(sco, path)
            if kind is V.UNKNOWN_PATH:
                unmapped = True
                continue
            try:
                obs = self.make(kind, value, sco)
            except InvalidObservable as exc:
                reason = f"{sco}:{path} {value[:80]!r}: {exc.reason}"
                out.append(Rejected(location=loc, reason=reason, raw=compact(self.dict_of(i))))
                continue
            by_value = self.normalised.get(kind)
            if by_value is None:
                by_value = self.normalised[kind] = {}
            by_value[value] = obs
            found.append(obs)
            out.append(
                AssertionRecord(
                    observable=obs,
                    threat_type=threat,
                    location=loc,
                    first_seen=first,
                    last_seen=last,
                    confidence=confidence,
                    sightings=sightings,
                    handling=handling,
                    stix_id=oid,
                    name=name,
                    description=description,
                )
            )
        if unmapped:
            out.append(self._entity(self.dict_of(i), "indicator", loc))
        if found and isinstance(oid, str):
            if self.need_ids:
                self.ind_obs[oid] = found
            self.asserting.extend(found)

    def _indicator_threat(self, o: Obj) -> ThreatType:
        labels, kinds = o.labels, o.indicator_types or ()
        if labels:
            for label in labels:
                found = V.LABEL_THREAT.get(label) if isinstance(label, str) else None
                if found is not None:
                    return found
        for kind in kinds:
            if isinstance(kind, str) and kind in V.SPECIFIC_INDICATOR_TYPES:
                return V.INDICATOR_TYPE_THREAT[kind]
        if self.indicates:
            for target in self.indicates.get(str(o.id), ()):
                if target in self.malware_threat:
                    return self.malware_threat[target]
        name, description = o.name, o.description
        if isinstance(name, str) and (found := V.keyword_threat(name)) is not None:
            return found
        if isinstance(description, str) and (found := V.keyword_threat(description)) is not None:
            return found
        for phase in o.kill_chain_phases or ():
            found = V.KILL_CHAIN_THREAT.get(phase.get("phase_name"))
            if found is not None:
                return found
        if self.meta_default is not None:
            return self.meta_default
        for kind in kinds:
            if isinstance(kind, str) and kind in V.INDICATOR_TYPE_THREAT:
                return V.INDICATOR_TYPE_THREAT[kind]
        return ThreatType.UNKNOWN

    @staticmethod
    def _malware_threat(kinds: Any) -> ThreatType:
        for kind in kinds or ():
            if isinstance(kind, str) and kind in V.MALWARE_TYPE_THREAT:
                return V.MALWARE_TYPE_THREAT[kind]
        return ThreatType.MALWARE

    def _sco(self, o: Obj, i: int, loc: str, out: list[Record]) -> None:
        t: str = o.type
        spec = V.VALUE_SCOS.get(t)
        raw_values: list[tuple[ObservableType | None, str]]
        if spec is not None:
            value = getattr(o, spec[0])
            if value is None or isinstance(value, dict | list):
                out.append(self._rejected(i, loc, f"{t} without {spec[0]}"))
                return
            raw_values = [(spec[1], value if type(value) is str else str(as_orjson(value)))]
        elif t in V.HASHED_SCOS or t == "x509-certificate":
            hashes = o.hashes or {}
            raw_values = [
                (k, str(as_orjson(v))) for n, v in hashes.items() if (k := self._hash_kind(t, n))
            ]
            if not raw_values:
                reason = f"{t} without a hash we track (MD5, SHA-1, SHA-256, SHA-512, SSDEEP, TLSH)"
                if t == "x509-certificate":
                    reason = "x509-certificate without a SHA-256 fingerprint"
                out.append(self._rejected(i, loc, reason))
                return
        else:
            out.append(self._rejected(i, loc, f"unsupported observable type {t}"))
            return
        marks, ext = o.object_marking_refs, o.extensions
        handling = self._handling(marks, ext) if marks or ext else None
        oid = o.id
        if type(oid) is not str:
            oid = as_orjson(oid)
        found: list[Observable] = []
        for kind, value in raw_values:
            obs = self.normalised.get(kind, _EMPTY).get(value)
            if obs is None:
                try:
                    obs = self.make(kind, value, t)
                except InvalidObservable as exc:
                    out.append(self._rejected(i, loc, exc.reason))
                    continue
            found.append(obs)
            if obs in self.asserted:
                out.append(Consumed(location=loc, what=_ASSERTED_BY_INDICATOR))
                continue
            out.append(
                AssertionRecord(
                    observable=obs,
                    threat_type=self.default,
                    location=loc,
                    handling=handling,
                    stix_id=oid,
                )
            )
        if found and isinstance(oid, str) and self.need_ids:
            self.sco_obs[oid] = found
            for prop, rel in V.SCO_REF_PROPS.items():
                if targets := getattr(o, prop):
                    refs = [f.ref for f in found]
                    listed = [as_orjson(x) for x in targets]
                    self.sco_edges.append((refs, rel, listed, loc, handling))

    def _hash_kind(self, sco: str, name: str) -> ObservableType | None:
        key = (sco, name)
        found = self.hash_kinds.get(key, UNSEEN)
        if found is UNSEEN:
            found = self.hash_kinds[key] = V.hash_type(sco, name)
        return found  # type: ignore[return-value]

    def _rejected(self, i: int, loc: str, reason: str) -> Rejected:
        return Rejected(location=loc, reason=reason, raw=compact(self.dict_of(i)))

    # -- entities and relationships -------------------------------------------------
    def _entity(self, o: dict[str, Any], kind: str, loc: str) -> EntityRecord:
        desc = o.get("description")
        return EntityRecord(
            ref=str(o.get("id") or loc),
            kind=kind,
            name=str(o.get("name") or V.fallback_name(o, kind)),
            location=loc,
            description=desc if isinstance(desc, str) else None,
            attributes={k: v for k, v in o.items() if k not in V.ENTITY_FIELDS},
            handling=self._dict_handling(o),
            first_seen=self._time(o.get("first_seen") or o.get("first_observed")),
            last_seen=self._time(o.get("last_seen") or o.get("last_observed")),
        )
