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
import re
from typing import Any

import msgspec
import numpy as np

from marsad.formats.gcpause import gc_paused
from marsad.formats.plain import value_of_line
from marsad.model.errors import MarsadError
from marsad.model.normalize import detect
from marsad.model.normalize.domain import has_known_suffix
from marsad.model.normalize.url import url_host
from marsad.model.observable import ObservableType

Array = np.ndarray[Any, Any]
KEEP_BAD = 100  # bad lines listed one by one; the rest are counted
FORMATS = ("auto", "lines", "csv")
_SPECIAL = frozenset("#/;!\t ")  # lines that need the list format's reading (comments, hosts)
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                   r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z")  # fmt: skip
_DOMAIN = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+"
                     r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")  # fmt: skip


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


def canonical(token: str) -> tuple[str, str] | None:
    """``(type, value)`` of a token already in canonical IPv4 or domain form, else None.

    The shapes whose normal form is the token itself, for which `detect` would only confirm
    it (a test checks that the two agree); anything else goes through `detect`.
    """
    if _IPV4.match(token):
        return ("ipv4", token)
    if (
        len(token) <= 253
        and _DOMAIN.match(token)
        and "xn--" not in token
        and not token.endswith(".onion")
        and has_known_suffix(token)
    ):
        return ("domain", token)
    return None


class _Collector:
    """Turns (line, raw token) pairs into key indices, detecting each distinct token once."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []  # (line, token) in input order
        self.unparseable = 0
        self.bad: list[BadLine] = []

    def reject(self, line: int, text: str, reason: str) -> None:
        self.unparseable += 1
        if len(self.bad) < KEEP_BAD:
            self.bad.append(BadLine(line=line, text=text[:120], reason=reason))

    def parsed(self, describe: dict[int, str] | None = None) -> Parsed:
        """Detect the distinct tokens, then map every item to its keys (columnar output)."""
        keys: list[tuple[str, str]] = []
        index: dict[tuple[str, str], int] = {}

        def key(pair: tuple[str, str]) -> int:
            found = index.get(pair)
            if found is None:
                found = index[pair] = len(keys)
                keys.append(pair)
            return found

        resolved: dict[str, tuple[int, int] | None] = {}
        for token in dict.fromkeys(t for _, t in self.items):
            fast = canonical(token)
            if fast is not None:
                resolved[token] = (key(fast), -1)
                continue
            obs = detect(token)
            if obs is None:
                resolved[token] = None
                continue
            own, via = key((obs.type.value, obs.value)), -1
            if obs.type is ObservableType.URL:
                found = detect(url_host(obs.value))
                if found is not None:
                    via = key((found.type.value, found.value))
            resolved[token] = (own, via)
        n = len(self.items)
        res = [resolved[t] for _, t in self.items]
        main = np.fromiter((-2 if g is None else g[0] for g in res), dtype=np.int64, count=n)
        host = np.fromiter((-1 if g is None else g[1] for g in res), dtype=np.int64, count=n)
        lines = np.fromiter((line for line, _ in self.items), dtype=np.int64, count=n)
        for i in np.flatnonzero(main == -2).tolist():
            line, token = self.items[i]
            shown = (describe or {}).get(line, token)
            self.reject(line, shown, f"{token[:80]!r} is not a recognised value")
        ok, has_host = main >= 0, host >= 0
        pair_key = np.concatenate([main[ok], host[has_host]])
        pair_line = np.concatenate([lines[ok], lines[has_host]])
        derived = np.concatenate(
            [np.zeros(int(ok.sum()), bool), np.ones(int(has_host.sum()), bool)]
        )
        values = int(ok.sum())
        primary = int(np.count_nonzero(np.bincount(main[ok], minlength=len(keys))))
        order = sorted(range(len(self.bad)), key=lambda i: self.bad[i].line)
        return Parsed(
            keys=keys,
            pair_key=pair_key,
            pair_line=pair_line,
            derived=derived,
            values=values,
            distinct=primary,
            unparseable=self.unparseable,
            bad=[self.bad[i] for i in order],
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
        token = (
            line if line and " " not in line and line[0] not in _SPECIAL else value_of_line(line)
        )
        if token is not None:
            got.items.append((number, token))
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
    rows: dict[int, str] = {}
    for row in reader:
        number = reader.line_num
        cells = [row[i].strip() for i in wanted if i < len(row) and row[i].strip()]
        if not cells:
            if column is not None and any(c.strip() for c in row):
                got.reject(number, ",".join(row), f"no value in column {column!r}")
            continue
        if len(cells) == 1:
            got.items.append((number, cells[0]))
            continue
        rows[number] = ",".join(row)
        got.items += [(number, cell) for cell in cells]
    return _any_cell(got.parsed(rows), rows)


def _any_cell(parsed: Parsed, rows: dict[int, str]) -> Parsed:
    """With every column read, a row is unparseable only when none of its cells is a value."""
    if not rows:
        return parsed
    good = set(parsed.pair_line.tolist())
    bad = [b for b in parsed.bad if b.line not in rows]
    failed = sorted(n for n in rows if n not in good)
    bad += [BadLine(line=n, text=rows[n][:120], reason="no cell holds a recognised value")
            for n in failed]  # fmt: skip
    bad.sort(key=lambda b: b.line)
    single = sum(1 for b in parsed.bad if b.line not in rows)  # counts lines, not cells
    return msgspec.structs.replace(parsed, unparseable=single + len(failed), bad=bad[:KEEP_BAD])


def parse_input(raw: bytes, fmt: str, column: str | None, name: str) -> Parsed:
    """The values of a match input in the chosen (or detected) format."""
    chosen = choose_format(fmt, name, column)
    with gc_paused():  # millions of small tuples and strings, no cycles
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
