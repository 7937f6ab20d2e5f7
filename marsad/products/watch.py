"""Watchlist entries and matching them against a batch of new assertions, column-wise.

Pure: entries are validated and normalised here; `match` takes a batch of new assertions
as numpy columns and returns, per matched row, the entries it matched. Work is one
vectorised test per entry *kind*, not per entry: exact kinds (country, ASN, value, threat
type, registered domain, ccTLD) are one ``np.isin`` of a column against all entries of
that kind, keywords one regular-expression pass over the joined column, CIDRs one masked
comparison each over addresses parsed once. Only matched rows are touched one by one, to
name the entries they matched (the output has to be built anyway).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import orjson
from numpy.typing import NDArray

from marsad.enrich.iputil import parse_ipv4, parse_ipv6
from marsad.model.errors import MarsadError
from marsad.model.normalize import detect, normalize, registered_domain
from marsad.model.observable import ObservableType
from marsad.model.records import ThreatType

KINDS = ("country", "asn", "cidr", "cctld", "domain", "keyword", "value", "threat-type")
MAX_VALUE = 500  # the store's column
_LABEL = re.compile(r"^(?:[a-z]{2}|xn--[a-z0-9-]+)$")


class WatchError(MarsadError, ValueError):
    """A watchlist entry that cannot be understood."""


def normalise_entry(kind: str, value: str) -> str:
    """The stored form of an entry, or a clear error naming it."""
    raw = value.strip()
    if kind not in KINDS:
        raise WatchError(f"watchlist kind {kind!r} is not one of {', '.join(KINDS)}")
    if not raw:
        raise WatchError(f"a {kind} watchlist entry needs a value")
    if len(raw) > MAX_VALUE:
        raise WatchError(f"a {kind} watchlist entry is at most {MAX_VALUE} characters")
    if kind == "country":
        if len(raw) != 2 or not raw.isascii() or not raw.isalpha():
            raise WatchError(f"country {raw!r} is not an ISO 3166-1 alpha-2 code like FJ")
        return raw.upper()
    if kind == "asn":
        digits = raw.upper().removeprefix("AS")
        if not digits.isascii() or not digits.isdigit() or not 0 < int(digits) < 1 << 32:
            raise WatchError(f"ASN {raw!r} is not an AS number like AS64500")
        return str(int(digits))
    if kind == "cidr":
        try:
            return str(ipaddress.ip_network(raw, strict=False))
        except ValueError as exc:
            raise WatchError(f"CIDR {raw!r} is not a network: {exc}") from None
    if kind == "threat-type":
        try:
            return ThreatType(raw.lower()).value
        except ValueError:
            raise WatchError(f"threat type {raw!r} is unknown") from None
    if kind == "cctld":
        tld = raw.lower().strip(".")
        if not _LABEL.match(tld):
            raise WatchError(f"ccTLD {raw!r} is not a country-code top-level domain like fj")
        return tld
    if kind == "domain":
        try:
            return normalize(ObservableType.DOMAIN, raw)
        except ValueError as exc:
            raise WatchError(f"domain {raw!r} is not a domain: {exc}") from None
    if kind == "value":
        found = detect(raw)
        return (found.value if found else raw).lower()
    if "\n" in raw:
        raise WatchError("a keyword is one line of text")
    return raw.lower()


def entry_key(kind: str, value: str) -> str:
    """How an entry is named in an alert's reasons: ``kind:value``."""
    return f"{kind}:{value}"


class Batch(NamedTuple):
    """New assertions as columns (values lower-cased), one row per assertion."""

    types: NDArray[np.str_]
    values: NDArray[np.str_]
    registered: NDArray[np.str_]  # registered domain, "" when none
    threat: NDArray[np.str_]
    country: NDArray[np.str_]  # IP → country, "" when none or not an IP
    asn: NDArray[np.int64]  # IP → AS number, 0 when unknown
    hosts: NDArray[np.str_] | None = None  # `hosts_of` the values, when already computed


