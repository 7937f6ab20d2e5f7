"""Generic CSV, TSV or JSON lines with a column mapping the submitter gives.

``--map value=indicator,type=kind,first_seen=date`` says which column holds each of our
fields (``ParseMeta.column_map``); only ``value`` is required. CSV/TSV columns are named by
the header row, or by 1-based position (``value=2``) for a file without one; JSON lines
(and a JSON array of objects) by key, with dots for nested keys (``source.ip``). A mapped
column the file does not have is one error naming it and the columns present. Never
detected by content: it is chosen by giving a mapping (or a saved profile).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any, Final

import orjson

from marsad.formats.csv_simple import TYPE_ALIASES
from marsad.formats.feedutil import compact, feed_time
from marsad.formats.intelmq import CLASSIFICATION
from marsad.formats.threatfox import THREATS as THREATFOX_THREATS
from marsad.model.errors import FormatError, InvalidObservable, MarsadError
from marsad.model.handling import Handling, parse_tlp
from marsad.model.normalize import detect, observable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "mapped"
DESCRIPTION = "CSV/TSV/JSON lines with a column mapping (--map value=COL,… or --profile NAME)"

FIELDS: Final = (
    "value", "type", "threat_type", "first_seen", "last_seen", "confidence", "description",
    "tlp", "name",
)  # fmt: skip


def parse_mapping(spec: str, *, require_value: bool = True) -> dict[str, str]:
    """``value=indicator,type=kind`` as {field: column}; a clear FormatError on a bad spec."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        field, sep, column = (s.strip() for s in part.partition("="))
        if not sep or not field or not column:
            raise FormatError(f"--map entries are FIELD=COLUMN, got {part!r}")
        if field not in FIELDS:
            raise FormatError(f"--map: unknown field {field!r}; fields: {', '.join(FIELDS)}")
        mapping[field] = column
    if require_value and "value" not in mapping:
        raise FormatError("--map must say which column holds the value (value=COLUMN)")
    return mapping


def sniff(raw: bytes) -> bool:
    """Never: a mapping is what selects this format."""
    return False


def _threat(text: str) -> ThreatType:
    key = text.strip().lower()
    if key in ThreatType._value2member_map_:
        return ThreatType(key)
    if key in CLASSIFICATION:
        return CLASSIFICATION[key]
    if key in THREATFOX_THREATS:
        return THREATFOX_THREATS[key][0]
    raise ValueError(f"unknown threat type {text!r}")


def _type(text: str) -> ObservableType | None:
    key = text.strip().lower()
    if key in TYPE_ALIASES:
        return TYPE_ALIASES[key]
    try:
        return ObservableType(key)
    except ValueError:
        raise ValueError(f"unknown observable type {text!r}") from None


class _BadCell(ValueError):
    """A row whose ``field`` cannot be read, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def _time(text: str) -> dt.datetime | None:
    if not text:
        return None
    if text.replace(".", "", 1).isdigit():  # epoch seconds
        return dt.datetime.fromtimestamp(float(text), tz=dt.UTC)
    found = feed_time(text)
    if found is None:
        raise ValueError(f"{text!r} is not a date")
    return found


def _record(cells: dict[str, str], loc: str, meta: ParseMeta) -> AssertionRecord:
    """One row's assertion; _BadCell names the field that is wrong."""
    field = "type"
    try:
        kind = _type(cells["type"]) if cells.get("type") else None
        field, value = "value", cells.get("value", "")
        found = observable(kind, value) if kind else detect(value)
        if found is None:
            raise ValueError(f"{value[:80]!r} is not a recognised observable" if value else "empty")
        field = "threat_type"
        threat = _threat(cells["threat_type"]) if cells.get("threat_type") else None
        field = "first_seen"
        first = _time(cells.get("first_seen", ""))
        field = "last_seen"
        last = _time(cells.get("last_seen", ""))
        field = "confidence"
        conf = int(float(cells["confidence"])) if cells.get("confidence") else None
        if conf is not None and not 0 <= conf <= 100:
            raise ValueError("confidence must be 0-100")
        field = "tlp"
        handling = Handling(tlp=parse_tlp(cells["tlp"])) if cells.get("tlp") else None
    except (ValueError, MarsadError) as exc:
        raise _BadCell(
            field, exc.reason if isinstance(exc, InvalidObservable) else str(exc)
        ) from None
    return AssertionRecord(
        observable=found, location=loc, first_seen=first, last_seen=last, confidence=conf,
        threat_type=threat or meta.default_threat_type or ThreatType.UNKNOWN, handling=handling,
        description=cells.get("description") or None, name=cells.get("name") or None,
    )  # fmt: skip


