"""Assertions, entities and relationships to one STIX 2.1 bundle (TLP 2.0 markings).

Each assertion becomes an ``indicator`` with a one-comparison pattern, ``labels:
[threat_type]`` (read back first by the parser), the TLP 2.0 marking of its handling and
our property-extension for the handling STIX cannot say (PAP, grading, purpose,
releasability, retention, review) plus last_seen and sightings. Ids are deterministic
(UUIDv5), so exporting the same data twice gives the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, Final

import orjson

from marsad.formats import stix_vocab as V
from marsad.formats.stix_patterns import escape_literal
from marsad.model.handling import TLP, Handling
from marsad.model.observable import Observable, ObservableType, parse_ref
from marsad.model.records import AssertionView, EntityRecord, RelationshipRecord

MARSAD_NS: Final = uuid.UUID("6f1c3e0a-2b4d-5e8f-9a1b-3c5d7e9f1a2b")
SCO_NS: Final = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9
PROJECT_IDENTITY: Final = {
    "type": "identity",
    "spec_version": "2.1",
    "id": "identity--0b6d7c2e-5f3a-4e1b-8c9d-2a4f6e8b0c1d",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "Marsad project",
    "identity_class": "organization",
}
EXTENSION_DEFINITION: Final = {
    "type": "extension-definition",
    "spec_version": "2.1",
    "id": V.MARSAD_EXTENSION_ID,
    "created_by_ref": PROJECT_IDENTITY["id"],
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "Marsad handling",
    "description": "PAP, Admiralty grading, purpose, releasability, retention and review "
    "dates, last seen and sightings of a Marsad assertion.",
    "schema": V.MARSAD_EXTENSION_SCHEMA,
    "version": "1.0.0",
    "extension_types": ["property-extension"],
}
# SDO types whose schema has a name property; others must not get one invented.
_NAMED: Final = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
        "marking-definition",
        "extension-definition",
    }
)
_SEEN: Final = frozenset({"campaign", "intrusion-set", "infrastructure", "malware", "threat-actor"})
_STIX_SDOS: Final = _NAMED | {"observed-data", "note", "opinion", "malware-analysis"}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _ts(value: dt.datetime, spec: str = "microseconds") -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec=spec) + "Z"


def _uid(*parts: str) -> str:
    """Deterministic, yet shaped as the UUIDv4 STIX asks SDO ids to be (hash bits are random)."""
    return str(uuid.UUID(bytes=uuid.uuid5(MARSAD_NS, "|".join(parts)).bytes, version=4))


def _sco_spec(obs: Observable) -> tuple[str, str, str | None]:
    if obs.type is ObservableType.CIDR:
        return ("ipv6-addr" if ":" in obs.value else "ipv4-addr", "value", None)
    return V.EXPORT_PATHS[obs.type]


def _asn(value: str) -> int:
    return int(value.upper().removeprefix("AS"))


def pattern_of(obs: Observable) -> str:
    """The one-comparison STIX pattern that matches an observable."""
    sco, path, _ = _sco_spec(obs)
    literal = str(_asn(obs.value)) if obs.type is ObservableType.ASN else escape_literal(obs.value)
    return f"[{sco}:{path} = {literal}]"


def sco_of(obs: Observable) -> dict[str, Any]:
    """The SCO for an observable, with its STIX deterministic id."""
    sco, path, hash_name = _sco_spec(obs)
    props: dict[str, Any]
    if hash_name is not None:
        props = {"hashes": {hash_name: obs.value}}
    elif obs.type is ObservableType.ASN:
        props = {"number": _asn(obs.value)}
    else:
        props = {path: obs.value}
    key = orjson.dumps(props, option=orjson.OPT_SORT_KEYS).decode()
    return {"type": sco, "spec_version": "2.1", "id": f"{sco}--{uuid.uuid5(SCO_NS, key)}", **props}


def _marks(handling: Handling, obj: dict[str, Any]) -> None:
    """Set the TLP 2.0 marking and our handling extension on an object."""
    obj["object_marking_refs"] = [V.TLP2_MARKING_IDS[handling.tlp]]
    obj.setdefault("extensions", {})[V.MARSAD_EXTENSION_ID] = V.handling_extension(handling)


class _Bundle:
    """Accumulates objects and the identities and markings they need."""

    def __init__(self, producer: str, now: dt.datetime) -> None:
        self.now = _aware(now)
        self.now_ms = _ts(now, "milliseconds")
        self.identities: dict[str, dict[str, Any]] = {}
        self.producer_ref = self.identity(producer)
        self.tlps: set[TLP] = set()
        self.scos: dict[str, dict[str, Any]] = {}
        self.objects: list[dict[str, Any]] = []
        self.entity_ids: dict[str, str] = {}

    def identity(self, name: str) -> str:
        found = self.identities.get(name)
        if found is None:
            found = self.identities[name] = {
                "type": "identity",
                "spec_version": "2.1",
                "id": f"identity--{_uid('identity', name)}",
                "created": self.now_ms,
                "modified": self.now_ms,
                "name": name,
                "identity_class": "organization",
            }
        return str(found["id"])

    def handled(self, handling: Handling | None, obj: dict[str, Any]) -> dict[str, Any]:
        if handling is not None:
            self.tlps.add(handling.tlp)
            _marks(handling, obj)
        return obj

    def indicator(self, view: AssertionView) -> None:
        obs, threat = view.observable, view.threat_type
        first = _aware(view.first_seen or self.now)
        created = _ts(min(first, self.now), "milliseconds")
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--" + _uid(view.source, obs.type.value, obs.value, threat.value),
            "created_by_ref": self.identity(view.source),
            "created": created,
            "modified": max(created, self.now_ms),
            "indicator_types": [V.EXPORT_INDICATOR_TYPES.get(threat, "malicious-activity")],
            "pattern": pattern_of(obs),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": _ts(first),
            "labels": [threat.value],
        }
        if view.name:
            obj["name"] = view.name
        if view.description:
            obj["description"] = view.description
        if view.confidence is not None:
            obj["confidence"] = view.confidence
        self.handled(view.handling, obj)
        ext = obj["extensions"][V.MARSAD_EXTENSION_ID]
        if view.last_seen is not None:
            ext["last_seen"] = _ts(view.last_seen)
        ext["sightings"] = view.sightings
        self.objects.append(obj)

    def ref(self, ref: str) -> str:
        """The STIX id for a record ref: entity id, or the SCO of an observable ref."""
        if ref in self.entity_ids:
            return self.entity_ids[ref]
        obs = parse_ref(ref) if "--" not in ref else None
        if obs is None:
            return ref
        sco = sco_of(obs)
        self.scos.setdefault(sco["id"], sco)
        return str(sco["id"])

    def entity(self, e: EntityRecord) -> None:
        kind = e.kind if e.kind in _STIX_SDOS or e.kind.startswith("x-") else f"x-marsad-{e.kind}"
        sid = e.ref if e.ref.startswith(f"{kind}--") else f"{kind}--{_uid('entity', e.ref)}"
        self.entity_ids[e.ref] = sid
        obj: dict[str, Any] = {**e.attributes, "type": kind, "spec_version": "2.1", "id": sid}
        if kind in _NAMED or kind.startswith("x-"):
            obj["name"] = e.name
        if kind == "malware":  # required by STIX; the model's malware entities are families
            obj.setdefault("is_family", True)
        if e.description:
            obj["description"] = e.description
        obj.setdefault("created", self.now_ms)
        if kind != "marking-definition":
            obj.setdefault("modified", obj["created"])
        if kind in _SEEN:
            if e.first_seen is not None:
                obj["first_seen"] = _ts(e.first_seen)
            if e.last_seen is not None:
                obj["last_seen"] = _ts(e.last_seen)
        self.objects.append(self.handled(e.handling, obj))

    def relationship(self, r: RelationshipRecord) -> None:
        source, target = self.ref(r.source_ref), self.ref(r.target_ref)
        sid = r.stix_id
        obj: dict[str, Any] = {
            "spec_version": "2.1",
            "created_by_ref": self.producer_ref,
            "created": self.now_ms,
            "modified": self.now_ms,
        }
        attrs = r.attributes
        if isinstance(attrs.get("description"), str):
            obj["description"] = attrs["description"]
        if r.type == "sighting-of" and source.startswith(("identity--", "location--")):
            kind, seen = "sighting", ("first_seen", "last_seen")
            obj.update(sighting_of_ref=target, where_sighted_refs=[source])
            if isinstance(attrs.get("count"), int):
                obj["count"] = attrs["count"]
        else:
            kind, seen = "relationship", ("start_time", "stop_time")
            obj.update(relationship_type=r.type, source_ref=source, target_ref=target)
        if not (sid and sid.startswith(f"{kind}--")):
            sid = f"{kind}--{_uid(source, r.type, target)}"
        obj.update(type=kind, id=sid)
        if r.first_seen is not None:
            obj[seen[0]] = _ts(r.first_seen)
        if r.last_seen is not None and (r.first_seen is None or r.last_seen > r.first_seen):
            obj[seen[1]] = _ts(r.last_seen)
        self.objects.append(self.handled(r.handling, obj))

    def serialise(self) -> bytes:
        head: list[dict[str, Any]] = [PROJECT_IDENTITY, EXTENSION_DEFINITION]
        head += [V.tlp2_marking(t) for t in TLP if t in self.tlps]
        head += self.identities.values()
        objects = head + list(self.scos.values()) + self.objects
        bundle_id = _uid("bundle", self.now_ms, str(len(objects)))
        return orjson.dumps({"type": "bundle", "id": f"bundle--{bundle_id}", "objects": objects})


def export_bundle(
    assertions: Iterable[AssertionView],
    entities: Iterable[EntityRecord] = (),
    relationships: Iterable[RelationshipRecord] = (),
    *,
    producer: str = "Marsad",
    now: dt.datetime,
) -> bytes:
    """A serialised STIX 2.1 bundle that stix2-validator accepts and ``stix21.parse`` reads back."""
    bundle = _Bundle(producer, now)
    for view in assertions:
        bundle.indicator(view)
    for entity in entities:
        bundle.entity(entity)
    for rel in relationships:
        bundle.relationship(rel)
    return bundle.serialise()