def hosts_of(types: NDArray[np.str_], values: NDArray[np.str_]) -> NDArray[np.str_]:
    """The host part of each value: the value for domains and IPs, the host of a URL, the
    domain of an e-mail address."""
    after = np.char.partition(values, "://")[:, 2]
    host = np.char.partition(np.char.partition(after, "/")[:, 0], ":")[:, 0]
    host = np.char.rpartition(host, "@")[:, 2]
    mail = np.char.rpartition(values, "@")[:, 2]
    return np.where(types == "url", host, np.where(types == "email", mail, values))


def digit_first(values: NDArray[np.str_]) -> NDArray[np.bool_]:
    """Whether each value starts with a digit: the only hosts worth parsing as IPv4."""
    first = values.astype("<U1")
    return np.asarray((first >= "0") & (first <= "9"), dtype=np.bool_)


Rows = NDArray[np.int64]
Found = dict[str, Rows]  # entry key -> the rows (ascending) it matches


def _exact(found: Found, kind: str, column: NDArray[np.generic], wanted: list[str]) -> None:
    """One ``isin`` for every entry of a kind against one column, then the matched rows
    split by value with one stable sort."""
    if not wanted:
        return
    keys = np.asarray([int(w) for w in wanted]) if column.dtype.kind == "i" else np.asarray(wanted)
    rows = np.flatnonzero(np.isin(column, keys))
    if not len(rows):
        return
    distinct, inverse = np.unique(column[rows], return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(distinct)))[:-1]
    for value, part in zip(distinct.tolist(), np.split(rows[order], bounds), strict=True):
        found[entry_key(kind, str(value))] = part.astype(np.int64)


def _mark(found: Found, key: str, mask: NDArray[np.bool_]) -> None:
    rows = np.flatnonzero(mask)
    if len(rows):
        found[key] = rows.astype(np.int64)


def _cidrs(found: Found, b: Batch, hosts: NDArray[np.str_], nets: list[str]) -> None:
    if not nets:
        return
    is_v4 = (b.types == "ipv4") | ((b.types == "url") & digit_first(hosts))
    numbers = np.zeros(len(hosts), dtype=np.uint32)
    ok4 = np.zeros(len(hosts), dtype=np.bool_)
    rows4 = np.flatnonzero(is_v4)
    numbers[rows4], ok4[rows4] = parse_ipv4(hosts[rows4].tolist())
    v6_rows = np.flatnonzero(b.types == "ipv6")
    keys6, ok6 = parse_ipv6(b.values[v6_rows].tolist())
    for text in nets:
        net = ipaddress.ip_network(text)
        if net.version == 4:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            _mark(found, entry_key("cidr", text), ok4 & (numbers >= lo) & (numbers <= hi))
        elif len(v6_rows):
            lo6, hi6 = net.network_address.packed, net.broadcast_address.packed
            inside = ok6 & (keys6 >= np.bytes_(lo6)) & (keys6 <= np.bytes_(hi6))
            if inside.any():
                found[entry_key("cidr", text)] = v6_rows[inside].astype(np.int64)


def _keywords(found: Found, values: NDArray[np.str_], words: list[str]) -> None:
    """One regular-expression pass over all values joined: every row holding a keyword has
    at least one match; only those rows are then searched for each keyword."""
    if not words or not len(values):
        return
    items = values.tolist()
    lengths = np.fromiter((len(v) + 1 for v in items), dtype=np.int64, count=len(items))
    starts = np.cumsum(lengths) - lengths
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    at = np.fromiter((m.start() for m in pattern.finditer("\n".join(items))), dtype=np.int64)
    candidates = np.unique(np.searchsorted(starts, at, side="right") - 1)
    texts = values[candidates]
    for w in words:
        rows = candidates[np.char.find(texts, w) >= 0]
        if len(rows):
            found[entry_key("keyword", w)] = rows.astype(np.int64)


