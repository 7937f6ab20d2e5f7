"""A per-row reference matcher: the obvious loop the columnar `watch.match` must agree with.

Used by the property test and, as the peer, by `bench/alerts.py`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from marsad.model.normalize import registered_domain


def host_of(kind: str, value: str) -> str:
    if kind == "url":
        return value.partition("://")[2].partition("/")[0].partition(":")[0].rpartition("@")[2]
    if kind == "email":
        return value.rpartition("@")[2]
    return value


def row_matches(
    kind: str, value: str, registered: str, threat: str, country: str, asn: int,
    entry: tuple[str, str],
) -> bool:  # fmt: skip
    what, wanted = entry
    host = host_of(kind, value)
    named = kind in ("domain", "url", "email")
    if what == "country":
        return country == wanted
    if what == "asn":
        return asn == int(wanted)
    if what == "value":
        return value == wanted
    if what == "threat-type":
        return threat == wanted
    if what == "keyword":
        return wanted in value
    if what == "cctld":
        return named and "." in host and host.rsplit(".", 1)[1] == wanted
    if what == "domain":
        if not named:
            return False
        if registered_domain(wanted) == wanted:
            return registered == wanted
        return host == wanted or host.endswith("." + wanted)
    if what == "cidr":
        if kind not in ("ipv4", "ipv6", "url"):
            return False
        try:
            address = ipaddress.ip_address(host if kind == "url" else value)
        except ValueError:
            return False
        if kind == "url" and address.version != 4:
            return False
        return address in ipaddress.ip_network(wanted)
    raise AssertionError(what)


def naive_match(
    rows: Sequence[tuple[str, str, str, str, str, int]], entries: Sequence[tuple[str, str]]
) -> dict[int, set[str]]:
    """Row index -> the entries it matches, one row and one entry at a time."""
    out: dict[int, set[str]] = {}
    for i, row in enumerate(rows):
        for entry in entries:
            if row_matches(*row, entry):
                out.setdefault(i, set()).add(f"{entry[0]}:{entry[1]}")
    return out
