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
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

import orjson

from marsad.formats import stix_vocab as V
from marsad.formats.gcpause import gc_paused
from marsad.formats.stix_patterns import parse_simple
from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.handling import (
    TLP,
    Handling,
    HandlingError,
    parse_tlp,
)
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import (
    AssertionRecord,
    Consumed,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)

NAME = "stix21"
DESCRIPTION = "STIX 2.1 bundle, array of objects or single object (indicators, SDOs, SCOs, SROs)"

_REF_OBJECTS: Final = frozenset({"relationship", "sighting", "report", "grouping", "observed-data"})
_OBJECT_REFS: Final = {"observed-data": "observed", "report": "refers-to", "grouping": "refers-to"}
_CONSUMED_EXTENSIONS: Final = frozenset({V.MARSAD_EXTENSION_ID, V.TLP2_EXTENSION_ID})
_SNIFF_ID: Final = re.compile(rb'"id"\s*:\s*"[a-z0-9-]+--[0-9a-fA-F-]{36}"')
_UNSEEN: Final = object()
_ASSERTED_BY_INDICATOR: Final = "value asserted by an indicator of the same bundle"
_EMPTY: Final[dict[str, Any]] = {}


def sniff(raw: bytes) -> bool:
    """JSON whose start looks like STIX: a bundle, or objects with ``type--uuid`` ids."""
    head = raw[:8192].lstrip()
    if head[:1] not in (b"{", b"["):
        return False
    return b'"type"' in head and (b'"bundle"' in head or _SNIFF_ID.search(head) is not None)


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """Canonical records for every object of the document, located by JSON path.

    Records are made eagerly with the cyclic GC paused: none of them holds a cycle, and
    letting the collector re-scan a decoded document of millions of dicts costs about half
    the parse time. The document itself is freed (by refcount) before the GC resumes.
    """
    with gc_paused():
        return iter(_parse(raw, meta))


def _parse(raw: bytes, meta: ParseMeta) -> list[Record]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} (byte {exc.pos}): {exc.msg}"
        ) from None
    if isinstance(doc, list):
        return _Parser(meta).run(doc, "$")
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        objects = doc.get("objects") or []
        if not isinstance(objects, list):
            raise FormatError("the bundle's objects is not a JSON array")
        return _Parser(meta).run(objects, "$.objects")
    if isinstance(doc, dict) and isinstance(doc.get("type"), str):
        return _Parser(meta).run([doc], "")
    raise FormatError("not a STIX document: expected a bundle, an array of objects or an object")


def _compact(obj: object) -> str:
    return orjson.dumps(obj).decode()


