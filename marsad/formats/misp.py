"""MISP event JSON to canonical records (import).

Accepts one event (``{"Event": …}`` or a bare event), a list of them, and REST search
envelopes (``{"response": […]}`` of events, objects or attributes). What becomes what:
- an event: an EntityRecord ``kind="report"`` (ref ``misp-event--<uuid>``) carrying the
  title, date, creator organisation, tags and the non-indicator attributes as context;
- an attribute of a type we track: an AssertionRecord located by JSON path; ``to_ids``
  attributes are detection-grade (threat type from the event's tags, galaxies and title,
  else ``malicious-activity``), the others say ``unknown``; a ``refers-to`` edge links the
  event to it. Other types (text, filename, regkey, …) are Consumed into the event's context;
  deleted attributes and unaccepted proposals are Consumed with that reason;
- a MISP object: an EntityRecord ``kind="misp-object:<name>"`` with ``contains`` edges to
  its observables; object references become edges of their relationship type;
- a galaxy cluster: an entity (threat actor, intrusion set, malware, …) the event refers to;
- tags ``tlp:*`` and ``PAP:*`` give the TLP/PAP (an attribute's own tags over its event's); distribution 1 gives
  releasability to all members, 2–3 to members and partners, 4 to the sharing group's
  organisations.
MISP feeds (a directory with ``manifest.json``) are read event file by event file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

import orjson

from marsad.formats.gcpause import gc_paused
from marsad.formats.stix_vocab import keyword_threat
from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.handling import (
    PAP,
    TLP,
    Handling,
    HandlingError,
    Releasability,
    parse_pap,
    parse_tlp,
)
from marsad.model.normalize import detect, observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import (
    AssertionRecord,
    Consumed,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
)
from marsad.model.records import ThreatType as T

_L = TypeVar("_L", TLP, PAP)

NAME = "misp"
DESCRIPTION = "MISP event JSON: one event, a list, or a REST search response"

# MISP attribute type -> observable type (None: detect, e.g. ip-dst may be v4 or v6).
# For "a|b" types the value's first part is the file name or host; see _SECOND_PART.
ATTRIBUTE_TYPES: Final[dict[str, O | None]] = {
    "ip-src": None, "ip-dst": None, "ip-src|port": None, "ip-dst|port": None,
    "domain": O.DOMAIN, "hostname": O.DOMAIN, "domain|ip": O.DOMAIN, "hostname|port": O.DOMAIN,
    "url": O.URL, "uri": O.URL, "email": O.EMAIL, "email-src": O.EMAIL, "email-dst": O.EMAIL,
    "email-reply-to": O.EMAIL, "whois-registrant-email": O.EMAIL,
    "md5": O.MD5, "sha1": O.SHA1, "sha256": O.SHA256, "sha512": O.SHA512,
    "ssdeep": O.SSDEEP, "tlsh": O.TLSH, "malware-sample": O.MD5,
    "filename|md5": O.MD5, "filename|sha1": O.SHA1, "filename|sha256": O.SHA256,
    "filename|sha512": O.SHA512, "filename|ssdeep": O.SSDEEP, "filename|tlsh": O.TLSH,
    "btc": O.BTC_WALLET, "xmr": O.XMR_WALLET, "phone-number": O.PHONE,
    "whois-registrant-phone": O.PHONE, "iban": O.IBAN, "AS": O.ASN,
    "x509-fingerprint-sha256": O.TLS_SHA256,
}  # fmt: skip
_SECOND_PART: Final = frozenset(
    t for t in ATTRIBUTE_TYPES if t.startswith("filename|") or t == "malware-sample"
)
_BOTH_PARTS: Final = frozenset({"domain|ip"})
# galaxy type -> entity kind
GALAXY_KINDS: Final = {
    "threat-actor": "threat-actor", "mitre-intrusion-set": "intrusion-set",
    "mitre-enterprise-attack-intrusion-set": "intrusion-set", "malpedia": "malware",
    "mitre-malware": "malware", "ransomware": "malware", "botnet": "malware",
    "banker": "malware", "rat": "malware", "tool": "tool", "mitre-tool": "tool",
    "mitre-attack-pattern": "attack-pattern", "sector": "identity", "country": "location",
}  # fmt: skip
GALAXY_THREATS: Final = {"ransomware": T.RANSOMWARE, "botnet": T.BOTNET, "banker": T.FRAUD}
_RELEASE: Final = {
    "1": Releasability(all_members=True),
    "2": Releasability(all_members=True, partners=True),
    "3": Releasability(all_members=True, partners=True),
}


def sniff(raw: bytes) -> bool:
    """JSON that starts like a MISP event or search response."""
    head = raw[:4096].lstrip()
    if head[:1] not in (b"{", b"["):
        return False
    keys = (b'"Event"', b'"Attribute"', b'"Object"', b'"GalaxyCluster"', b'"SharingGroup"',
            b'"Orgc"')  # fmt: skip
    return any(k in head for k in keys) or (b'"response"' in head and b'"type"' not in head[:200])


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """Canonical records for every event, attribute, object and galaxy in the document."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} (byte {exc.pos}): {exc.msg}"
        ) from None
    with gc_paused():
        return iter(list(_document(doc, meta)))


