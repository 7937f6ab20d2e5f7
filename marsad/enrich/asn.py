"""IP → autonomous system and network owner, from a table the user supplies.

Two inputs are understood: the iptoasn.com TSV (``range_start, range_end, AS_number,
country_code, AS_description``; the loader un-gzips it) parsed here, and MaxMind-format
``.mmdb`` files (GeoLite2-ASN-like) whose networks the loader reads with `maxminddb` and
hands over as ranges. Either way the result is a compact table of sorted, disjoint
ranges per family (numpy arrays, saved as one ``.npz`` in the instance), looked up for a
whole column with one `searchsorted`. Bad lines are reported with their line number and
the rest is kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
import numpy as np
from numpy.typing import NDArray

from marsad.enrich.iputil import U32, V6, key_number, parse_ipv4, parse_ipv6, v6_key

NOT_ROUTED = 0  # ip2asn's "Not routed" ranges carry AS 0


class BadRow(msgspec.Struct, frozen=True):
    """An input row that was left out, and why."""

    location: str
    reason: str


class Range(NamedTuple):
    """One inclusive address range of one family and what it belongs to."""

    version: int
    first: int
    last: int
    asn: int
    owner: str
    country: str
    location: str


class AsnInfo(msgspec.Struct, frozen=True):
    """What the table says about one address."""

    asn: int
    owner: str
    country: str | None


class AsnTable(NamedTuple):
    """Sorted disjoint ranges per family; ``owner``/``country`` index ``owners``/``countries``."""

    v4_first: U32
    v4_last: U32
    v4_asn: U32
    v4_owner: NDArray[np.int32]
    v4_country: NDArray[np.int16]
    v6_first: V6
    v6_last: V6
    v6_asn: U32
    v6_owner: NDArray[np.int32]
    v6_country: NDArray[np.int16]
    owners: NDArray[np.str_]
    countries: NDArray[np.str_]

    @property
    def ranges(self) -> int:
        """How many ranges the table holds."""
        return len(self.v4_first) + len(self.v6_first)


class _Family(NamedTuple):
    first: NDArray[Any]
    last: NDArray[Any]
    asn: U32
    owner: NDArray[np.int32]
    country: NDArray[np.int16]


def build_table(rows: Sequence[Range]) -> tuple[AsnTable, list[BadRow]]:
    """Sort the ranges; a range that overlaps an earlier-starting one is left out."""
    owners: dict[str, int] = {}
    countries: dict[str, int] = {"": 0}
    bad: list[BadRow] = []
    families: list[_Family] = []
    for version in (4, 6):
        mine = sorted((r for r in rows if r.version == version), key=lambda r: (r.first, r.last))
        kept: list[Range] = []
        for row in mine:
            if kept and row.first <= kept[-1].last:
                bad.append(
                    BadRow(
                        row.location, f"overlaps the range at {kept[-1].location}; kept that one"
                    )
                )
                continue
            kept.append(row)
        first = [r.first for r in kept]
        last = [r.last for r in kept]
        if version == 4:
            fa: NDArray[Any] = np.array(first, dtype=np.uint32)
            la: NDArray[Any] = np.array(last, dtype=np.uint32)
        else:
            fa = np.array([v6_key(n) for n in first], dtype="S16")
            la = np.array([v6_key(n) for n in last], dtype="S16")
        families.append(
            _Family(
                fa,
                la,
                np.array([r.asn for r in kept], dtype=np.uint32),
                np.array([owners.setdefault(r.owner, len(owners)) for r in kept], dtype=np.int32),
                np.array(
                    [countries.setdefault(r.country, len(countries)) for r in kept], dtype=np.int16
                ),
            )
        )
    v4, v6 = families
    table = AsnTable(
        *v4, *v6, np.array(list(owners), dtype=np.str_), np.array(list(countries), dtype=np.str_)
    )
    return table, sorted(bad, key=row_order)


def row_order(row: BadRow) -> tuple[int, str]:
    """Sort key: TSV lines by number, then other locations by text."""
    head, _, number = row.location.partition(" ")
    return (int(number), "") if head == "line" and number.isdigit() else (0, row.location)


def parse_ip2asn(raw: bytes) -> tuple[list[Range], list[BadRow], int]:
    """Rows of an iptoasn.com TSV: (ranges, bad lines, ranges skipped as not routed)."""
    bad: list[BadRow] = []
    fields: list[tuple[int, list[str]]] = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 5:
            bad.append(
                BadRow(f"line {number}", f"expected 5 tab-separated fields, got {len(parts)}")
            )
            continue
        fields.append((number, parts))
    rows: list[Range] = []
    not_routed = 0
    v4 = [(n, p) for n, p in fields if ":" not in p[0] and ":" not in p[1]]
    v6 = [(n, p) for n, p in fields if ":" in p[0] or ":" in p[1]]
    v4_first, ok_first = parse_ipv4([p[0].strip() for _, p in v4])
    v4_last, ok_last = parse_ipv4([p[1].strip() for _, p in v4])
    v6_first, ok6_first = parse_ipv6([p[0].strip() for _, p in v6])
    v6_last, ok6_last = parse_ipv6([p[1].strip() for _, p in v6])
    checked = [
        (4, v4, v4_first.tolist(), v4_last.tolist(), ok_first & ok_last),
        (
            6,
            v6,
            [key_number(k) for k in v6_first],
            [key_number(k) for k in v6_last],
            ok6_first & ok6_last,
        ),
    ]
    for version, group, firsts, lasts, ok in checked:
        for (number, parts), first, last, good in zip(
            group, firsts, lasts, ok.tolist(), strict=True
        ):
            where = f"line {number}"
            if not good:
                bad.append(BadRow(where, f"{parts[0]!r}–{parts[1]!r} is not an IPv{version} range"))
                continue
            if first > last:
                bad.append(BadRow(where, f"range start {parts[0]} is after its end {parts[1]}"))
                continue
            text = parts[2].strip().upper().removeprefix("AS")
            if not text.isdigit() or int(text) >= 1 << 32:
                bad.append(BadRow(where, f"AS number {parts[2]!r} is not a number below 2^32"))
                continue
            if int(text) == NOT_ROUTED:
                not_routed += 1
                continue
            country = parts[3].strip().upper()
            owner = parts[4].strip()
            rows.append(Range(version, first, last, int(text), owner, _country(country), where))
    return rows, bad, not_routed


def _country(code: str) -> str:
    return code if len(code) == 2 and code.isalpha() and code not in ("ZZ", "XX") else ""


def range_of_network(network: str, asn: object, owner: object, location: str) -> Range | BadRow:
    """One ``.mmdb`` network and its record's ASN/organisation as a range (or why not)."""
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return BadRow(location, f"{network!r} is not a network")
    if not isinstance(asn, int) or isinstance(asn, bool) or not 0 < asn < 1 << 32:
        return BadRow(location, f"no usable autonomous_system_number ({asn!r})")
    if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(
        ipaddress.IPv6Network("::ffff:0:0/96")
    ):
        return BadRow(location, "IPv4-mapped alias of an IPv4 network; the IPv4 form is used")
    return Range(
        net.version,
        int(net.network_address),
        int(net.broadcast_address),
        asn,
        owner if isinstance(owner, str) else "",
        "",
        location,
    )