class _Parser:
    """One parse: the indexes the passes share (markings, indicator and SCO refs)."""

    def __init__(self, meta: ParseMeta) -> None:
        self.default = meta.default_threat_type or ThreatType.UNKNOWN
        self.meta_default = meta.default_threat_type
        self.tlp_of: dict[str, TLP] = dict(V.STANDARD_TLP_MARKINGS)
        self.by_tlp = {t: Handling(tlp=t) for t in TLP}
        self.handling_cache: dict[tuple[Any, ...], Handling] = {}
        self.times: dict[str, dt.datetime | None] = {}
        self.ind_obs: dict[str, list[Observable]] = {}
        self.sco_obs: dict[str, list[Observable]] = {}
        self.asserted: set[Observable] = set()
        # (observable type, raw value) an indicator already normalised: the SCO beside it
        # (the usual shape of a bundle) reuses the result instead of normalising again.
        self.normalised: dict[tuple[ObservableType | None, str], Observable] = {}
        self.indicates: dict[str, list[str]] = {}
        self.malware_threat: dict[str, ThreatType] = {}
        self.sco_edges: list[tuple[list[str], str, list[str], str, Handling | None]] = []

    def run(self, objects: list[Any], prefix: str) -> list[Record]:
        """Four passes: markings and index, SDOs and indicators, SCOs, ref-bearing objects."""
        out: list[Record] = []
        primary: list[int] = []
        scos: list[int] = []
        refs: list[int] = []
        for i, o in enumerate(objects):
            t = o.get("type") if isinstance(o, dict) else None
            if t == "marking-definition":
                out.extend(self._guard(self._marking, o, self._loc(prefix, i, o)))
            elif t in V.SCO_TYPES:
                scos.append(i)
            elif t in _REF_OBJECTS:
                refs.append(i)
                if t == "relationship" and o.get("relationship_type") == "indicates":
                    source, target = str(o.get("source_ref")), str(o.get("target_ref"))
                    self.indicates.setdefault(source, []).append(target)
            else:
                primary.append(i)
                if t == "malware":
                    self.malware_threat[str(o.get("id"))] = self._malware_threat(o)
        guard, handle, loc = self._guard, self._object, self._loc
        for group in (primary, scos):
            for i in group:
                o = objects[i]
                out.extend(guard(handle, o, loc(prefix, i, o)))
        out.extend(self._sco_edges())
        for i in refs:
            o = objects[i]
            out.extend(guard(handle, o, loc(prefix, i, o)))
        return out

    @staticmethod
    def _loc(prefix: str, i: int, o: Any) -> str:
        base = f"{prefix}[{i}]" if prefix else "$"
        oid = o.get("id") if isinstance(o, dict) else None
        return f"{base} ({oid})" if isinstance(oid, str) else base

    def _guard(self, handler: Any, o: Any, loc: str) -> list[Record]:
        """Run one object's handler; malformed content rejects that object, never the file."""
        if not isinstance(o, dict):
            return [Rejected(location=loc, reason="not a JSON object", raw=_compact(o))]
        try:
            return list(handler(o, loc))
        except (HandlingError, ValueError, TypeError, AttributeError, KeyError) as exc:
            reason = f"malformed {o.get('type')}: {exc}"
            return [Rejected(location=loc, reason=reason, raw=_compact(o))]

    def _object(self, o: dict[str, Any], loc: str) -> Iterable[Record]:
        t = o.get("type")
        if not isinstance(t, str):
            return [Rejected(location=loc, reason="object without a type", raw=_compact(o))]
        if t == "indicator":
            return self._indicator(o, loc)
        if t in V.SCO_TYPES:
            return self._sco(o, t, loc)
        if t == "relationship":
            return self._relationship(o, loc)
        if t == "sighting":
            return self._sighting(o, loc)
        if t == "extension-definition" and o.get("id") in _CONSUMED_EXTENSIONS:
            return [
                Consumed(location=loc, what=f"extension-definition {o.get('name', '')}".strip())
            ]
        if not isinstance(o.get("id"), str):
            return [Rejected(location=loc, reason=f"{t} without an id", raw=_compact(o))]
        out: list[Record] = [self._entity(o, t, loc)]
        if t in _OBJECT_REFS:
            out.extend(self._object_refs(o, _OBJECT_REFS[t], loc))
        return out

    # -- handling and small fields ---------------------------------------------------
    def _time(self, value: Any) -> dt.datetime | None:
        if not isinstance(value, str):
            return None
        found = self.times.get(value, _UNSEEN)
        if found is _UNSEEN:
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

    def _handling(self, o: dict[str, Any]) -> Handling | None:
        marks = o.get("object_marking_refs")
        ext = o.get("extensions")
        mine = ext.get(V.MARSAD_EXTENSION_ID) if ext else None
        tlp: TLP | None = None
        if marks:
            for ref in marks:
                found = self.tlp_of.get(ref) if isinstance(ref, str) else None
                if found is not None and (tlp is None or found.rank > tlp.rank):
                    tlp = found
        if not mine:
            return None if tlp is None else self.by_tlp[tlp]
        key = (tlp, *(_compact(mine[k]) if k in mine else None for k in V.EXTENSION_KEYS))
        cached = self.handling_cache.get(key)
        if cached is None:
            cached = self.handling_cache[key] = V.handling_from_extension(tlp or TLP.AMBER, mine)
        return cached

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
    def _indicator(self, o: dict[str, Any], loc: str) -> list[Record]:
        pattern = o.get("pattern")
        comparisons = None
        if isinstance(pattern, str) and o.get("pattern_type", "stix") == "stix":
            comparisons = parse_simple(pattern)
        if comparisons is None:
            return [self._entity(o, "indicator", loc)]
        ext = o.get("extensions")
        mine = (ext.get(V.MARSAD_EXTENSION_ID) if ext else None) or _EMPTY
        seen, conf = mine.get("sightings"), o.get("confidence")
        oid = o.get("id")
        common: dict[str, Any] = {
            "threat_type": self._indicator_threat(o),
            "location": loc,
            "first_seen": self._time(o.get("valid_from")),
            "last_seen": self._time(mine.get("last_seen")) if mine else None,
            "confidence": conf if type(conf) is int and 0 <= conf <= 100 else None,
            "sightings": seen if type(seen) is int and seen > 0 else 1,
            "handling": self._handling(o),
            "stix_id": oid,
            "name": o.get("name"),
            "description": o.get("description"),
        }
        out: list[Record] = []
        found: list[Observable] = []
        unmapped = False
        for sco, path, value in comparisons:
            kind = V.resolve_path(sco, path)
            if kind is V.UNKNOWN_PATH:
                unmapped = True
                continue
            try:
                obs = V.make_observable(kind, value, sco)
            except InvalidObservable as exc:
                reason = f"{sco}:{path} {value[:80]!r}: {exc.reason}"
                out.append(Rejected(location=loc, reason=reason, raw=_compact(o)))
                continue
            self.normalised[(kind, value)] = obs
            found.append(obs)
            out.append(AssertionRecord(observable=obs, **common))
        if unmapped:
            out.append(self._entity(o, "indicator", loc))
        if found and isinstance(oid, str):
            self.ind_obs[oid] = found
            self.asserted.update(found)
        return out

    def _indicator_threat(self, o: dict[str, Any]) -> ThreatType:
        for label in o.get("labels") or ():
            found = V.LABEL_THREAT.get(label) if isinstance(label, str) else None
            if found is not None:
                return found
        kinds = [k for k in o.get("indicator_types") or () if isinstance(k, str)]
        for kind in kinds:
            if kind in V.SPECIFIC_INDICATOR_TYPES:
                return V.INDICATOR_TYPE_THREAT[kind]
        for target in self.indicates.get(str(o.get("id")), ()):
            if target in self.malware_threat:
                return self.malware_threat[target]
        for text in (o.get("name"), o.get("description")):
            if isinstance(text, str) and (found := V.keyword_threat(text)) is not None:
                return found
        for phase in o.get("kill_chain_phases") or ():
            found = V.KILL_CHAIN_THREAT.get(phase.get("phase_name"))
            if found is not None:
                return found
        if self.meta_default is not None:
            return self.meta_default
        for kind in kinds:
            if kind in V.INDICATOR_TYPE_THREAT:
                return V.INDICATOR_TYPE_THREAT[kind]
        return ThreatType.UNKNOWN

    @staticmethod
    def _malware_threat(o: dict[str, Any]) -> ThreatType:
        for kind in o.get("malware_types") or ():
            if isinstance(kind, str) and kind in V.MALWARE_TYPE_THREAT:
                return V.MALWARE_TYPE_THREAT[kind]
        return ThreatType.MALWARE

    def _sco(self, o: dict[str, Any], t: str, loc: str) -> list[Record]:
        spec = V.VALUE_SCOS.get(t)
        raw_values: list[tuple[ObservableType | None, str]]
        if spec is not None:
            value = o.get(spec[0])
            if value is None or isinstance(value, dict | list):
                return [Rejected(location=loc, reason=f"{t} without {spec[0]}", raw=_compact(o))]
            raw_values = [(spec[1], str(value))]
        elif t in V.HASHED_SCOS or t == "x509-certificate":
            hashes = o.get("hashes") or {}
            raw_values = [(k, str(v)) for n, v in hashes.items() if (k := V.hash_type(t, n))]
            if not raw_values:
                reason = f"{t} without a hash we track (MD5, SHA-1, SHA-256, SHA-512, SSDEEP, TLSH)"
                if t == "x509-certificate":
                    reason = "x509-certificate without a SHA-256 fingerprint"
                return [Rejected(location=loc, reason=reason, raw=_compact(o))]
        else:
            reason = f"unsupported observable type {t}"
            return [Rejected(location=loc, reason=reason, raw=_compact(o))]
        handling = self._handling(o) if "object_marking_refs" in o or "extensions" in o else None
        oid = o.get("id")
        out: list[Record] = []
        found: list[Observable] = []
        for kind, value in raw_values:
            try:
                obs = self.normalised.get((kind, value)) or V.make_observable(kind, value, t)
            except InvalidObservable as exc:
                out.append(Rejected(location=loc, reason=exc.reason, raw=_compact(o)))
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
        if found and isinstance(oid, str):
            self.sco_obs[oid] = found
            for prop, rel in V.SCO_REF_PROPS.items():
                if targets := o.get(prop):
                    refs = [f.ref for f in found]
                    self.sco_edges.append((refs, rel, list(targets), loc, handling))
        return out

    def _sco_edges(self) -> Iterator[Record]:
        for sources, rel, targets, loc, handling in self.sco_edges:
            for target in targets:
                for s in sources:
                    for t in self._expand(target):
                        yield RelationshipRecord(
                            source_ref=s, target_ref=t, type=rel, location=loc, handling=handling
                        )

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
            handling=self._handling(o),
            first_seen=self._time(o.get("first_seen") or o.get("first_observed")),
            last_seen=self._time(o.get("last_seen") or o.get("last_observed")),
        )

    def _expand(self, ref: Any) -> list[str]:
        """The refs a STIX id stands for: observables for indicators and SCOs, else itself."""
        ref = str(ref)
        found = self.ind_obs.get(ref) or self.sco_obs.get(ref)
        return [f.ref for f in found] if found else [ref]

    def _edges(
        self, o: dict[str, Any], loc: str, source: Any, target: Any, rel: str, **kw: Any
    ) -> Iterator[Record]:
        handling = self._handling(o)
        oid = o.get("id")
        for s in self._expand(source):
            for t in self._expand(target):
                yield RelationshipRecord(
                    source_ref=s,
                    target_ref=t,
                    type=rel,
                    location=loc,
                    stix_id=oid,
                    handling=handling,
                    **kw,
                )

    def _relationship(self, o: dict[str, Any], loc: str) -> Iterator[Record]:
        src, tgt, rel = o.get("source_ref"), o.get("target_ref"), o.get("relationship_type")
        if not (isinstance(src, str) and isinstance(tgt, str) and isinstance(rel, str)):
            reason = "relationship without source_ref, target_ref or relationship_type"
            yield Rejected(location=loc, reason=reason, raw=_compact(o))
            return
        attrs = {k: o[k] for k in ("description", "confidence", "created_by_ref") if k in o}
        first, last = self._time(o.get("start_time")), self._time(o.get("stop_time"))
        yield from self._edges(
            o, loc, src, tgt, rel, first_seen=first, last_seen=last, attributes=attrs
        )

    def _sighting(self, o: dict[str, Any], loc: str) -> Iterator[Record]:
        target = o.get("sighting_of_ref")
        if not isinstance(target, str):
            yield Rejected(location=loc, reason="sighting without sighting_of_ref", raw=_compact(o))
            return
        where = o.get("where_sighted_refs") or [None]
        source = where[0] or o.get("created_by_ref") or o.get("id")
        attrs = {"count": o.get("count", 1)}
        for k in ("where_sighted_refs", "observed_data_refs", "summary", "description"):
            if k in o:
                attrs[k] = o[k]
        first, last = self._time(o.get("first_seen")), self._time(o.get("last_seen"))
        yield from self._edges(
            o,
            loc,
            source,
            target,
            "sighting-of",
            first_seen=first,
            last_seen=last,
            attributes=attrs,
        )

    def _object_refs(self, o: dict[str, Any], rel: str, loc: str) -> Iterator[Record]:
        attrs = {"count": o["number_observed"]} if "number_observed" in o else {}
        first = self._time(o.get("first_observed"))
        last = self._time(o.get("last_observed"))
        for target in o.get("object_refs") or ():
            yield from self._edges(
                o,
                loc,
                o["id"],
                target,
                rel,
                first_seen=first,
                last_seen=last,
                attributes=attrs,
            )
