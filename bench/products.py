"""Products at the size of a large real operation: every country's activity report, and a
~40-page regional assessment PDF.

The dataset is generated straight into a fresh SQLite store with bulk inserts (SQLAlchemy
Core ``executemany``, no ingest pipeline): 95 countries, each with a national cyber unit
(19 in Asia / South Pacific with a regional desk), a hub and 20 private partners; about
30,000 malicious IPv4 addresses registered in those countries (iptocc's RIR data places
them), 130,000 further infrastructure items (ccTLD and generic domains, URLs on them and on
the addresses), generic domains resolving to the addresses, one to three statements per
value with handling drawn over TLP, PAP and releasability, and the clusters of the real
analysis (`marsad analyse`'s code) stored as it would.

Measured, in one run:
- activity reports for every member country (HTML + CSV + STIX annex; PDF for a sample of
  countries only, see --pdf-countries), total seconds, against the naive peer: a
  per-country Python loop over every visible statement (geolocating each value on its own),
  timed on a few countries and compared per country; one median country's PDF is timed;
- the regional assessment: build, HTML and PDF (WeasyPrint), against WeasyPrint alone
  rendering the same HTML (the floor any HTML-to-PDF product pays).

    .venv/bin/python bench/products.py [--ips 30000 --items 130000 --countries 95]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import iptocc
import msgspec
import numpy as np
import orjson
from pypdf import PdfReader
from sqlalchemy import insert

from marsad.access.policy import EVERYTHING, grant_for
from marsad.analysis import clusters as cl
from marsad.analysis.infrastructure import clusters_of, load_graph
from marsad.model.handling import Region
from marsad.model.normalize import registered_domain
from marsad.model.organisation import make_organisation
from marsad.products import render
from marsad.products.activity_data import build_locator, cctld, member_countries
from marsad.products.assessment_data import assessment
from marsad.products.period import parse_period
from marsad.products.service import activity_report, write
from marsad.store.engine import sqlite_url
from marsad.store.schema import assertions, blobs, observables, relationships, submissions
from marsad.store.store import ExportFilter, Store

PERIOD = parse_period("2026-Q3")
THREATS = ("phishing", "c2", "malware-distribution", "investment-scam", "romance-scam",
           "bec", "fraud", "piracy", "compromised")  # fmt: skip
WEIGHTS = (30, 8, 10, 14, 6, 6, 8, 10, 8)
REGIONS = [r.value for r in Region if r is not Region.ASIA_SOUTH_PACIFIC]
TOKENS = ["members", "partners", "region:asia-south-pacific", "region:europe"]


def addresses(countries: int, ips: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """``ips`` IPv4 addresses over the ``countries`` countries with the most address space."""
    sample = rng.integers(1 << 24, 224 << 24, size=ips * 40, dtype=np.int64)
    text = [f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}" for v in sample.tolist()]
    codes = iptocc.country_code(text)
    by: dict[str, list[str]] = {}
    for ip, code in zip(text, codes, strict=True):
        if code:
            by.setdefault(code, []).append(ip)
    keep = sorted(by, key=lambda c: -len(by[c]))[:countries]
    if "FJ" not in keep:
        keep[-1] = "FJ"
        by["FJ"] = [f"202.62.{a}.{b}" for a in range(112, 128) for b in range(1, 255)]
    share = ips // len(keep)
    return {c: sorted(set(by[c]))[:share] or by[c][:share] for c in keep}


def generate(store: Store, ips: int, items: int, countries: int, seed: int) -> dict[str, int]:
    """Write the dataset; returns its counts."""
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    located = addresses(countries, ips, rng)
    codes = sorted(located)
    asp = codes[:19] if "FJ" in codes[:19] else [*codes[:18], "FJ"]
    org: dict[str, int] = {}
    for c in codes:
        region = "asia-south-pacific" if c in asp else pyrng.choice(REGIONS)
        org[c] = store.add_org(make_organisation(f"{c} national cyber unit",
                                                 "national-cyber-unit", c, region)).id  # fmt: skip
    org["desk"] = store.add_org(make_organisation("ASP desk", "regional-desk", "SG",
                                                  "asia-south-pacific")).id  # fmt: skip
    org["hub"] = store.add_org(make_organisation("Global hub", "hub", None, None)).id
    for n in range(20):
        org[f"p{n}"] = store.add_org(make_organisation(f"Partner {n}", "private-partner",
                                                       None, None)).id  # fmt: skip
    sources = list(org.values())
    # partners' feeds make most statements, the desk and hub some, each national unit a few
    weights = [0.1 / len(codes)] * len(codes) + [0.05, 0.05] + [0.8 / 20] * 20
    now = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    subs: dict[int, int] = {}
    with store.engine.begin() as conn:
        for oid in sources:
            raw = f"bench {oid}".encode()
            digest = hashlib.sha256(raw).hexdigest()
            conn.execute(insert(blobs).values(sha256=digest, size=len(raw), data=raw))
            subs[oid] = conn.execute(insert(submissions).values(
                source_org_id=oid, sha256=digest, size=len(raw), format="bench",
                status="ingested", defaults="{}", received_at=now, completed_at=now,
            )).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    obs: list[dict[str, Any]] = []
    ip_values = [(c, ip) for c in codes for ip in located[c]]
    for _, ip in ip_values:
        obs.append({"id": len(obs) + 1, "type": "ipv4", "value": ip, "registered_domain": None})
    n_ips = len(obs)
    domains: list[str] = []
    resolves: list[tuple[str, str]] = []
    while len(obs) < n_ips + items:
        k = len(obs)
        c = codes[k % len(codes)]
        if k % 3 == 0:  # a ccTLD domain
            value = f"shop{k}.{cctld(c)}"
        elif k % 3 == 1:  # a generic domain resolving to an address of some country
            value = f"login{k}.example-{k % 97}.com"
            resolves.append((value, ip_values[int(rng.integers(len(ip_values)))][1]))
        else:  # a URL on a recent domain or on an address
            host = domains[-1] if domains and k % 2 else ip_values[k % len(ip_values)][1]
            obs.append({"id": k + 1, "type": "url", "value": f"http://{host}/p/{k}",
                        "registered_domain": registered_domain(host) if host[0].isalpha()
                        else None})  # fmt: skip
            continue
        domains.append(value)
        obs.append({"id": k + 1, "type": "domain", "value": value,
                    "registered_domain": registered_domain(value)})  # fmt: skip
    span = (PERIOD.end - PERIOD.start).total_seconds()
    a_rows: list[dict[str, Any]] = []
    threats = pyrng.choices(THREATS, WEIGHTS, k=len(obs))
    for o, threat in zip(obs, threats, strict=True):
        for source in {
            pyrng.choices(sources, weights)[0] for _ in range(pyrng.choice((1, 1, 2, 3)))
        }:
            first = PERIOD.start + dt.timedelta(seconds=pyrng.random() * span)
            tlp = pyrng.choices((0, 1, 2, 3, 4), (10, 50, 30, 5, 5))[0]
            to = pyrng.sample(TOKENS, pyrng.choice((0, 1, 1, 2))) if tlp >= 2 else []
            a_rows.append({
                "id": len(a_rows) + 1, "observable_id": o["id"], "source_org_id": source,
                "owner_org_id": source, "threat_type": threat, "first_seen": first,
                "last_seen": first + dt.timedelta(days=pyrng.randint(0, 20)),
                "sightings": pyrng.randint(1, 9), "confidence": 70, "tlp": tlp,
                "pap": pyrng.choices((0, 1, 2, 3), (10, 50, 30, 10))[0],
                "releasable_to": orjson.dumps(sorted(to)).decode(),
                "reliability": pyrng.choice("ABCDF"), "credibility": pyrng.randint(1, 6),
                "purpose": "threat-analysis", "retain_until": None,
                "first_submission_id": subs[source], "last_submission_id": subs[source],
                "location": f"row {o['id']}",
            })  # fmt: skip
    r_rows = [
        {"id": n + 1, "source_ref": f"domain:{d}", "type": "resolves-to", "target_ref": f"ipv4:{ip}",
         "source_org_id": sources[n % len(sources)], "tlp": 1, "pap": 1, "releasable_to": "[]",
         "reliability": "B", "credibility": 2, "purpose": "threat-analysis", "attributes": "{}",
         "count": 1, "first_submission_id": subs[sources[n % len(sources)]],
         "last_submission_id": subs[sources[n % len(sources)]], "location": "row"}
        for n, (d, ip) in enumerate(resolves)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        for table, rows in ((observables, obs), (assertions, a_rows), (relationships, r_rows)):
            for lo in range(0, len(rows), 50000):
                conn.execute(insert(table), rows[lo : lo + 50000])
    return {"countries": len(codes), "ips": n_ips, "other_items": len(obs) - n_ips,
            "assertions": len(a_rows), "relationships": len(r_rows)}  # fmt: skip


def naive_country(store: Store, country: str, as_org: str) -> int:
    """The peer: stream every statement the recipient may see, place each value on its own."""
    grant = grant_for(store.viewer(as_org), dt.date.today())
    tld = "." + cctld(country)
    hits = 0
    for s in store.iter_assertions(ExportFilter(), grant):
        v = s.view
        if (v.last_seen and v.last_seen < PERIOD.start) or (
            v.first_seen and v.first_seen >= PERIOD.end
        ):
            continue
        value = v.observable.value
        if v.observable.type.value == "ipv4":
            hits += iptocc.country_code([value])[0] == country
        elif value.endswith(tld) or tld + "/" in value:
            hits += 1
    return hits


class Span(msgspec.Struct, frozen=True):
    """Wall and CPU seconds of one step (CPU: this process only, robust to others' load)."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:.1f}s wall / {self.cpu:.1f}s CPU"


class Clock:
    """Wall and process time since start, and since the last lap."""

    def __init__(self) -> None:
        self.start = self.last = (time.perf_counter(), time.process_time())

    def lap(self) -> Span:
        now = (time.perf_counter(), time.process_time())
        span = Span(now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return span

    def total(self) -> Span:
        return Span(time.perf_counter() - self.start[0], time.process_time() - self.start[1])


def pages_of(pdf: bytes) -> int:
    """How many pages a PDF has."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ips", type=int, default=30000)
    parser.add_argument("--items", type=int, default=130000)
    parser.add_argument("--countries", type=int, default=95)
    parser.add_argument("--naive-countries", type=int, default=3)
    parser.add_argument("--pdf-countries", type=int, default=1)
    parser.add_argument("--annex-rows", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="marsad-bench-products-"))
    store = Store.open(sqlite_url(folder / "bench.db"), create=True)
    t = Clock()
    counts = generate(store, args.ips, args.items, args.countries, args.seed)
    gen = t.lap()
    graph = load_graph(store, EVERYTHING)
    found = clusters_of(graph)
    n_clusters = cl.save(store, graph, found)
    print(f"dataset: {counts} generated by bulk insert in {gen}; "
          f"{n_clusters} clusters analysed in {t.lap()}")  # fmt: skip

    out = folder / "reports"
    t = Clock()
    locator = build_locator(store)
    loc = t.lap()
    items = files = 0
    sizes: list[tuple[int, str]] = []
    for code in member_countries(store):
        report, annex = activity_report(store, code, PERIOD, locator=locator)
        if report.items:
            files += len(write(report, annex, ["html", "csv", "stix"], out))
            items += len(report.items)
            sizes.append((len(report.items), code))
    every = t.total()
    n = max(len(sizes), 1)
    print(f"activity reports: {len(sizes)} countries, {items:,} items, {files} files "
          f"(HTML+CSV+STIX): {every} total ({loc} locating every address and reading the "
          f"clusters once); per country {every.wall / n:.2f}s wall, {every.cpu / n:.2f}s CPU")  # fmt: skip

    sample = [c for _, c in sorted(sizes)[len(sizes) // 2 : len(sizes) // 2 + args.naive_countries]]
    t = Clock()
    for code in sample:
        naive_country(store, code, f"{code} national cyber unit")
    naive = t.total()
    per = naive.cpu / max(len(sample), 1)
    print(f"naive per-country loop over rows ({', '.join(sample)}): {naive} for {len(sample)}; "
          f"{per:.2f}s CPU per country -> {per / (every.cpu / n):.1f}x Marsad's per-country CPU; "
          f"~{per * n:.0f}s CPU for all {len(sizes)}")  # fmt: skip

    middle = [c for _, c in sorted(sizes)[len(sizes) // 2 :][: args.pdf_countries]]
    for code in middle:
        report, _ = activity_report(store, code, PERIOD, locator=locator)
        t = Clock()
        data = render.pdf(report)
        print(
            f"activity PDF {code}: {len(report.items):,} items, {pages_of(data)} pages: {t.total()}"
        )

    t = Clock()
    a = assessment(store, "asia-south-pacific", PERIOD, locator=locator, annex_rows=args.annex_rows)
    build = t.lap()
    page = render.assessment_html(a)
    html = t.lap()
    pdf = render.pdf_of(page)
    ours = t.total()
    import weasyprint

    t = Clock()
    weasyprint.HTML(string=page).write_pdf()
    peer = t.total()
    print(f"assessment PDF asia-south-pacific: {len(a.assertion_ids):,} statements, "
          f"{pages_of(pdf)} pages: {ours} (build {build}, HTML {html}); WeasyPrint alone on "
          f"the same HTML {peer} -> ours/peer {ours.cpu / peer.cpu:.2f} (CPU)")  # fmt: skip
    print(f"files under {folder}")
    store.close()


if __name__ == "__main__":
    main()
