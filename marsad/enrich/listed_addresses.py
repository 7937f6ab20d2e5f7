"""Addresses that MISP warninglists name one by one (public resolvers, sinkholes, scanners).

The compiled warninglists answer "is this address inside a listed range", which for the
big datacenter and cloud lists is true of most criminal hosting. Over-correlation wants
something narrower: the address *itself* is a well-known shared thing. So this keeps the
single addresses (a bare address, a /32 or a /128 entry) with the names of their lists,
extracted once per `pymispwarninglists` version into the enrichment cache.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from pathlib import Path

import orjson

from marsad.enrich.loaders import cache_dir, package_version, warninglist_documents

_loaded: dict[Path, dict[str, list[str]]] = {}


def _single(entry: str) -> str | None:
    text = entry.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            if net.num_addresses != 1:
                return None
            return str(net.network_address)
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def listed_addresses(cache: Path | None = None) -> dict[str, list[str]]:
    """Canonical address → names of the lists that name it alone."""
    path = (
        cache or cache_dir()
    ) / f"warninglist-addresses-{package_version('pymispwarninglists')}.json"
    if path in _loaded:
        return _loaded[path]
    if path.is_file():
        found: dict[str, list[str]] = orjson.loads(path.read_bytes())
    else:
        found = defaultdict(list)
        for doc in warninglist_documents():
            if doc.get("type") != "cidr":
                continue
            for entry in doc.get("list", []):
                address = _single(str(entry))
                if address is not None and doc["name"] not in found[address]:
                    found[address].append(str(doc["name"]))
        found = dict(found)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(found))
        tmp.replace(path)
    _loaded[path] = found
    return found