def lookup_asn(
    table: AsnTable, version: int, keys: NDArray[Any], ok: NDArray[np.bool_]
) -> tuple[U32, NDArray[np.int32], NDArray[np.int16]]:
    """For a column of parsed addresses: AS number (0 = unknown), owner index (-1) and
    country index (0 = none)."""
    first, last, asn, owner, country = (
        (table.v4_first, table.v4_last, table.v4_asn, table.v4_owner, table.v4_country)
        if version == 4
        else (table.v6_first, table.v6_last, table.v6_asn, table.v6_owner, table.v6_country)
    )
    if not len(first) or not len(keys):
        n = len(keys)
        return np.zeros(n, np.uint32), np.full(n, -1, np.int32), np.zeros(n, np.int16)
    at = np.searchsorted(first, keys, side="right") - 1
    inside = ok & (at >= 0) & (last[np.maximum(at, 0)] >= keys)
    at = np.maximum(at, 0)
    return (
        np.where(inside, asn[at], 0).astype(np.uint32),
        np.where(inside, owner[at], -1).astype(np.int32),
        np.where(inside, country[at], 0).astype(np.int16),
    )


def asn_of(table: AsnTable, values: Sequence[str]) -> list[AsnInfo | None]:
    """Row form for a few IPv4/IPv6 values (the CLI): what the table knows of each."""
    out: list[AsnInfo | None] = [None] * len(values)
    for version, parse in ((4, parse_ipv4), (6, parse_ipv6)):
        pick = [i for i, v in enumerate(values) if (":" in v) == (version == 6)]
        keys, ok = parse([values[i] for i in pick])
        asn, owner, country = lookup_asn(table, version, keys, ok)
        for i, a, o, c in zip(pick, asn.tolist(), owner.tolist(), country.tolist(), strict=True):
            if a:
                out[i] = AsnInfo(a, str(table.owners[o]), str(table.countries[c]) or None)
    return out
