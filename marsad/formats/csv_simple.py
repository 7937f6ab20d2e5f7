"""Simple CSV/TSV with a header row naming at least a value column.

Recognised columns (case-insensitive, aliases in the table below): value, type,
threat_type, first_seen, last_seen, confidence, description. Unknown columns are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from marsad.model.errors import InvalidObservable
from marsad.model.normalize import detect, observable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "csv"
DESCRIPTION = "CSV/TSV with a header row (value, type, threat_type, first_seen, last_seen, …)"

COLUMN_ALIASES = {
    "value": "value",
    "indicator": "value",
    "ioc": "value",
    "observable": "value",
    "type": "type",
    "kind": "type",
    "indicator_type": "type",
    "threat_type": "threat_type",
    "threat": "threat_type",
    "category": "threat_type",
    "first_seen": "first_seen",
    "firstseen": "first_seen",
    "date": "first_seen",
    "last_seen": "last_seen",
    "lastseen": "last_seen",
    "confidence": "confidence",
    "description": "description",
    "comment": "description",
}

TYPE_ALIASES: dict[str, ObservableType | None] = {
    "ip": None,
    "ip-dst": None,
    "ip-src": None,
    "hash": None,
    "": None,
    "hostname": ObservableType.DOMAIN,
    "domain-name": ObservableType.DOMAIN,
    "fqdn": ObservableType.DOMAIN,
    "uri": ObservableType.URL,
    "link": ObservableType.URL,
    "email-addr": ObservableType.EMAIL,
    "email-src": ObservableType.EMAIL,
    "sha-256": ObservableType.SHA256,
    "sha-1": ObservableType.SHA1,
    "ipv4-addr": ObservableType.IPV4,
    "ipv6-addr": ObservableType.IPV6,
    "btc": ObservableType.BTC_WALLET,
    "eth": ObservableType.ETH_WALLET,
    "phone-number": ObservableType.PHONE,
}


def _header(raw: bytes) -> list[str] | None:
    for line in raw[:65536].decode("utf-8", errors="replace").splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            delimiter = "\t" if "\t" in text else ","
            return [c.strip().strip('"').lower().replace(" ", "_") for c in text.split(delimiter)]
    return None


def sniff(raw: bytes) -> bool:
    """A header row with a value column and at least one other known column."""
    header = _header(raw)
    if not header or len(header) < 2:
        return False
    known = [COLUMN_ALIASES.get(c) for c in header]
    return "value" in known and sum(k is not None for k in known) >= 2


def _time(text: str) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _type(text: str) -> ObservableType | None:
    key = text.strip().lower()
    if key in TYPE_ALIASES:
        return TYPE_ALIASES[key]
    try:
        return ObservableType(key)
    except ValueError:
        raise ValueError(f"unknown type {text!r}") from None


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per data row; a bad cell rejects its row, naming the line and column."""
    text = raw.decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    first_line = next(
        (
            i
            for i, ln in enumerate(text.splitlines(), 1)
            if ln.strip() and not ln.lstrip().startswith("#")
        ),
        1,
    )
    delimiter = "\t" if lines and "\t" in lines[0] else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [COLUMN_ALIASES.get(c.strip().lower().replace(" ", "_")) for c in next(reader, [])]
    default_threat = meta.default_threat_type or ThreatType.UNKNOWN
    for offset, cells in enumerate(reader, start=1):
        number = first_line + offset
        if not any(c.strip() for c in cells):
            continue
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
        location = f"line {number}"
        try:
            column = "type"
            wanted = _type(row.get("type", ""))
            column = "value"
            value = row.get("value", "")
            found = observable(wanted, value) if wanted is not None else detect(value)
            if found is None:
                raise ValueError(f"{value[:80]!r} is not a recognised observable")
            column = "threat_type"
            threat = (
                ThreatType(row["threat_type"].lower()) if row.get("threat_type") else default_threat
            )
            column = "first_seen"
            first = _time(row.get("first_seen", ""))
            column = "last_seen"
            last = _time(row.get("last_seen", ""))
            column = "confidence"
            conf = int(row["confidence"]) if row.get("confidence") else None
            if conf is not None and not 0 <= conf <= 100:
                raise ValueError("confidence must be 0-100")
        except InvalidObservable as exc:
            yield Rejected(
                location=f"{location}, column {column}", reason=str(exc), raw=delimiter.join(cells)
            )
            continue
        except ValueError as exc:
            yield Rejected(
                location=f"{location}, column {column}", reason=str(exc), raw=delimiter.join(cells)
            )
            continue
        yield AssertionRecord(
            observable=found,
            threat_type=threat,
            location=location,
            first_seen=first,
            last_seen=last,
            confidence=conf,
            description=row.get("description") or None,
        )