def _document(doc: Any, meta: ParseMeta) -> Iterator[Record]:
    if isinstance(doc, dict) and "GalaxyCluster" in doc and "Attribute" not in doc:
        doc = {"Galaxy": [doc], "info": f"MISP galaxy {doc.get('name')}", "uuid": doc.get("uuid")}
    if (
        isinstance(doc, dict)
        and doc
        and all(
            len(k) == 36 and k.count("-") == 4 and isinstance(v, dict) and "info" in v
            for k, v in doc.items()
        )
    ):  # a feed's manifest.json: event uuid -> event summary
        doc = [{"Event": {**summary, "uuid": uuid}} for uuid, summary in doc.items()]
    if isinstance(doc, dict) and "response" in doc:
        doc, prefix = doc["response"], "$.response"
    else:
        prefix = "$"
    if isinstance(doc, dict) and isinstance(doc.get("Attribute"), list) and "info" not in doc:
        doc = {"Attribute": doc["Attribute"]}  # attribute search: an event without header
    items = doc if isinstance(doc, list) else [doc]
    found = False
    for i, item in enumerate(items):
        loc = f"{prefix}[{i}]" if isinstance(doc, list) else prefix
        if isinstance(item, dict) and "Event" in item:
            item, loc = item["Event"], f"{loc}.Event"
        elif isinstance(item, dict) and isinstance(item.get("Object"), dict):
            yield from _Event({}, loc, meta).single_object(item["Object"], f"{loc}.Object")
            found = True
            continue
        if not isinstance(item, dict) or not ({"Attribute", "Object", "info", "uuid"} & set(item)):
            yield Rejected(location=loc, reason="not a MISP event", raw=orjson.dumps(item).decode())
            continue
        found = True
        yield from _Event(item, loc, meta).records()
    if not found and not items:
        raise FormatError("the document holds no MISP events")


def _time(value: Any) -> dt.datetime | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return dt.datetime.fromtimestamp(int(value), dt.UTC)
        parsed = dt.datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _known(parse_label: Callable[[str], _L], tag: str, unknown: _L) -> _L:
    """A TLP/PAP tag's label; one we do not know (``tlp:ex:chr``…) reads as RED, never looser."""
    try:
        return parse_label(tag)
    except HandlingError:
        return unknown


def _tags(obj: dict[str, Any]) -> list[str]:
    tags = obj.get("Tag") or []
    if isinstance(tags, dict):
        tags = [tags]
    return [str(t.get("name")) for t in tags if isinstance(t, dict) and t.get("name")]


