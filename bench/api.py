"""REST API benchmark: single and bulk lookups and 1,000-assertion pages, policy applied.

Marsad serves N assertions (SQLite, `marsad serve` in its own process, real HTTP on
loopback) to a national unit that sees about two thirds of them (the rest is AMBER/RED for
others); every request is authenticated, filtered by the policy in SQL and audited. The
peer, measured in the same run on the same data, is the way a client without a bulk
endpoint works: one `GET /lookup` per value. Usage: python bench/api.py [--n 300000]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from marsad.access import identity
from marsad.access.policy import Role
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.engine import sqlite_url
from marsad.store.store import Store


def _ip(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def load(path: Path, n: int) -> str:
    """Ingest n assertions in three markings; return a token of the national unit."""
    store = Store.open(sqlite_url(path), create=True)
    store.add_org(make_organisation("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific"))
    store.add_org(make_organisation("PhishGuard", "private-partner", "AU", "asia-south-pacific"))
    third = n // 3
    for k, (tlp, to) in enumerate(((TLP.GREEN, ()), (TLP.AMBER, ("org:Fiji CCU",)), (TLP.RED, ()))):
        raw = "\n".join(_ip(i) for i in range(k * third, (k + 1) * third)).encode()
        handling = Handling(tlp=tlp, releasable_to=Releasability.from_tokens(list(to)))
        ingest(store, raw, source="PhishGuard", threat_type=ThreatType.C2,
               defaults=SubmissionDefaults(handling=handling, tlp_floor=tlp),
               analyse=False)  # fmt: skip
    identity.add_user(store, "bench", "Fiji CCU", Role.ANALYST, None)
    token, _ = identity.create_token(store, "bench")
    store.close()
    return token


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--singles", type=int, default=2000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="marsad-bench-api-"))
    t0 = time.perf_counter()
    token = load(home / "marsad.db", args.n)
    print(f"loaded {args.n:,} assertions in {time.perf_counter() - t0:.1f}s")
    port = _port()
    env = {**os.environ, "MARSAD_HOME": str(home), "MARSAD_DB": sqlite_url(home / "marsad.db")}
    server = subprocess.Popen(
        [sys.executable, "-m", "marsad", "serve", "--port", str(port)], env=env,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600)
        for _ in range(100):
            try:
                client.get(f"http://127.0.0.1:{port}/api/health")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rng = random.Random(7)
        values = [_ip(rng.randrange(args.n * 2)) for _ in range(100_000)]  # half unknown

        started = time.perf_counter()
        for v in values[: args.singles]:
            client.get(f"{base}/lookup", params={"value": v}).raise_for_status()
        single = (time.perf_counter() - started) / args.singles

        started = time.perf_counter()
        bulk = client.post(f"{base}/lookup", json={"values": values})
        bulk.raise_for_status()
        bulk_s = time.perf_counter() - started
        found = len(bulk.json()["assertions"])

        pages, cursor = [], None
        for _ in range(100):
            started = time.perf_counter()
            page = client.get(
                f"{base}/assertions",
                params={"limit": 1000, **({"cursor": cursor} if cursor else {})},
            )
            pages.append(time.perf_counter() - started)
            cursor = page.json()["next"]
        print(f"single GET /lookup: {1 / single:,.0f} requests/s ({single * 1000:.2f} ms each, "
              f"{args.singles:,} sequential)")  # fmt: skip
        print(f"bulk POST /lookup: 100,000 values in {bulk_s:.2f}s = {100_000 / bulk_s:,.0f} values/s "
              f"({found:,} visible assertions found)")  # fmt: skip
        print(f"peer, one GET /lookup per value: {1 / single:,.0f} values/s; "
              f"ratio bulk / per-value {100_000 / bulk_s * single:,.0f}x")  # fmt: skip
        print(f"GET /assertions?limit=1000: median {statistics.median(pages) * 1000:.1f} ms, "
              f"p95 {sorted(pages)[94] * 1000:.1f} ms over 100 pages")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
