"""abuse.ch ThreatFox IOCs: the JSON export, the API's JSON answer and the CSV export.

Three shapes of one record: the export JSON (``{"<ioc id>": [{ioc_value, ioc_type, …}]}``),
the API answer (``{"query_status": "ok", "data": [{id, ioc, ioc_type, …}]}``) and the CSV
export, whose column names sit in a ``# "first_seen_utc","ioc_id",…`` comment line and whose
cells are quoted with a space after each comma (``None`` for empty). Each IOC becomes an
assertion with its threat type, a malware family entity (the same ref for the same family
in every feed) and an edge from the IOC to the family; ``ip:port`` keeps the IP and puts
the port in the description.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

import orjson

from marsad.formats.feedutil import compact, feed_time, malware_ref, value_of
from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
)
from marsad.model.records import ThreatType as T

NAME = "threatfox"
DESCRIPTION = "abuse.ch ThreatFox IOCs: export JSON, API JSON or CSV export (C2, payloads, hashes)"

# threat_type -> (our threat type, the edge from the IOC to its malware family)
THREATS: Final[dict[str, tuple[T, str]]] = {
    "botnet_cc": (T.C2, "c2-of"),
    "payload_delivery": (T.MALWARE_DISTRIBUTION, "delivers"),
    "payload": (T.MALWARE, "sample-of"),
    "cc_skimming": (T.FRAUD, "indicates"),
}
# ioc_type -> observable type (None: an IP, possibly with a port)
IOC_TYPES: Final[dict[str, O | None]] = {
    "ip:port": None,
    "domain": O.DOMAIN,
    "url": O.URL,
    "md5_hash": O.MD5,
    "sha1_hash": O.SHA1,
    "sha256_hash": O.SHA256,
}
_EMPTY: Final = frozenset({"", "none", "null"})


def sniff(raw: bytes) -> bool:
    """ThreatFox's banner or column names (CSV), or its JSON keys."""
    head = raw[:4096]
    if head.lstrip()[:1] == b"#":
        return b"ThreatFox" in head or b'"ioc_value","ioc_type"' in head
    if head.lstrip()[:1] != b"{":
        return False
    return (b'"ioc_value"' in head and b'"ioc_type"' in head) or (
        b'"query_status"' in head and b'"ioc_type"' in head
    )


def _text(value: Any) -> str:
    """A cell as text, with ThreatFox's spellings of nothing (``None``, null) as ''."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    text = str(value).strip()
    return "" if text.lower() in _EMPTY else text


def _clean(row: dict[str, Any]) -> dict[str, str]:
    return {k: _text(v) for k, v in row.items()}


Row = tuple[str, dict[str, str] | None, str]  # location, cleaned cells (None: malformed), raw


def _rows(raw: bytes) -> Iterator[Row]:
    """The IOC records of any of the three shapes, with the CSV export's column names."""
    if raw.lstrip()[:1] == b"#":
        yield from _csv_rows(raw)
        return
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(doc, dict):
        raise FormatError("a ThreatFox JSON document is an object")
    if "query_status" in doc:
        if doc.get("query_status") != "ok":
            raise FormatError(f"ThreatFox answered query_status {doc.get('query_status')!r}")
        data = doc.get("data")
        for i, entry in enumerate(data if isinstance(data, list) else []):
            row = None
            if isinstance(entry, dict):
                row = _clean(
                    {**entry, "ioc_id": entry.get("id"), "ioc_value": entry.get("ioc"),
                     "fk_malware": entry.get("malware"), "first_seen_utc": entry.get("first_seen"),
                     "last_seen_utc": entry.get("last_seen")}
                )  # fmt: skip
            yield f"$.data[{i}]", row, compact(entry)
        return
    for key, entries in doc.items():
        where = f"$[{orjson.dumps(key).decode()}]"
        if not isinstance(entries, list):
            yield where, None, compact(entries)
            continue
        for i, entry in enumerate(entries):
            row = None
            if isinstance(entry, dict):
                row = _clean({**entry, "ioc_id": key, "fk_malware": entry.get("malware")})
            yield f"{where}[{i}]", row, compact(entry)


