"""Addresses that MISP warninglists name one by one (public resolvers, sinkholes, scanners).

The compiled warninglists answer "is this address inside a listed range", which for the
big datacenter and cloud lists is true of most criminal hosting. Over-correlation wants
something narrower: the address *itself* is a well-known shared thing. So this keeps the
single addresses (a bare address, a /32 or a /128 entry) with the names of their lists.
Pure; `marsad.enrich.loaders.load_listed_addresses` caches the result per list version.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any


def single_address(entry: str) -> str | None:
    """The canonical address an entry names alone, or None for a range or anything else."""
    text = entry.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return str(net.network_address) if net.num_addresses == 1 else None
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def listed_addresses(documents: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Canonical address → names of the CIDR lists that name it alone."""
    found: dict[str, list[str]] = {}
    for doc in documents:
        if doc.get("type") != "cidr":
            continue
        name = str(doc["name"])
        for entry in doc.get("list", []):
            address = single_address(str(entry))
            if address is not None:
                names = found.setdefault(address, [])
                if name not in names:
                    names.append(name)
    return found