def _missing(mapping: dict[str, str], present: list[str]) -> None:
    """One error naming every mapped column the file lacks, and the columns it has."""
    gone = [f"{c!r} (for {f})" for f, c in mapping.items() if c not in present]
    if gone:
        raise FormatError(
            f"column{'s' if len(gone) > 1 else ''} {', '.join(gone)} "
            f"{'are' if len(gone) > 1 else 'is'} not in the file; "
            f"columns present: {', '.join(present) or 'none'}"
        )


def _delimiter(line: str) -> str:
    if "\t" in line:
        return "\t"
    return ";" if ";" in line and "," not in line else ","


Row = tuple[str, dict[str, str] | str, str]  # location, {field: cell} or why not, raw text


def _csv_rows(text: str, mapping: dict[str, str]) -> Iterator[Row]:
    lines = text.splitlines()
    data = [i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not data:
        return
    delimiter = _delimiter(lines[data[0]])
    if all(c.isdigit() and int(c) > 0 for c in mapping.values()):  # positions, no header
        index = {f: int(c) - 1 for f, c in mapping.items()}
    else:
        header = [c.strip() for c in next(csv.reader([lines[data[0]]], delimiter=delimiter))]
        _missing(mapping, header)
        index = {f: header.index(c) for f, c in mapping.items()}
        data = data[1:]
    for i in data:
        cells = next(csv.reader([lines[i]], delimiter=delimiter))
        row = {f: cells[n].strip() if n < len(cells) else "" for f, n in index.items()}
        yield f"line {i + 1}", row, lines[i]


def _lookup(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]``, else the nested value a dotted key names."""
    if key in obj:
        return obj[key]
    value: Any = obj
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _keys(obj: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in obj.items():
        out.append(prefix + k)
        if isinstance(v, dict):
            out += _keys(v, f"{prefix}{k}.")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def _json_entries(text: str) -> Iterator[tuple[str, Any, str | None]]:
    """(location, parsed value, or None and the reason it is not JSON)."""
    if text.lstrip()[:1] == "[":
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise FormatError(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        for i, entry in enumerate(doc if isinstance(doc, list) else [doc]):
            yield f"$[{i}]", entry, None
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield f"line {number}", orjson.loads(line), None
            except orjson.JSONDecodeError as exc:
                yield f"line {number}", line, f"not valid JSON: {exc.msg}"


def _json_rows(text: str, mapping: dict[str, str]) -> Iterator[Row]:
    checked = False
    for loc, obj, error in _json_entries(text):
        if error is not None or not isinstance(obj, dict):
            yield loc, error or "not a JSON object", obj if error else compact(obj)
            continue
        if not checked:  # the first object says which keys the file has
            _missing(mapping, _keys(obj))
            checked = True
        yield loc, {f: _cell(_lookup(obj, c)) for f, c in mapping.items()}, compact(obj)


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per row or object; a bad cell rejects its row, naming the place and column."""
    mapping = meta.column_map
    if not mapping or "value" not in mapping:
        raise FormatError(
            "the mapped format needs a column mapping with a value column: "
            "--map value=COLUMN,… or --profile NAME"
        )
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    json_like = text.lstrip()[:1] in ("{", "[")
    for loc, cells, raw_text in (_json_rows if json_like else _csv_rows)(text, mapping):
        if isinstance(cells, str):  # a JSON line that is no object
            yield Rejected(location=loc, reason=cells, raw=raw_text)
            continue
        try:
            yield _record(cells, loc, meta)
        except _BadCell as exc:
            where = f"{loc}, column {mapping.get(exc.field, exc.field)}"
            yield Rejected(location=where, reason=f"{exc.field}: {exc}", raw=raw_text)
