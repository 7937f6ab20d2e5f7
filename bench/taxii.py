"""TAXII 2.1 benchmark: page through a collection, single and bulk object look-ups.

Marsad serves N assertions (SQLite, `marsad serve` in its own process) to a national unit
whose grant the policy applies to every page (80% of the data is visible to it, the rest
is AMBER/RED for others); every request is authenticated and audited, as in production.
The peer is medallion 3.0.0 (the OASIS TAXII 2.1 reference server, memory backend, in its
own venv under bench/.venv-medallion), loaded with the same indicator objects and their
manifest; because its pages cost O(objects²) it is measured on a smaller collection of M
objects, and Marsad is measured on the same M objects too, in the same run, for the ratio.

Usage: python bench/taxii.py [--n 1000000] [--peer-n 5000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from marsad.access import identity
from marsad.access.policy import Role
from marsad.exchange.taxii_collections import SCOPES
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

TAXII = "application/taxii+json;version=2.1"
OUT = Path(__file__).parent / "out" / "taxii"
MEDALLION = Path(__file__).parent / ".venv-medallion"
ALL = SCOPES[0].id
VIEWER = "Fiji CCU"
# share of the data, TLP, releasability: 80% visible to the viewer
MIX = (
    (0.2, TLP.CLEAR, ()),
    (0.4, TLP.GREEN, ()),
    (0.2, TLP.AMBER, ("org:Fiji CCU",)),
    (0.1, TLP.AMBER, ("org:Tonga CERT",)),
    (0.1, TLP.RED, ("org:Tonga CERT",)),
)
CHUNK = 100_000  # values per submission


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(path: Path, n: int) -> tuple[str, float]:
    """An instance with ``n`` assertions in the MIX; the viewer's token; load seconds."""
    for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        old.unlink(missing_ok=True)
    store = Store.open(sqlite_url(path), create=True)
    for name, country in ((VIEWER, "FJ"), ("Tonga CERT", "TO"), ("Feed Partner", None)):
        kind = "private-partner" if country is None else "national-cyber-unit"
        store.add_org(make_organisation(name, kind, country or "AU", "asia-south-pacific"))
    started, done = time.perf_counter(), 0
    for share, tlp, tokens in MIX:
        count = int(n * share)
        handling = Handling(tlp=tlp, releasable_to=Releasability.from_tokens(list(tokens)))
        for lo in range(0, count, CHUNK):
            hi = min(count, lo + CHUNK)
            raw = "".join(f"h{done + i}.{tlp.rank}-x{i % 997}.com\n" for i in range(lo, hi))
            report = ingest(store, raw.encode(), source="Feed Partner", fmt="list",
                            threat_type=ThreatType.PHISHING,
                            defaults=SubmissionDefaults(handling=handling),
                            analyse=False)  # fmt: skip
            assert report.accepted == hi - lo, report
        done += count
    seconds = time.perf_counter() - started
    identity.add_user(store, "bench", VIEWER, Role.ANALYST, None)
    token = identity.create_token(store, "bench")[0]
    store.close()
    return token, seconds


