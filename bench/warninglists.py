"""Warninglist matching benchmark: a mixed column of IPv4 addresses and domains.

Prints values/s for Marsad's compiled matcher (all 119 MISP warninglists of the installed
pymispwarninglists, type-aware) on N values, its start-up (mapping the compiled cache)
and compile time, and — in the same run — pymispwarninglists' own `search()` on a subset:
with ``slow_search=True`` (type-aware like ours: CIDR, hostname suffixes) and with its
default exact-match search, with the ratios.

Usage: python bench/warninglists.py [--n 1000000] [--peer-subset 200] [--peer-exact 100000]
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pymispwarninglists import WarningLists

from marsad.enrich import loaders
from marsad.model.observable import ObservableType as T

PREFIXES = ("", "www.", "mail.", "cdn.", "login.", "a.b.")


def workload(documents: list[dict[str, Any]], n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """n/2 IPv4 (1 in 5 inside a listed network) and n/2 domains (half under a listed name)."""
    rng = random.Random(seed)
    networks = [
        ipaddress.ip_network(e, strict=False)
        for d in documents
        if d["type"] == "cidr"
        for e in d["list"]
        if ":" not in e
    ]
    tranco = next(d for d in documents if d["name"].startswith("Top 1,000,000"))["list"]
    ips: list[str] = []
    for _ in range(n // 2):
        if rng.random() < 0.2:
            net = rng.choice(networks)
            ips.append(str(net.network_address + rng.randrange(net.num_addresses)))
        else:
            ips.append(str(ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24))))
    domains = [
        rng.choice(PREFIXES) + rng.choice(tranco)
        if rng.random() < 0.5
        else f"{rng.getrandbits(40):x}.{rng.choice(('example-shop', 'secure-pay', 'cdn-edge'))}{rng.randrange(10_000)}.com"
        for _ in range(n - n // 2)
    ]
    return ips, domains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--peer-subset", type=int, default=200)
    parser.add_argument("--peer-exact", type=int, default=100_000)
    args = parser.parse_args()

    documents = loaders.warninglist_documents()
    version = loaders.package_version("pymispwarninglists")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        loaders.load_warninglists(Path(tmp))  # compile + write the cache
        compile_s = time.perf_counter() - start
        loaders._loaded.clear()
        startup_s = min(loaders.startup_seconds(Path(tmp)) for _ in range(3))
        matcher = loaders.load_warninglists(Path(tmp))
        ips, domains = workload(documents, args.n)
        start = time.perf_counter()
        hits_ip = matcher.match(T.IPV4, ips)
        hits_dom = matcher.match(T.DOMAIN, domains)
        match_s = time.perf_counter() - start
        start = time.perf_counter()
        matcher.names_per_value(hits_ip, len(ips))
        matcher.names_per_value(hits_dom, len(domains))
        rows_s = time.perf_counter() - start
    flagged = len(set(hits_ip.value.tolist())) + len(set(hits_dom.value.tolist()))
    ours = args.n / match_s
    print(f"pymispwarninglists {version}: {len(documents)} lists; Python {sys.version.split()[0]}")
    print(
        f"compile (once per package version): {compile_s:.1f} s; start-up from cache: {startup_s * 1000:.1f} ms"
    )
    print(
        f"marsad match: {args.n:,} values ({len(ips):,} IPv4 + {len(domains):,} domains) in {match_s:.2f} s "
        f"= {ours:,.0f} values/s; {flagged:,} flagged ({flagged / args.n:.0%}); "
        f"row form (list names per value) +{rows_s:.2f} s"
    )

    subset = ips[: args.peer_subset // 2] + domains[: args.peer_subset // 2]
    start = time.perf_counter()
    peer = WarningLists(slow_search=True)
    peer_init = time.perf_counter() - start
    start = time.perf_counter()
    for value in subset:
        peer.search(value)
    slow = len(subset) / (time.perf_counter() - start)
    print(
        f"pymispwarninglists search(slow_search=True): {slow:,.1f} values/s on {len(subset):,} "
        f"(init {peer_init:.1f} s); ratio {ours / slow:,.0f}x"
    )
    exact_subset = ips[: args.peer_exact // 2] + domains[: args.peer_exact // 2]
    fast_peer = WarningLists()
    start = time.perf_counter()
    for value in exact_subset:
        fast_peer.search(value)
    fast = len(exact_subset) / (time.perf_counter() - start)
    print(
        f"pymispwarninglists search() exact only (no CIDR, no subdomains): {fast:,.0f} values/s "
        f"on {len(exact_subset):,}; ratio {ours / fast:,.0f}x"
    )


if __name__ == "__main__":
    main()