class _Event:
    """One event: its handling, threat type and report entity shared by its attributes."""

    def __init__(self, event: dict[str, Any], loc: str, meta: ParseMeta) -> None:
        self.event, self.loc = event, loc
        uuid = event.get("uuid") or loc
        self.ref = f"misp-event--{uuid}"
        self.tags = _tags(event)
        self.handling = self._handling(self.tags, event, None)
        self.context: list[dict[str, Any]] = []
        self.clusters: list[EntityRecord] = []
        self.threat = self._threat(meta)

    def _threat(self, meta: ParseMeta) -> T:
        for galaxy in self.event.get("Galaxy") or []:
            if galaxy.get("type") in GALAXY_THREATS:
                return GALAXY_THREATS[galaxy["type"]]
        for text in [*self.tags, str(self.event.get("info") or "")]:
            found = keyword_threat(text)
            if found is not None:
                return found
        return meta.default_threat_type or T.MALICIOUS_ACTIVITY

    def _handling(
        self, tags: list[str], obj: dict[str, Any], base: Handling | None
    ) -> Handling | None:
        # An object's own TLP/PAP tags mark it (MISP users tag single attributes looser or
        # stricter than their event); several tags on one object: the strictest wins.
        tlp: TLP | None = None
        pap: PAP | None = None
        for tag in tags:
            low = tag.lower()
            if low.startswith("tlp:"):
                found = _known(parse_tlp, low, TLP.RED)
                tlp = found if tlp is None or found.rank > tlp.rank else tlp
            elif low.startswith("pap:"):
                got = _known(parse_pap, low, PAP.RED)
                pap = got if pap is None or got.rank > pap.rank else pap
        tlp = tlp or (base.tlp if base else None)
        pap = pap or (base.pap if base else None)
        release = _RELEASE.get(str(obj.get("distribution")))
        if str(obj.get("distribution")) == "4":
            group = obj.get("SharingGroup") or {}
            names = [
                str(o.get("Organisation", {}).get("name"))
                for o in group.get("SharingGroupOrg") or []
                if isinstance(o, dict) and o.get("Organisation")
            ]
            release = Releasability(organisations=tuple(sorted(set(names))))
        if tlp is None and pap is None and release is None:
            return base
        start = base or Handling(tlp=tlp or TLP.AMBER)
        return Handling(
            tlp=tlp or start.tlp,
            pap=pap or start.pap,
            releasable_to=release or start.releasable_to,
        )

    def records(self) -> Iterator[Record]:
        event, loc = self.event, self.loc
        yield from self._galaxies(event, f"{loc}.Galaxy")
        by_uuid: dict[str, list[str]] = {}
        for i, attr in enumerate(event.get("Attribute") or []):
            yield from self._attribute(attr, f"{loc}.Attribute[{i}]", by_uuid, None)
        objects = event.get("Object") or []
        for i, obj in enumerate(objects):
            yield from self._object(obj, f"{loc}.Object[{i}]", by_uuid)
        for i, obj in enumerate(objects):
            yield from self._references(obj, f"{loc}.Object[{i}]", by_uuid)
        for i in range(len(event.get("ShadowAttribute") or [])):
            yield Consumed(location=f"{loc}.ShadowAttribute[{i}]", what="proposal not accepted")
        yield from self.clusters
        info = str(event.get("info") or "MISP attributes")
        orgc = event.get("Orgc") or {}
        yield EntityRecord(
            ref=self.ref, kind="report", name=info, location=loc, handling=self.handling,
            first_seen=_time(event.get("date")), last_seen=_time(event.get("timestamp")),
            attributes={
                "misp_uuid": event.get("uuid"), "tags": self.tags, "creator": orgc.get("name"),
                "threat_level_id": event.get("threat_level_id"), "context": self.context,
            },
        )  # fmt: skip

    def single_object(self, obj: dict[str, Any], loc: str) -> Iterator[Record]:
        """A MISP object from an object search response (no event around it)."""
        by_uuid: dict[str, list[str]] = {}
        for record in self._object(obj, loc, by_uuid):
            if not (isinstance(record, RelationshipRecord) and record.source_ref == self.ref):
                yield record
        yield from self._references(obj, loc, by_uuid)

    def _galaxies(self, holder: dict[str, Any], loc: str) -> Iterator[Record]:
        for g, galaxy in enumerate(holder.get("Galaxy") or []):
            kind = GALAXY_KINDS.get(str(galaxy.get("type")), "galaxy-cluster")
            for c, cluster in enumerate(galaxy.get("GalaxyCluster") or []):
                ref = f"misp-galaxy-cluster--{cluster.get('uuid') or cluster.get('value')}"
                self.clusters.append(
                    EntityRecord(
                        ref=ref, kind=kind, name=str(cluster.get("value") or ref),
                        location=f"{loc}[{g}].GalaxyCluster[{c}]", handling=self.handling,
                        description=cluster.get("description") or None,
                        attributes={"galaxy": galaxy.get("type"), "meta": cluster.get("meta") or {}},
                    )
                )  # fmt: skip
                yield RelationshipRecord(
                    source_ref=self.ref, target_ref=ref, type="refers-to",
                    location=f"{loc}[{g}].GalaxyCluster[{c}]", handling=self.handling,
                )  # fmt: skip

    def _attribute(
        self, attr: Any, loc: str, by_uuid: dict[str, list[str]], holder: str | None
    ) -> Iterator[Record]:
        if not isinstance(attr, dict) or "type" not in attr or "value" not in attr:
            yield Rejected(
                location=loc,
                reason="attribute without type or value",
                raw=orjson.dumps(attr).decode(),
            )
            return
        kind, value = str(attr["type"]), str(attr["value"])
        if attr.get("deleted") in (True, "1", 1):
            yield Consumed(location=loc, what="attribute deleted in MISP")
            return
        if kind not in ATTRIBUTE_TYPES and self._own_tags(attr)[1] is None:
            self.context.append(
                {"type": kind, "value": value[:2000], "category": attr.get("category")}
            )
            yield Consumed(location=loc, what=f"{kind} attribute kept as context of the event")
            return
        parts = value.split("|")
        values = parts if kind in _BOTH_PARTS else [parts[-1] if kind in _SECOND_PART else parts[0]]
        handling = self._handling(_tags(attr), attr, self.handling)
        ids = attr.get("to_ids") in (True, "1", 1)
        threat, wanted_type = self._own_tags(attr)
        sightings = [s for s in attr.get("Sighting") or [] if str(s.get("type", "0")) == "0"]
        for n, text in enumerate(values):
            wanted = wanted_type or (ATTRIBUTE_TYPES[kind] if n == 0 else None)
            if wanted is O.DOMAIN and text.rstrip(".").lower().endswith(".onion"):
                wanted = O.ONION
            try:
                obs = observable(wanted, text) if wanted is not None else detect(text)
            except InvalidObservable as exc:
                yield Rejected(
                    location=loc, reason=f"{kind} {exc.reason}", raw=orjson.dumps(attr).decode()
                )
                continue
            if obs is None:
                yield Rejected(
                    location=loc,
                    reason=f"{kind} {text[:80]!r} is not a recognised value",
                    raw=orjson.dumps(attr).decode(),
                )
                continue
            by_uuid.setdefault(str(attr.get("uuid")), []).append(obs.ref)
            if holder is not None:
                by_uuid.setdefault(holder, []).append(obs.ref)
            yield AssertionRecord(
                observable=obs, threat_type=threat or (self.threat if ids else T.UNKNOWN),
                location=loc,
                first_seen=_time(attr.get("first_seen")) or _time(attr.get("timestamp")),
                last_seen=_time(attr.get("last_seen")), handling=handling,
                sightings=max(1, len(sightings)), stix_id=None,
                description=attr.get("comment") or None,
            )  # fmt: skip
            yield RelationshipRecord(
                source_ref=holder or self.ref, target_ref=obs.ref,
                type="contains" if holder else "refers-to", location=loc, handling=handling,
            )  # fmt: skip

    @staticmethod
    def _own_tags(attr: dict[str, Any]) -> tuple[T | None, O | None]:
        """Threat and observable type from the tags our own MISP export writes."""
        threat: T | None = None
        kind: O | None = None
        for tag in _tags(attr):
            name, _, value = tag.partition("=")
            value = value.strip('"')
            if name == "marsad:threat-type" and value in T._value2member_map_:
                threat = T(value)
            elif name == "marsad:observable-type" and value in O._value2member_map_:
                kind = O(value)
        return threat, kind

    def _object(self, obj: Any, loc: str, by_uuid: dict[str, list[str]]) -> Iterator[Record]:
        if not isinstance(obj, dict):
            yield Rejected(
                location=loc, reason="object is not a JSON object", raw=orjson.dumps(obj).decode()
            )
            return
        ref = f"misp-object--{obj.get('uuid') or loc}"
        yield EntityRecord(
            ref=ref, kind=f"misp-object:{obj.get('name') or 'object'}",
            name=str(obj.get("name") or "object"), location=loc, handling=self.handling,
            description=obj.get("comment") or None,
            attributes={"template": obj.get("template_uuid"), "event": self.ref},
        )  # fmt: skip
        yield RelationshipRecord(
            source_ref=self.ref, target_ref=ref, type="refers-to", location=loc
        )
        by_uuid.setdefault(str(obj.get("uuid")), [])
        for i, attr in enumerate(obj.get("Attribute") or []):
            yield from self._attribute(attr, f"{loc}.Attribute[{i}]", by_uuid, ref)

    def _references(self, obj: Any, loc: str, by_uuid: dict[str, list[str]]) -> Iterator[Record]:
        if not isinstance(obj, dict):
            return
        source = f"misp-object--{obj.get('uuid') or loc}"
        for i, link in enumerate(obj.get("ObjectReference") or []):
            target_uuid = str(link.get("referenced_uuid"))
            targets = [f"misp-object--{target_uuid}"] if target_uuid in by_uuid else []
            if not targets:
                targets = by_uuid.get(target_uuid) or [f"misp-object--{target_uuid}"]
            for target in targets:
                yield RelationshipRecord(
                    source_ref=source, target_ref=target,
                    type=str(link.get("relationship_type") or "related-to"),
                    location=f"{loc}.ObjectReference[{i}]", handling=self.handling,
                )  # fmt: skip
