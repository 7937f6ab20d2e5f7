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
from numpy.typing import NDArray

from marsad.enrich.iputil import parse_ipv4, parse_ipv6
from marsad.model.errors import MarsadError
from marsad.model.normalize import detect, normalize, registered_domain
from marsad.model.observable import ObservableType
from marsad.model.records import ThreatType

KINDS = ("country", "asn", "cidr", "cctld", "domain", "keyword", "value", "threat-type")
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


def hosts_of(types: NDArray[np.str_], values: NDArray[np.str_]) -> NDArray[np.str_]:
    """The host part of each value: the value for domains and IPs, the host of a URL, the
    domain of an e-mail address."""
    after = np.char.partition(values, "://")[:, 2]
    host = np.char.partition(np.char.partition(after, "/")[:, 0], ":")[:, 0]
    host = np.char.rpartition(host, "@")[:, 2]
    mail = np.char.rpartition(values, "@")[:, 2]
    return np.where(types == "url", host, np.where(types == "email", mail, values))


Hits = dict[int, list[str]]


def _exact(hits: Hits, kind: str, column: NDArray[np.generic], wanted: list[str]) -> None:
    """One ``isin`` for every entry of a kind compared to one column."""
    if not wanted:
        return
    keys = np.asarray([int(w) for w in wanted]) if column.dtype.kind == "i" else np.asarray(wanted)
    rows = np.flatnonzero(np.isin(column, keys))
    for row, found in zip(rows.tolist(), column[rows].tolist(), strict=True):
        hits.setdefault(row, []).append(entry_key(kind, str(found)))


def _mark(hits: Hits, key: str, mask: NDArray[np.bool_]) -> None:
    for row in np.flatnonzero(mask).tolist():
        hits.setdefault(row, []).append(key)


def _cidrs(hits: Hits, b: Batch, hosts: NDArray[np.str_], nets: list[str]) -> None:
    if not nets:
        return
    is_v4, is_v6 = (b.types == "ipv4") | (b.types == "url"), b.types == "ipv6"
    numbers, ok4 = parse_ipv4(hosts.tolist()) if is_v4.any() else (None, None)
    v6_rows = np.flatnonzero(is_v6)
    keys6, ok6 = parse_ipv6(b.values[v6_rows].tolist())
    for text in nets:
        net = ipaddress.ip_network(text)
        if net.version == 4 and numbers is not None and ok4 is not None:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            _mark(hits, entry_key("cidr", text), is_v4 & ok4 & (numbers >= lo) & (numbers <= hi))
        elif net.version == 6 and len(v6_rows):
            lo6, hi6 = net.network_address.packed, net.broadcast_address.packed
            inside = ok6 & (keys6 >= np.bytes_(lo6)) & (keys6 <= np.bytes_(hi6))
            mask = np.zeros(len(b.values), dtype=np.bool_)
            mask[v6_rows[inside]] = True
            _mark(hits, entry_key("cidr", text), mask)


def _keywords(hits: Hits, values: NDArray[np.str_], words: list[str]) -> None:
    """One regular-expression pass over all values joined: every row holding a keyword has
    at least one match; only those rows are then checked keyword by keyword."""
    if not words or not len(values):
        return
    items = values.tolist()
    lengths = np.fromiter((len(v) + 1 for v in items), dtype=np.int64, count=len(items))
    starts = np.cumsum(lengths) - lengths
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    found = np.fromiter((m.start() for m in pattern.finditer("\n".join(items))), dtype=np.int64)
    for row in np.unique(np.searchsorted(starts, found, side="right") - 1).tolist():
        text = items[row]
        hits.setdefault(row, []).extend(entry_key("keyword", w) for w in words if w in text)


def match(batch: Batch, entries: Sequence[tuple[str, str]]) -> Hits:
    """Row index -> the entries (``kind:value``) that row matches, for matched rows only.

    Entries must be normalised (`normalise_entry`)."""
    if not len(batch.values) or not entries:
        return {}
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, value in dict.fromkeys(entries):
        by_kind[kind].append(value)
    hits: Hits = {}
    hosts = hosts_of(batch.types, batch.values)
    _exact(hits, "country", batch.country, by_kind["country"])
    _exact(hits, "asn", batch.asn, by_kind["asn"])
    _exact(hits, "value", batch.values, by_kind["value"])
    _exact(hits, "threat-type", batch.threat, by_kind["threat-type"])
    named = np.isin(batch.types, ["domain", "url", "email"])
    if by_kind["cctld"]:
        last = np.where(named & (np.char.find(hosts, ".") >= 0),
                        np.char.rpartition(hosts, ".")[:, 2], "")  # fmt: skip
        _exact(hits, "cctld", last, by_kind["cctld"])
    # A registrable domain matches every host under it through the registered-domain
    # column; any other entry (a sub-domain, a public suffix) is compared by suffix.
    registrable = [d for d in by_kind["domain"] if registered_domain(d) == d]
    _exact(hits, "domain", np.where(named, batch.registered, ""), registrable)
    for d in by_kind["domain"]:
        if d not in registrable:
            _mark(hits, entry_key("domain", d),
                  named & ((hosts == d) | np.char.endswith(hosts, "." + d)))  # fmt: skip
    _cidrs(hits, batch, hosts, by_kind["cidr"])
    _keywords(hits, batch.values, by_kind["keyword"])
    return hits


def match_orgs(
    batch: Batch, watchlists: Mapping[int, Sequence[tuple[str, str]]]
) -> dict[int, Hits]:
    """Organisation id -> (row -> the entries of its watchlists that row matches).

    Every distinct entry is tested once, however many organisations watch it."""
    everyone = [entry for entries in watchlists.values() for entry in entries]
    rows = match(batch, everyone)
    watchers: dict[str, list[int]] = {}
    for org, entries in watchlists.items():
        for kind, value in dict.fromkeys(entries):
            watchers.setdefault(entry_key(kind, value), []).append(org)
    out: dict[int, Hits] = {}
    for row, keys in rows.items():
        for key in keys:
            for org in watchers.get(key, ()):
                out.setdefault(org, {}).setdefault(row, []).append(key)
    return out
