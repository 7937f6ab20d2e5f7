"""Stored assertions as the STIX 2.1 indicators a TAXII collection serves.

The shape is the file exporter's (`marsad.formats.stix21_export`): one-comparison
pattern, ``labels: [threat type]``, the TLP 2.0 marking and our handling extension, so
`marsad.formats.stix21` reads a page back to the same assertions with the same handling.
Two things differ because a TAXII object lives on: ``modified`` is the date the current
version was added (stable across reads, new on every change), and the id names the row.

Ids are reversible, so looking an object up by id is a primary-key read: the upper 64
bits are this instance's random id (minted by migration 0003), the lower 61 the
assertion id. Different instances therefore never mint the same id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache
from typing import Any, Final

from marsad.formats import stix_vocab as V
from marsad.formats.stix21_export import MARSAD_NS, pattern_of
from marsad.model.handling import TLP
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import ThreatType
from marsad.store.store import handling_of

STIX_MEDIA: Final = "application/stix+json;version=2.1"
_LOW_BITS: Final = (1 << 61) - 1
_VARIANT: Final = 0b10 << 62
_STATUS: Final = 1 << 61  # set in status ids, so they never read as object ids
_TLP_BY_RANK: Final = tuple(TLP)


def ts(value: dt.datetime) -> str:
    """A STIX/TAXII timestamp in UTC with microseconds (TAXII 2.1 §3.2)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


@lru_cache(maxsize=65536)
def stamp(value: dt.datetime) -> str:
    """`ts` of a stored (naive UTC or aware) datetime, cached: rows share their dates."""
    return ts(value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC))


def parse_ts(text: str) -> dt.datetime:
    """An RFC 3339 timestamp as an aware UTC datetime; ValueError when malformed."""
    value = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return value.astimezone(dt.UTC)


def utc(value: dt.datetime) -> dt.datetime:
    """A stored datetime as aware UTC (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _uid(*parts: str) -> str:
    return str(uuid.UUID(bytes=uuid.uuid5(MARSAD_NS, "|".join(parts)).bytes, version=4))


@lru_cache(maxsize=4096)
def identity_ref(name: str) -> str:
    """The identity id the exporter gives an organisation (``created_by_ref``)."""
    return f"identity--{_uid('identity', name)}"


class IdCodec:
    """Mints and reads back the object ids of one instance."""

    def __init__(self, instance_id: str) -> None:
        self.high = uuid.UUID(instance_id).int >> 64
        self._prefix = "indicator--" + str(uuid.UUID(int=self.high << 64))[:19]

    def object_id(self, assertion_id: int) -> str:
        """The id of an assertion's indicator (hex formatting, no UUID object: hot path)."""
        low = f"{_VARIANT | assertion_id:016x}"
        return f"{self._prefix}{low[:4]}-{low[4:]}"

    def assertion_id(self, object_id: str) -> int | None:
        """The assertion an id names, or None when it is not one of ours."""
        kind, _, rest = object_id.partition("--")
        try:
            value = uuid.UUID(rest).int
        except ValueError:
            return None
        low = value & ((1 << 64) - 1)
        if kind != "indicator" or value >> 64 != self.high or low & ~_LOW_BITS != _VARIANT:
            return None
        return low & _LOW_BITS

    def status_id(self, submission_id: int) -> str:
        """The TAXII status id of a submission."""
        return str(uuid.UUID(int=(self.high << 64) | _VARIANT | _STATUS | submission_id))

    def submission_id(self, status_id: str) -> int | None:
        """The submission a status id names, or None when it is not one of ours."""
        try:
            value = uuid.UUID(status_id).int
        except ValueError:
            return None
        low = value & ((1 << 64) - 1)
        if value >> 64 != self.high or low & ~(_STATUS - 1) != _VARIANT | _STATUS:
            return None
        return low & (_STATUS - 1)


@lru_cache(maxsize=8192)
def _extension(
    tlp: int,
    pap: int,
    releasable_to: str,
    reliability: str,
    credibility: int,
    purpose: str,
    retain_until: Any,
    review_at: Any,
) -> tuple[str, dict[str, Any]]:
    row = _HandlingRow(
        tlp, pap, releasable_to, reliability, credibility, purpose, retain_until, review_at
    )
    handling = handling_of(row)
    return V.TLP2_MARKING_IDS[handling.tlp], V.handling_extension(handling)


class _HandlingRow:
    """The handling columns, as `handling_of` reads them from a row."""

    __slots__ = (
        "credibility",
        "pap",
        "purpose",
        "releasable_to",
        "reliability",
        "retain_until",
        "review_at",
        "tlp",
    )

    def __init__(self, *values: Any) -> None:
        (self.tlp, self.pap, self.releasable_to, self.reliability, self.credibility,
         self.purpose, self.retain_until, self.review_at) = values  # fmt: skip


@lru_cache(maxsize=256)
def _threat(value: str) -> tuple[list[str], list[str]]:
    threat = ThreatType(value)
    return [V.EXPORT_INDICATOR_TYPES.get(threat, "malicious-activity")], [threat.value]


def indicator(row: Any, codec: IdCodec) -> dict[str, Any]:
    """The indicator for one row of `marsad.store.taxii_reads.page`."""
    added = stamp(row.added)
    first = stamp(row.first_seen) if row.first_seen is not None else added
    kinds, labels = _threat(row.threat_type)
    marking, ext = _extension(
        row.tlp, row.pap, row.releasable_to, row.reliability, row.credibility,
        row.purpose, row.retain_until, row.review_at,
    )  # fmt: skip
    ext = dict(ext)
    if row.last_seen is not None:
        ext["last_seen"] = stamp(row.last_seen)
    ext["sightings"] = row.sightings
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": codec.object_id(row.id),
        "created_by_ref": identity_ref(row.source),
        "created": min(first, added),  # same format throughout: text order is time order
        "modified": added,
        "indicator_types": kinds,
        "pattern": pattern_of(Observable(ObservableType(row.obs_type), row.obs_value)),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": first,
        "labels": labels,
    }
    if row.name:
        obj["name"] = row.name
    if row.description:
        obj["description"] = row.description
    if row.confidence is not None:
        obj["confidence"] = row.confidence
    if row.revoked_at is not None:
        obj["revoked"] = True
    obj["object_marking_refs"] = [marking]
    obj["extensions"] = {V.MARSAD_EXTENSION_ID: ext}
    return obj


def manifest_entry(row: Any, codec: IdCodec) -> dict[str, Any]:
    """The manifest record of one row: id, date added, version, media type."""
    added = stamp(row.added)
    return {
        "id": codec.object_id(row.id),
        "date_added": added,
        "version": added,
        "media_type": STIX_MEDIA,
    }