def wait_up(url: str, proc: subprocess.Popen[bytes], **kw: Any) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}: see {OUT}/*.log")
        try:
            if httpx.get(url, timeout=5, **kw).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def measure(base: str, coll: str, headers: dict[str, str], auth: Any, lookups: int,
            bulk: int, max_pages: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Page through a collection (1,000 per page), then single and bulk look-ups by id."""
    http = httpx.Client(headers={"Accept": TAXII, **headers}, auth=auth, timeout=600)
    url = f"{base}/collections/{coll}/objects/"
    http.get(url, params={"limit": 1}).raise_for_status()  # warm up (connections, caches)
    times, ids, params = [], [], {"limit": 1000}
    while True:
        t = time.perf_counter()
        resp = http.get(url, params=params)
        times.append(time.perf_counter() - t)
        resp.raise_for_status()
        env = resp.json()
        ids += [o["id"] for o in env.get("objects", [])]
        if not env.get("more") or (max_pages and len(times) >= max_pages):
            break
        params = {"limit": 1000, "next": env["next"]}
    rng = random.Random(5)
    picked = rng.sample(ids, min(lookups, len(ids)))
    t = time.perf_counter()
    for oid in picked:
        got = http.get(f"{url}{oid}/")
        assert got.status_code == 200 and got.json()["objects"][0]["id"] == oid
    single = len(picked) / (time.perf_counter() - t)
    batches = [rng.sample(ids, min(1000, len(ids))) for _ in range(bulk)]
    t = time.perf_counter()
    found = 0
    for batch in batches:
        got = http.get(url, params={"match[id]": ",".join(batch), "limit": 1000})
        found += len(got.json().get("objects", []))
    assert found == sum(len(b) for b in batches), (found, len(batches))
    bulk_rate = found / (time.perf_counter() - t)
    ms = [x * 1000 for x in times]
    return {
        "objects": len(ids), "pages": len(times), "ms_mean": statistics.fmean(ms),
        "ms_p50": statistics.median(ms), "ms_p95": sorted(ms)[int(0.95 * (len(ms) - 1))],
        "ms_first": ms[0], "objects_per_s": len(ids) / sum(times),
        "single_per_s": single, "bulk_per_s": bulk_rate,
    }  # fmt: skip


def marsad(
    path: Path, n: int, lookups: int, bulk: int, keep_objects: bool
) -> tuple[dict[str, Any], list[Any]]:
    token, load = build(path, n)
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "marsad", "serve", "--db", sqlite_url(path), "--port", str(port)],
        env={**os.environ, "MARSAD_HOME": str(path.parent)},
        stderr=(path.parent / "serve.log").open("wb"),
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/taxii2/api"
        wait_up(f"http://127.0.0.1:{port}/api/health", proc)
        result = measure(base, ALL, {"Authorization": f"Bearer {token}"}, None, lookups, bulk)
        http = httpx.Client(headers={"Accept": TAXII, "Authorization": f"Bearer {token}"})
        objects: list[Any] = []
        params: dict[str, Any] = {"limit": 1000}
        while keep_objects:
            env = http.get(f"{base}/collections/{ALL}/objects/", params=params, timeout=600).json()
            objects += env.get("objects", [])
            if not env.get("more"):
                break
            params = {"limit": 1000, "next": env["next"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result["n"], result["load_s"] = n, load
    return result, objects


def medallion(objects: list[Any], lookups: int, bulk: int) -> dict[str, Any]:
    """medallion's memory backend over the same objects, with their manifest."""
    if not (MEDALLION / "bin" / "medallion").exists():
        raise SystemExit(f"install the peer first: python -m venv {MEDALLION} && "
                         f"{MEDALLION}/bin/pip install medallion==3.0.0")  # fmt: skip
    port = _port()
    root = f"http://127.0.0.1:{port}/api1/"
    data = {
        "/discovery": {"title": "medallion", "default": root, "api_roots": [root]},
        "api1": {
            "information": {"title": "api1", "versions": [TAXII], "max_content_length": 10**9},
            "status": [],
            "collections": [{
                "id": ALL, "title": "all", "can_read": True, "can_write": False,
                "media_types": ["application/stix+json;version=2.1"], "objects": objects,
                "manifest": [{"id": o["id"], "date_added": o["modified"], "version": o["modified"],
                              "media_type": "application/stix+json;version=2.1"} for o in objects],
            }],
        },
    }  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "medallion-data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend",
                          "module_class": "MemoryBackend",
                          "filename": str(OUT / "medallion-data.json")},
              "users": {"bench": "bench-pass"}, "taxii": {"max_page_size": 1000}}  # fmt: skip
    (OUT / "medallion-config.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [str(MEDALLION / "bin" / "medallion"), "--port", str(port), "--log-level", "ERROR",
         str(OUT / "medallion-config.json")],  # werkzeug logs every request: not to a pipe
        stderr=(OUT / "medallion.log").open("wb"), stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        auth = httpx.BasicAuth("bench", "bench-pass")
        wait_up(f"{root}", proc, auth=auth, headers={"Accept": TAXII})
        return measure(root.rstrip("/"), ALL, {}, auth, lookups, bulk)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--peer-n", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="keep bench/out/taxii")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    small, small_objects = marsad(OUT / "small.db", args.peer_n, 500, 5, True)
    print("marsad", small, flush=True)
    peer = medallion(small_objects, 100, 1)
    print("medallion", peer, flush=True)
    big, _ = marsad(OUT / "big.db", args.n, 2000, 20, False)
    print("marsad", big, flush=True)
    rows = [("marsad", small), ("medallion 3.0.0", peer), ("marsad", big)]
    print(f"{'server':16} {'N':>9} {'visible':>8} {'pages':>6} {'ms/page mean':>12} "
          f"{'p50':>7} {'p95':>7} {'first':>7} {'obj/s':>9} {'single/s':>9} {'bulk obj/s':>10}")  # fmt: skip
    for name, r in rows:
        n = r.get("n", args.peer_n)
        print(f"{name:16} {n:>9,} {r['objects']:>8,} {r['pages']:>6} {r['ms_mean']:>12.1f} "
              f"{r['ms_p50']:>7.1f} {r['ms_p95']:>7.1f} {r['ms_first']:>7.1f} "
              f"{r['objects_per_s']:>9,.0f} {r['single_per_s']:>9,.0f} {r['bulk_per_s']:>10,.0f}")  # fmt: skip
    print(f"load: {big['n']:,} assertions ingested in {big['load_s']:.1f} s")
    print(f"ratio marsad/medallion at {args.peer_n:,} objects: paging "
          f"{peer['ms_mean'] / small['ms_mean']:.0f}x, single look-ups "
          f"{small['single_per_s'] / peer['single_per_s']:.0f}x, bulk look-ups "
          f"{small['bulk_per_s'] / peer['bulk_per_s']:.0f}x")  # fmt: skip
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
