"""Bulk match: 1,000,000 values against a store of 10,000,000 assertions (target < 10 s).

Set-up (not timed, and not Marsad's ingest): the store is migrated by Marsad, then its
organisations, observables and assertions are generated directly with bulk SQL
(recursive CTEs inside SQLite), so that a 10M-assertion store takes minutes rather than
the hours real submissions would. About 70% as many observables as assertions (so many
values have two sources), half IPv4 and half domains, TLP spread over CLEAR..RED.

Timed, on the same store and in the same run:
* Marsad: `marsad match`'s path (read and normalise the file per distinct value, stage
  the keys, one join under the viewer's `visible(grant, …)` predicate, per-key counts);
* peer: the naive way, a Python dict built from one SELECT of every assertion the viewer
  may see (same predicate), then probed with the same normalised values;
* single-value lookup latency (p50/p99) through the search path (`assertions_about`).

    .venv/bin/python bench/match.py [--assertions 10000000] [--values 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from marsad.access.policy import grant_for
from marsad.analysis.match import parse_input, per_key
from marsad.model.observable import Observable, ObservableType
from marsad.model.organisation import make_organisation
from marsad.store import match_reads as mr
from marsad.store.engine import sqlite_url
from marsad.store.reads import visible
from marsad.store.schema import assertions, observables
from marsad.store.store import Store

BYTES_PER_ASSERTION = 420  # measured: tables and indexes of this generator, rounded up
ORGS = [
    ("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific"),
    ("ASP Desk", "regional-desk", "SG", "asia-south-pacific"),
    ("Global Hub", "hub", "FR", "europe"),
    ("PhishGuard", "private-partner", "AU", "asia-south-pacific"),
    ("France OFAC", "national-cyber-unit", "FR", "europe"),
]


def ip_of(i: int) -> str:
    return f"{11 + (i >> 24)}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def domain_of(i: int) -> str:
    return f"d{i}.bench-bad.com"


def value_of(i: int) -> str:
    """Observable ``i``: odd ids are IPv4 addresses, even ids domains (as the SQL makes them)."""
    return ip_of(i) if i % 2 else domain_of(i)


def build(path: Path, n_assertions: int) -> float:
    started = time.perf_counter()
    store = Store.open(sqlite_url(path), create=True)
    for name, kind, country, region in ORGS:
        store.add_org(make_organisation(name, kind, country, region))
    store.close()
    import sqlite3

    n_obs = max(1, int(n_assertions / 1.43))
    conn = sqlite3.connect(path)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-3000000",
                   "temp_store=MEMORY", "foreign_keys=OFF"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("INSERT INTO blobs VALUES ('00', 0, x'')")
    conn.execute(
        "INSERT INTO submissions (id, source_org_id, sha256, size, status, defaults, received_at,"
        " completed_at) SELECT id, id, '00' || id, 0, 'ingested', '{}', '2026-11-01 00:00:00',"
        " '2026-11-01 00:00:00' FROM organisations"
    )
    conn.execute("UPDATE submissions SET sha256 = '00'")
    ip = ("(11 + (x >> 24)) || '.' || ((x >> 16) & 255) || '.' || ((x >> 8) & 255) || '.' "
          "|| (x & 255)")  # fmt: skip
    conn.execute(
        f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n_obs}) "
        f"INSERT INTO observables (id, type, value, registered_domain) SELECT x, "
        f"CASE WHEN x % 2 THEN 'ipv4' ELSE 'domain' END, "
        f"CASE WHEN x % 2 THEN {ip} ELSE 'd' || x || '.bench-bad.com' END, "
        f"CASE WHEN x % 2 THEN NULL ELSE 'bench-bad.com' END FROM c"
    )
    n_orgs = len(ORGS)
    conn.execute(
        f"WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < {n_assertions - 1}) "
        "INSERT INTO assertions (id, observable_id, source_org_id, owner_org_id, threat_type, "
        "sightings, tlp, pap, releasable_to, reliability, credibility, purpose, "
        "first_submission_id, last_submission_id, location, first_seen, last_seen) "
        f"SELECT x + 1, x % {n_obs} + 1, (x / {n_obs} + x % 3) % {n_orgs} + 1, "
        f"(x / {n_obs} + x % 3) % {n_orgs} + 1, 'c2', 1, (x * 7919) % 5, (x * 31) % 4, "
        "CASE WHEN x % 11 = 0 THEN '[\"region:asia-south-pacific\"]' ELSE '[]' END, "
        "substr('ABCDEF', x % 6 + 1, 1), x % 6 + 1, 'threat-analysis', "
        f"(x / {n_obs} + x % 3) % {n_orgs} + 1, (x / {n_obs} + x % 3) % {n_orgs} + 1, "
        "'line ' || x, '2026-10-01 00:00:00', '2026-10-20 00:00:00' FROM c"
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def values_file(n_values: int, n_obs: int, hit_share: float, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = []
    for _ in range(n_values):
        if rng.random() < hit_share:
            out.append(value_of(rng.randrange(1, n_obs + 1)))
        else:
            out.append(value_of(n_obs + 1 + rng.randrange(50_000_000)))
    return ("\n".join(out) + "\n").encode()


def ours(store: Store, grant: object, raw: bytes) -> tuple[float, float, float, int, int]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    parsed = parse_input(raw, "lines", None, "values.txt")
    t1 = time.perf_counter()
    hits, _ = mr.find(store, grant, parsed.keys)  # type: ignore[arg-type]
    seen, _ = per_key(parsed)
    _ = sum(int(seen[h.key]) for h in hits)
    t2 = time.perf_counter()
    cpu = time.process_time() - c0  # this process's CPU: what a quiet machine would show
    return t1 - t0, t2 - t1, cpu, len(hits), len({h.key for h in hits})


def peer(store: Store, grant: object, keys: list[tuple[str, str]]) -> tuple[float, float, int]:
    """A dict of every visible assertion, keyed by (type, value), probed value by value."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    index: dict[tuple[str, str], list[int]] = {}
    query = (
        select(observables.c.type, observables.c.value, assertions.c.id)
        .join(assertions, assertions.c.observable_id == observables.c.id)
        .where(visible(grant, assertions))  # type: ignore[arg-type]
    )
    with store.engine.connect() as conn:
        for t, v, a in conn.execute(query):
            index.setdefault((t, v), []).append(a)
    hits = sum(len(index.get(k, ())) for k in keys)
    return time.perf_counter() - t0, time.process_time() - c0, hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--assertions", type=int, default=2_000_000)
    ap.add_argument("--values", type=int, default=1_000_000)
    ap.add_argument("--hit-share", type=float, default=0.3)
    ap.add_argument("--lookups", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=None, help="keep/reuse the store here")
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    folder = args.db.parent if args.db else Path(tempfile.mkdtemp(prefix="marsad-bench-"))
    path = args.db or folder / "match.db"
    free = shutil.disk_usage(folder).free
    need = args.assertions * BYTES_PER_ASSERTION
    if not path.exists() and need > free * 0.8:
        scaled = int(free * 0.8 / BYTES_PER_ASSERTION)
        print(f"disk: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed: scaling down "
              f"to {scaled:,} assertions")  # fmt: skip
        args.assertions = scaled
    n_obs = max(1, int(args.assertions / 1.43))
    if path.exists():
        print(f"store: reusing {path}")
    else:
        print(f"store: generating {args.assertions:,} assertions over {n_obs:,} observables "
              f"directly with bulk SQL (recursive CTEs; not through ingest) in {path}")  # fmt: skip
        secs = build(path, args.assertions)
        print(f"  set-up {secs:.1f}s, {path.stat().st_size / 1e9:.2f} GB")
    store = Store.open(sqlite_url(path))
    with store.engine.connect() as conn:  # a reused store says its own size
        n_a = conn.execute(select(func.count()).select_from(assertions)).scalar()
        n_obs = int(conn.execute(select(func.max(observables.c.id))).scalar() or 0)
    viewer = store.viewer("Fiji CCU")
    grant = grant_for(viewer, __import__("datetime").date(2026, 11, 23))
    raw = values_file(args.values, n_obs, args.hit_share)
    print(f"match: {args.values:,} values ({args.hit_share:.0%} drawn from stored observables) "
          f"as {viewer.label} against {n_a:,} assertions")  # fmt: skip
    load = os.getloadavg()[0]
    parse_s, join_s, cpu, n_hits, n_keys = ours(store, grant, raw)
    total = parse_s + join_s
    print(f"  Marsad: {total:.2f}s wall = normalise {parse_s:.2f}s + stage/join/count "
          f"{join_s:.2f}s ({cpu:.2f}s CPU; load average {load:.1f} on {os.cpu_count()} cores); "
          f"{args.values / total:,.0f} values/s; {n_keys:,} values hit {n_hits:,} visible "
          f"assertions (target: 1M values vs 10M assertions < 10 s)")  # fmt: skip
    if not args.no_peer:
        keys = parse_input(raw, "lines", None, "v").keys
        peer_s, peer_cpu, peer_hits = peer(store, grant, keys)
        assert peer_hits == n_hits, (peer_hits, n_hits)
        print(f"  peer (dict from one SELECT of every visible assertion, then probes the same "
              f"normalised values): {peer_s:.2f}s wall ({peer_cpu:.2f}s CPU), same "
              f"{peer_hits:,} hits; ratio {peer_s / join_s:.1f}x vs Marsad's stage/join, "
              f"{peer_s / total:.1f}x vs Marsad end to end (CPU {peer_cpu / cpu:.1f}x)")  # fmt: skip
    rng = random.Random(3)
    latencies = []
    for i in range(args.lookups):
        oid = rng.randrange(1, n_obs + 1) if i % 2 else n_obs + 1 + rng.randrange(10**6)
        obs = Observable(ObservableType.IPV4 if oid % 2 else ObservableType.DOMAIN, value_of(oid))
        t0 = time.perf_counter()
        store.assertions_about([obs], grant)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"lookup (search path, one value, half hits, {args.lookups} calls): "
          f"p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms")  # fmt: skip
    store.close()


if __name__ == "__main__":
    main()
