"""Canonical records that formats produce and the store keeps.

Formats are pure functions ``parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]``;
every stage after them reads and writes these records only.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import msgspec

from marsad.model.handling import Handling
from marsad.model.observable import Observable


class ThreatType(StrEnum):
    """What a source says an observable is: the assertion's verb."""

    PHISHING = "phishing"
    C2 = "c2"
    MALWARE_DISTRIBUTION = "malware-distribution"
    MALWARE = "malware"
    BOTNET = "botnet"
    RANSOMWARE = "ransomware"
    INVESTMENT_SCAM = "investment-scam"
    ROMANCE_SCAM = "romance-scam"
    BEC = "bec"
    FRAUD = "fraud"
    PIRACY = "piracy"
    SPAM = "spam"
    SCANNING = "scanning"
    BRUTE_FORCE = "brute-force"
    EXPLOITATION = "exploitation"
    COMPROMISED = "compromised"
    ANONYMIZATION = "anonymization"
    VULNERABLE = "vulnerable"  # an exposed or vulnerable service: a victim's asset
    MALICIOUS_ACTIVITY = "malicious-activity"
    BENIGN = "benign"
    UNKNOWN = "unknown"


class EntityKind(StrEnum):
    """Entity kinds we model; STIX SDO types we do not model keep their own type name."""

    THREAT_ACTOR = "threat-actor"
    INTRUSION_SET = "intrusion-set"
    CAMPAIGN = "campaign"
    MALWARE = "malware"
    INFRASTRUCTURE = "infrastructure"
    IDENTITY = "identity"
    LOCATION = "location"
    REPORT = "report"
    CASE = "case"
    PERSON = "person"
    ORGANISATION = "organisation"
    PIRACY_SITE = "piracy-site"
    INDICATOR = "indicator"  # an indicator whose pattern is not a simple comparison
    MARKING = "marking-definition"


class AssertionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """*The source says observable X is T*, with when, how sure and how to handle it.

    ``handling`` is what the record itself carries (e.g. STIX markings); None means the
    submission's defaults apply. ``location`` is where in the raw submission it came from.
    """

    observable: Observable
    threat_type: ThreatType
    location: str
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    confidence: int | None = None
    sightings: int = 1
    handling: Handling | None = None
    stix_id: str | None = None
    name: str | None = None
    description: str | None = None


class EntityRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A threat actor, campaign, malware family, report, … identified by a STIX-style id."""

    ref: str
    kind: str
    name: str
    location: str
    description: str | None = None
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)
    handling: Handling | None = None
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None


class RelationshipRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A typed edge between two refs (``type:value`` for observables, STIX ids for entities)."""

    source_ref: str
    target_ref: str
    type: str
    location: str
    stix_id: str | None = None
    handling: Handling | None = None
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    """A record that could not be turned into canonical records, kept with its reason."""

    location: str
    reason: str
    raw: str = ""


class Consumed(msgspec.Struct, frozen=True, kw_only=True):
    """An input object fully absorbed into other records (e.g. a TLP marking-definition)."""

    location: str
    what: str


Record = AssertionRecord | EntityRecord | RelationshipRecord | Rejected | Consumed


class AssertionBlock(msgspec.Struct, kw_only=True):
    """Assertions of a run of plain STIX indicators, by column (a bulk reader's output).

    Row k is ``AssertionRecord(observable=observables[k], threat_type=threat_types[k],
    location=locations[k], first_seen=first_seen[k], confidence=confidence[k],
    handling=handling[k], stix_id=stix_ids[k], name=names[k],
    description=descriptions[k])``, last_seen None and one sighting: `records` gives
    exactly those, in order. Only streams that ask for blocks get them.
    """

    observables: list[Observable]
    threat_types: list[ThreatType]
    locations: list[str]
    first_seen: list[dt.datetime | None]
    confidence: list[int | None]
    handling: list[Handling | None]
    stix_ids: list[str]
    names: list[Any]
    descriptions: list[Any]

    def __len__(self) -> int:
        return len(self.observables)

    def records(self) -> list[AssertionRecord]:
        """The block's rows as the records it stands for."""
        return [
            AssertionRecord(
                observable=o,
                threat_type=t,
                location=loc,
                first_seen=f,
                confidence=c,
                handling=h,
                stix_id=i,
                name=n,
                description=d,
            )
            for o, t, loc, f, c, h, i, n, d in zip(
                self.observables,
                self.threat_types,
                self.locations,
                self.first_seen,
                self.confidence,
                self.handling,
                self.stix_ids,
                self.names,
                self.descriptions,
                strict=True,
            )
        ]


class ParseMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What a format may know about the submission besides its bytes."""

    filename: str | None = None
    default_threat_type: ThreatType | None = None
    received_at: dt.datetime | None = None
    # The generic mapped format's columns: our field name -> the file's column name.
    column_map: dict[str, str] | None = None


class AssertionView(msgspec.Struct, frozen=True, kw_only=True):
    """A stored assertion as readers see it: handling resolved, source named, merged counts."""

    observable: Observable
    threat_type: ThreatType
    handling: Handling
    source: str
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    sightings: int = 1
    confidence: int | None = None
    stix_id: str | None = None
    name: str | None = None
    description: str | None = None


class ConsumedBlock(msgspec.Struct, kw_only=True):
    """Objects of a document absorbed into other records, by column: object k is
    ``Consumed(location=f"{prefix}{positions[k]}] ({ids[k]})", what=what)``."""

    what: str
    prefix: str
    positions: list[int]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.positions)

    def records(self) -> list[Consumed]:
        """The block's objects as the records it stands for."""
        prefix, what = self.prefix, self.what
        return [
            Consumed(location=f"{prefix}{i}] ({oid})", what=what)
            for i, oid in zip(self.positions, self.ids, strict=True)
        ]
