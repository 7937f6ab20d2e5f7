"""Decoding STIX 2.1 documents for `stix21`: typed structs for the bulk, orjson for the rest.

Indicators and SCOs are the bulk of large bundles, so the document is decoded by msgspec
straight into `Obj` structs holding only the properties their handlers read. An object
needing all its properties (an SDO, a rejected object, one with extensions) is decoded
again on its own, by orjson, from its exact bytes (`LazyDicts`). A document msgspec cannot
type this way is read by orjson whole (`generic`).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
import orjson

from marsad.formats import stix_vocab as V
from marsad.model.errors import FormatError
from marsad.model.normalize.hashes import HEX_DIGITS
from marsad.model.normalize.ip import is_ipv4
from marsad.model.observable import Observable, ObservableType

UNSEEN: Final = object()
_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


class Obj(msgspec.Struct, gc=False):
    """The properties the indicator and SCO handlers read, absent ones None (extensions:
    UNSET, so that any object with them is read again whole). The decoder skips the rest."""

    type: Any = None
    id: Any = None
    pattern: Any = None
    pattern_type: Any = "stix"
    valid_from: Any = None
    confidence: Any = None
    name: Any = None
    description: Any = None
    labels: Any = None
    indicator_types: Any = None
    kill_chain_phases: Any = None
    object_marking_refs: Any = None
    extensions: Any = msgspec.UNSET
    value: Any = None
    number: Any = None
    iban: Any = None
    hashes: Any = None
    resolves_to_refs: Any = None
    belongs_to_refs: Any = None
    relationship_type: Any = None
    source_ref: Any = None
    target_ref: Any = None
    malware_types: Any = None


class Bundle(msgspec.Struct, gc=False):
    type: Any = None
    objects: list[Obj] | None = None


class _RawBundle(msgspec.Struct, gc=False):
    objects: list[msgspec.Raw] | None = None


TYPED: Final = msgspec.json.Decoder(Bundle | list[Obj])
RAWS: Final = msgspec.json.Decoder(_RawBundle | list[msgspec.Raw])


def as_orjson(value: Any) -> Any:
    """orjson reads integers beyond 64 bits as floats, msgspec exactly: read them the same."""
    if type(value) is int and not _I64_MIN <= value <= _U64_MAX:
        return float(value)
    return value


_HEX_LENGTHS: Final = {
    ObservableType.MD5: 32,
    ObservableType.SHA1: 40,
    ObservableType.SHA256: 64,
    ObservableType.SHA512: 128,
}


def observe(kind: ObservableType | None, value: str, sco: str) -> Observable:
    """`stix_vocab.make_observable`, taking a value already in canonical form as it is.

    A dotted quad that is canonical and a hex digest of the right length have nothing
    for the normaliser to change; the rest goes through it.
    """
    if kind is ObservableType.IPV4:
        if is_ipv4(value):
            return Observable(kind, value)
    elif kind is not None and len(value) == _HEX_LENGTHS.get(kind) and not value.strip(HEX_DIGITS):
        return Observable(kind, value.lower())
    return V.make_observable(kind, value, sco)


def generic(raw: bytes) -> tuple[list[Any], str]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} (byte {exc.pos}): {exc.msg}"
        ) from None
    if isinstance(doc, list):
        return doc, "$"
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        objects = doc.get("objects") or []
        if not isinstance(objects, list):
            raise FormatError("the bundle's objects is not a JSON array")
        return objects, "$.objects"
    if isinstance(doc, dict) and isinstance(doc.get("type"), str):
        return [doc], ""
    raise FormatError("not a STIX document: expected a bundle, an array of objects or an object")


class LazyDicts:
    """Object i of a typed-decoded document as an orjson dict, decoded from its own bytes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.raws: list[msgspec.Raw] | None = None
        self.done: dict[int, Any] = {}

    def __call__(self, i: int) -> Any:
        found = self.done.get(i, UNSEEN)
        if found is UNSEEN:
            if self.raws is None:
                doc = RAWS.decode(self.raw)
                self.raws = doc if isinstance(doc, list) else (doc.objects or [])
            found = self.done[i] = orjson.loads(memoryview(self.raws[i]))
        return found


def compact(obj: object) -> str:
    """One JSON line of an object, for the raw text kept with a rejection."""
    return orjson.dumps(obj).decode()