def _csv_rows(raw: bytes) -> Iterator[Row]:
    text = raw.decode("utf-8", errors="replace")
    lines = text.splitlines()
    header = next(
        (
            next(csv.reader([ln.lstrip("# ")], skipinitialspace=True))
            for ln in lines
            if ln.startswith("#") and '"ioc_value"' in ln
        ),
        None,
    )
    if header is None:
        raise FormatError("ThreatFox CSV without its '# \"first_seen_utc\",…' header line")
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    for cells in reader:
        if not cells or cells[0].startswith("#") or not any(cells):
            continue
        number = reader.line_num
        row = None
        if len(cells) >= len(header) - 1:
            row = {
                k: ("" if v.strip().lower() in _EMPTY else v.strip())
                for k, v in zip(header, cells, strict=False)
            }
        yield f"line {number}", row, lines[number - 1]


def _observable(kind: str, text: str) -> tuple[Observable, str | None]:
    """The IOC as an observable, and the port of an ``ip:port``."""
    wanted = IOC_TYPES[kind]
    if wanted is not None:
        return value_of(wanted, text), None
    host, port = text, None
    if text.startswith("["):  # [2001:db8::1]:443
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or None
    elif text.count(":") == 1:
        host, port = text.split(":")
    return value_of(O.IPV6 if ":" in host else O.IPV4, host), port


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per IOC with an edge to its malware family; bad IOCs are rejected."""
    families: dict[str, tuple[str, str, str]] = {}  # ref -> name, aliases, location
    for loc, row, raw_text in _rows(raw):
        if row is None:
            yield Rejected(location=loc, reason="not a ThreatFox IOC record", raw=raw_text)
            continue
        kind = row.get("ioc_type", "")
        if kind not in IOC_TYPES:
            yield Rejected(location=loc, reason=f"ioc_type {kind!r} is not tracked", raw=raw_text)
            continue
        try:
            obs, port = _observable(kind, row.get("ioc_value", ""))
        except InvalidObservable as exc:
            yield Rejected(location=loc, reason=f"ioc_value: {exc.reason}", raw=raw_text)
            continue
        threat, edge = THREATS.get(
            row.get("threat_type", ""), (meta.default_threat_type or T.MALICIOUS_ACTIVITY, "")
        )
        family = row.get("malware_printable", "") or row.get("fk_malware", "")
        confidence = row.get("confidence_level", "")
        details = [f"{family or 'unknown malware'} {row.get('threat_type', '')}".strip()]
        tags, reference = row.get("tags", ""), row.get("reference", "")
        details += [f"port {port}"] if port else []
        details += [f"tags {tags}"] if tags else []
        details += ["compromised host"] if row.get("is_compromised", "").lower() == "true" else []
        details += [f"reference {reference}"] if reference else []
        yield AssertionRecord(
            observable=obs, threat_type=threat, location=loc,
            first_seen=feed_time(row.get("first_seen_utc", "")),
            last_seen=feed_time(row.get("last_seen_utc", "")),
            confidence=int(confidence) if confidence.isdigit() else None,
            name=f"ThreatFox {row.get('ioc_id', '')}".strip(),
            description="; ".join(details),
        )  # fmt: skip
        if family:
            ref = malware_ref(family)
            families.setdefault(ref, (family, row.get("malware_alias", ""), loc))
            yield RelationshipRecord(
                source_ref=obs.ref, target_ref=ref, type=edge or "indicates", location=loc
            )
    for ref, (name, aliases, loc) in families.items():
        attributes = {"aliases": aliases.split(",")} if aliases else {}
        yield EntityRecord(ref=ref, kind="malware", name=name, location=loc, attributes=attributes)