def match_keys(batch: Batch, entries: Sequence[tuple[str, str]]) -> Found:
    """Entry key (``kind:value``) -> the rows it matches, for entries that match any.

    Entries must be normalised (`normalise_entry`)."""
    if not len(batch.values) or not entries:
        return {}
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, value in dict.fromkeys(entries):
        by_kind[kind].append(value)
    found: Found = {}
    hosts = batch.hosts if batch.hosts is not None else hosts_of(batch.types, batch.values)
    _exact(found, "country", batch.country, by_kind["country"])
    _exact(found, "asn", batch.asn, by_kind["asn"])
    _exact(found, "value", batch.values, by_kind["value"])
    _exact(found, "threat-type", batch.threat, by_kind["threat-type"])
    named = np.isin(batch.types, ["domain", "url", "email"])
    if by_kind["cctld"]:
        last = np.where(named & (np.char.find(hosts, ".") >= 0),
                        np.char.rpartition(hosts, ".")[:, 2], "")  # fmt: skip
        _exact(found, "cctld", last, by_kind["cctld"])
    # A registrable domain matches every host under it through the registered-domain
    # column; any other entry (a sub-domain, a public suffix) is compared by suffix.
    registrable = [d for d in by_kind["domain"] if registered_domain(d) == d]
    _exact(found, "domain", np.where(named, batch.registered, ""), registrable)
    for d in by_kind["domain"]:
        if d not in registrable:
            _mark(found, entry_key("domain", d),
                  named & ((hosts == d) | np.char.endswith(hosts, "." + d)))  # fmt: skip
    _cidrs(found, batch, hosts, by_kind["cidr"])
    _keywords(found, batch.values, by_kind["keyword"])
    return found


def match(batch: Batch, entries: Sequence[tuple[str, str]]) -> dict[int, list[str]]:
    """Row index -> the entries it matches, for matched rows only (the row form)."""
    hits: dict[int, list[str]] = {}
    for key, rows in match_keys(batch, entries).items():
        for row in rows.tolist():
            hits.setdefault(row, []).append(key)
    return hits


class OrgMatches(NamedTuple):
    """One row per (organisation, matched row), sorted: the reasons as a JSON list."""

    org: NDArray[np.int64]
    row: NDArray[np.int64]
    reasons: NDArray[np.object_]


def match_orgs(batch: Batch, watchlists: Mapping[int, Sequence[tuple[str, str]]]) -> OrgMatches:
    """Every (organisation, row) pair a watchlist entry matches, with the entries matched.

    Each distinct entry is tested once, however many organisations watch it; pairs are
    grouped with one sort. Only pairs matching several entries build their reasons one by
    one; the rest take the entry's ready-made JSON."""
    found = match_keys(batch, [e for entries in watchlists.values() for e in entries])
    names = list(found)
    index = {k: i for i, k in enumerate(names)}
    orgs, rows, keys = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for org, entries in watchlists.items():
        for kind, value in dict.fromkeys(entries):
            key = entry_key(kind, value)
            if key in found:
                hit = found[key]
                orgs.append(np.full(len(hit), org, np.int64))
                rows.append(hit)
                keys.append(np.full(len(hit), index[key], np.int64))
    order = np.lexsort((np.concatenate(keys), np.concatenate(rows), np.concatenate(orgs)))
    o_all, r_all, k_all = (np.concatenate(c)[order] for c in (orgs, rows, keys))
    if not len(o_all):
        return OrgMatches(o_all, r_all, np.zeros(0, dtype=object))
    first = np.flatnonzero(np.r_[True, (o_all[1:] != o_all[:-1]) | (r_all[1:] != r_all[:-1])])
    sizes = np.diff(np.r_[first, len(o_all)])
    single = np.array([orjson.dumps([k]).decode() for k in names] + [""], dtype=object)
    reasons = single[k_all[first]]
    for g in np.flatnonzero(sizes > 1).tolist():
        lo = int(first[g])
        reasons[g] = orjson.dumps([names[k] for k in k_all[lo : lo + sizes[g]].tolist()]).decode()
    return OrgMatches(o_all[first], r_all[first], reasons)
