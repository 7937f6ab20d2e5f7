"""Small helpers shared by the public-feed formats (pure)."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any, Final

import orjson

from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.normalize import detect, observable
from marsad.model.observable import Observable, ObservableType


def feed_time(value: Any) -> dt.datetime | None:
    """A feed's timestamp (``2021-01-17 07:44:46[ UTC]``, ISO 8601, a date) as aware UTC; None if empty."""
    if not value or not isinstance(value, str):
        return None
    try:
        text = value.strip().removesuffix(" UTC").replace("Z", "+00:00")
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def value_of(kind: ObservableType | None, text: Any) -> Observable:
    """Normalise a feed value; InvalidObservable carries the reason."""
    raw = str(text or "")
    if kind is not None:
        return observable(kind, raw)
    found = detect(raw)
    if found is None:
        raise InvalidObservable("observable", raw, "not a recognised value")
    return found


def json_list(raw: bytes, what: str) -> list[Any]:
    """The top-level JSON array of a feed, or a FormatError naming the position."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(doc, list):
        raise FormatError(f"a {what} feed is a JSON array")
    return doc


def compact(obj: Any) -> str:
    """The raw text kept with a rejected entry."""
    return orjson.dumps(obj).decode()


MALWARE_NS: Final = uuid.UUID("6f0d7c9e-3b0a-5f55-9a4e-2c6d2e0d8a11")


@functools.lru_cache(maxsize=4096)
def malware_ref(name: str) -> str:
    """A malware family's entity ref, the same for the same name in every feed (case-insensitive)."""
    return f"malware--{uuid.uuid5(MALWARE_NS, name.strip().lower())}"
