"""Ingest benchmark: a STIX 2.1 bundle of N indicators with their observables.

Prints objects/s for parse + normalise, for end-to-end ingest into SQLite, and — in the
same run, on a subset, just before and just after our parse — for the `stix2` library's
`parse(..., allow_custom=True)`, with the ratios. Usage: python bench/ingest.py [--n 1000000] [--stix2-subset 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from marsad.formats import stix21
from marsad.ingest import parse_process
from marsad.ingest.batch import SubmissionDefaults, build_batch
from marsad.ingest.pipeline import ingest
from marsad.model.organisation import make_organisation
from marsad.model.records import ParseMeta
from marsad.store.bulk import Dialect
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

TLDS = ("com", "net", "org", "xyz", "info", "com.au", "co.nz", "com.fj", "top", "online")
WORDS = (
    "secure",
    "login",
    "bank",
    "verify",
    "account",
    "update",
    "pay",
    "wallet",
    "mail",
    "cloud",
    "portal",
    "service",
    "support",
    "billing",
    "auth",
    "signin",
    "online",
    "web",
    "app",
    "id",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_bundle(n: int, seed: int = 7) -> bytes:
    """N indicators, each with its SCO: a mix of IPv4, domains, URLs and SHA-256 hashes."""
    rng = random.Random(seed)
    objects: list[dict[str, object]] = []
    stamp = "2026-10-01T00:00:00.000Z"
    for i in range(n):
        kind = i % 4
        if kind == 0:
            rest = i // 200  # unique per i: first octet from i % 200, the rest from i // 200
            value = f"{11 + i % 200}.{rest >> 16 & 255}.{rest >> 8 & 255}.{rest & 255}"
            sco_type, pattern = "ipv4-addr", f"[ipv4-addr:value = '{value}']"
            sco: dict[str, object] = {
                "type": sco_type,
                "spec_version": "2.1",
                "id": f"{sco_type}--{_uuid(rng)}",
                "value": value,
            }
        elif kind in (1, 2):
            host = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{i}.{rng.choice(TLDS)}"
            if kind == 1:
                sco_type, value = "domain-name", host
            else:
                sco_type, value = "url", f"https://{host}/{rng.choice(WORDS)}/{i}"
            pattern = f"[{sco_type}:value = '{value}']"
            sco = {
                "type": sco_type,
                "spec_version": "2.1",
                "id": f"{sco_type}--{_uuid(rng)}",
                "value": value,
            }
        else:
            value = f"{rng.getrandbits(256):064x}"
            pattern = f"[file:hashes.'SHA-256' = '{value}']"
            sco = {
                "type": "file",
                "spec_version": "2.1",
                "id": f"file--{_uuid(rng)}",
                "hashes": {"SHA-256": value},
            }
        objects.append(sco)
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{_uuid(rng)}",
                "created": stamp,
                "modified": stamp,
                "name": f"indicator {i}",
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": stamp,
                "confidence": 70,
            }
        )
    return orjson.dumps({"type": "bundle", "id": f"bundle--{_uuid(rng)}", "objects": objects})


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread included (the merge worker's,
    the raw bytes' and the checkpoint's), and of its children once reaped (the parser
    process of a large submission): what a run costs on a shared machine."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def stix2_rate(objects: list[dict[str, Any]]) -> float:
    """Objects/s of the `stix2` library's parse(..., allow_custom=True) over ``objects``."""
    import stix2

    t = time.perf_counter()
    for obj in objects:
        stix2.parse(obj, allow_custom=True)
    return len(objects) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000, help="indicators (objects = 2N)")
    ap.add_argument(
        "--stix2-subset", type=int, default=10_000, help="indicators parsed by stix2 (objects = 2x)"
    )
    args = ap.parse_args()

    t = time.perf_counter()
    raw = make_bundle(args.n)
    objects = 2 * args.n
    print(
        f"workload: {args.n:,} indicators + {args.n:,} SCOs = {objects:,} objects, "
        f"{len(raw) / 1e6:,.1f} MB (generated in {time.perf_counter() - t:.1f}s)"
    )

    # This machine's speed drifts by a third from minute to minute (other tenants): the
    # peer is measured just before and just after our parse, and the ratio taken against
    # the mean of the two.
    sub_objects = orjson.loads(make_bundle(args.stix2_subset, seed=8))["objects"]
    peer_before = stix2_rate(sub_objects)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    d = Dialect("sqlite")
    gc.collect()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    c = cpu_seconds()
    t = time.perf_counter()
    batch = build_batch(
        stix21.parse_blocks(raw, ParseMeta()), SubmissionDefaults(), now, time=d.time, date=d.date
    )
    parse_s = time.perf_counter() - t
    parse_cpu = cpu_seconds() - c
    assert len(batch.assertions) == args.n and not batch.rejections, (
        len(batch.assertions),
        batch.rejections[:3],
    )
    ours_parse = objects / parse_s
    print(
        f"marsad parse + normalise:  {ours_parse:>12,.0f} objects/s  ({parse_s:.2f}s,"
        f" {parse_cpu:.2f} CPU-s)"
    )
    del batch
    gc.collect()
    peer_after = stix2_rate(sub_objects)
    peer = (peer_before + peer_after) / 2

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(sqlite_url(Path(tmp) / "bench.db"), create=True)
        store.add_org(make_organisation("Bench Partner", "private-partner", "AU", None))
        where = "a parser process" if parse_process.wanted(len(raw)) else "in process"
        c = cpu_seconds()
        t = time.perf_counter()
        report = ingest(store, raw, source="Bench Partner", now=now, analyse=False)  # ingest only
        e2e_s = time.perf_counter() - t
        e2e_cpu = cpu_seconds() - c
        assert report.status == "ingested" and report.accepted == args.n, report
        store.close()  # joins the WAL checkpoint that runs after the commit
        e2e_all_cpu = cpu_seconds() - c
    ours_e2e = objects / e2e_s
    print(
        f"marsad end to end SQLite:  {ours_e2e:>12,.0f} objects/s  ({e2e_s:.2f}s, raw kept, one transaction,"
        f" parsed {where}; {e2e_cpu:.2f} CPU-s, {e2e_all_cpu:.2f} with the checkpoint after it)"
    )

    import stix2

    print(
        f"stix2 {stix2.__version__} parse(allow_custom):  {peer:>10,.0f} objects/s"
        f"  ({len(sub_objects):,} objects; {peer_before:,.0f} just before our parse,"
        f" {peer_after:,.0f} just after)"
    )
    print(f"ratio parse+normalise / stix2: {ours_parse / peer:,.0f}x")
    print(f"ratio end-to-end SQLite / stix2 parse alone: {ours_e2e / peer:,.0f}x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
