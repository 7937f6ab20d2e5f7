"""Bulk match, the pure half: a unit's list or logs to distinct normalised values.

Input is a plain list (one value per line, comments and hosts-file lines as in the list
format) or a CSV/TSV whose column (or every column) holds values. Each distinct raw token
is normalised once by the same detector ingest uses, so a log that repeats an address a
million times costs one detection; a URL also brings its host, so a proxy log hits a
reported domain. What cannot be read is counted and reported with its line number,
never fatal. The result is columnar: one row per (input value, key) pair in numpy arrays.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec
import numpy as np

from marsad.formats.plain import value_of_line
from marsad.model.errors import MarsadError
from marsad.model.normalize import detect
from marsad.model.normalize.url import url_host
from marsad.model.observable import Observable, ObservableType

Array = np.ndarray[Any, Any]
KEEP_BAD = 100  # bad lines listed one by one; the rest are counted
FORMATS = ("auto", "lines", "csv")


class MatchInputError(MarsadError):
    """A match input that cannot be read at all."""


class BadLine(msgspec.Struct, frozen=True, kw_only=True):
    """An input line with nothing Marsad recognises."""

    line: int
    text: str
    reason: str


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """Distinct keys ``(type, value)`` and, per (input value, key) pair, its line."""

    keys: list[tuple[str, str]]
    pair_key: Array  # key index per pair
    pair_line: Array  # input line number per pair
    derived: Array  # bool per pair: the key is the host of a URL on that line
    values: int  # recognised input values
    distinct: int  # distinct recognised values (hosts of URLs not counted)
    unparseable: int
    bad: list[BadLine]


class _Collector:
    """Turns raw tokens into key indices, detecting each distinct token once."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []
        self.index: dict[tuple[str, str], int] = {}
        self.by_token: dict[str, tuple[int, int]] = {}  # token -> (key, host key or -1)
        self.keyv: list[int] = []
        self.linev: list[int] = []
        self.derivedv: list[bool] = []
        self.primary: set[int] = set()
        self.values = 0
        self.unparseable = 0
        self.bad: list[BadLine] = []

    def _key(self, obs: Observable) -> int:
        pair = (obs.type.value, obs.value)
        found = self.index.get(pair)
        if found is None:
            found = self.index[pair] = len(self.keys)
            self.keys.append(pair)
        return found

    def _resolve(self, token: str) -> tuple[int, int] | None:
        obs = detect(token)
        if obs is None:
            return None
        key, host = self._key(obs), -1
        if obs.type is ObservableType.URL:
            found = detect(url_host(obs.value))
            if found is not None:
                host = self._key(found)
        self.primary.add(key)
        return key, host

    def add(self, token: str, line: int) -> bool:
        """Record a token seen on a line; False when it is not a recognised value."""
        got = self.by_token.get(token)
        if got is None:
            resolved = self._resolve(token)
            if resolved is None:
                return False
            got = self.by_token[token] = resolved
        self.values += 1
        self.keyv.append(got[0])
        self.linev.append(line)
        self.derivedv.append(False)
        if got[1] >= 0:
            self.keyv.append(got[1])
            self.linev.append(line)
            self.derivedv.append(True)
        return True

    def reject(self, line: int, text: str, reason: str) -> None:
        self.unparseable += 1
        if len(self.bad) < KEEP_BAD:
            self.bad.append(BadLine(line=line, text=text[:120], reason=reason))

    def parsed(self) -> Parsed:
        return Parsed(
            keys=self.keys,
            pair_key=np.array(self.keyv, dtype=np.int64),
            pair_line=np.array(self.linev, dtype=np.int64),
            derived=np.array(self.derivedv, dtype=bool),
            values=self.values,
            distinct=len(self.primary),
            unparseable=self.unparseable,
            bad=self.bad,
        )


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MatchInputError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def choose_format(fmt: str, name: str, column: str | None) -> str:
    """``auto``: CSV for .csv/.tsv files or when a column is named, else lines."""
    if fmt not in FORMATS:
        raise MatchInputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "auto":
        return fmt
    return "csv" if column or name.lower().endswith((".csv", ".tsv")) else "lines"


def parse_lines(raw: bytes, name: str = "input") -> Parsed:
    """One value per line (comments, blank and hosts-file lines as the list format reads them)."""
    got = _Collector()
    for number, line in enumerate(_text(raw, name).splitlines(), start=1):
        token = value_of_line(line)
        if token is not None and not got.add(token, number):
            got.reject(number, line, f"{token[:80]!r} is not a recognised value")
    return got.parsed()


def parse_csv(raw: bytes, column: str | None, name: str = "input") -> Parsed:
    """A header row, then values in ``column`` (or in any column when none is named)."""
    text = _text(raw, name)
    first = text.split("\n", 1)[0]
    dialect = (
        "excel-tab"
        if name.lower().endswith(".tsv") or first.count("\t") > first.count(",")
        else "excel"
    )
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    header = next(reader, None)
    if header is None:
        return _Collector().parsed()
    wanted: list[int] = list(range(len(header)))
    if column is not None:
        names = [h.strip().lower() for h in header]
        if column.strip().lower() not in names:
            raise MatchInputError(f"{name}: no column {column!r} (columns: {', '.join(header)})")
        wanted = [names.index(column.strip().lower())]
    got = _Collector()
    for row in reader:
        number = reader.line_num
        cells = [row[i].strip() for i in wanted if i < len(row) and row[i].strip()]
        if not cells:
            if column is not None and any(c.strip() for c in row):
                got.reject(number, ",".join(row), f"no value in column {column!r}")
            continue
        hits = [got.add(cell, number) for cell in cells]
        if not any(hits):
            shown = cells[0] if len(cells) == 1 else ",".join(row)
            got.reject(number, shown, f"{shown[:80]!r} holds no recognised value")
    return got.parsed()


def parse_input(raw: bytes, fmt: str, column: str | None, name: str) -> Parsed:
    """The values of a match input in the chosen (or detected) format."""
    chosen = choose_format(fmt, name, column)
    if chosen == "lines":
        if column is not None:
            raise MatchInputError("--column reads CSV input: use --format csv")
        return parse_lines(raw, name)
    return parse_csv(raw, column, name)


def per_key(parsed: Parsed) -> tuple[Array, Array]:
    """Per key: how many input values carry it, and the first line it is on."""
    n = len(parsed.keys)
    counts = np.bincount(parsed.pair_key, minlength=n)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, parsed.pair_key, parsed.pair_line)
    return counts, first
