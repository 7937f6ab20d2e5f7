"""Alert evaluation: one large submission against 100 organisations' watchlists.

Builds a SQLite instance with 100 national units (one per country that random public IPv4
addresses fall in most, by iptocc) and a partner, ingests one list of N values (IPv4
addresses, domains under the units' ccTLDs and generic TLDs, URLs) through the real
pipeline, then spreads markings over the assertions (TLP CLEAR…RED, releasability to all
members, a region, one unit, or the coordinators) and threat types. Each unit watches its
country, its ccTLD, two ASNs (from a synthetic AS table: one AS per /16), a /16, a domain,
a keyword and, one in ten, a threat type.

Prints the time of `evaluate_submission` (enrichment, column-wise matching, the policy in
SQL per organisation, writing alerts and evidence), alerts/s and assertions x organisations
per second; then the peer, measured in the same run on the first `--peer-rows` assertions:
a per-row Python loop (`may_see` on each row, then each entry tested on each row, with the
enrichment columns handed over ready-made), and the ratio of the two throughputs.

    .venv/bin/python bench/alerts.py [--rows 100000] [--orgs 100] [--peer-rows 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
from sqlalchemy import func, select, text

from marsad.access.policy import Mark, grant_for, may_see
from marsad.enrich.asn import Range, build_table
from marsad.enrich.geo import country_codes
from marsad.ingest.pipeline import ingest
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.products import alert_store, alerting
from marsad.products.alerting import load_batch
from marsad.store.engine import sqlite_url
from marsad.store.schema import alert_evidence, assertions
from marsad.store.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the peer lives beside the tests
from tests.alerts.naive import row_matches  # the same reference the tests use

WORDS = ("bank", "pay", "login", "secure", "mail", "shop", "crypto", "wallet", "gov", "news")
THREATS = ("phishing", "c2", "malware-distribution", "investment-scam", "piracy", "scanning")


def random_ip(rng: random.Random) -> str:
    while True:
        first = rng.randint(1, 223)
        if first not in (10, 100, 127, 169, 172, 192, 198, 203):
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def countries(rng: random.Random, n: int) -> list[str]:
    """The n countries random public addresses fall in most."""
    sample = [random_ip(rng) for _ in range(50_000)]
    counts = Counter(c for c in country_codes(sample) if c and len(c) == 2 and c != "EU")
    return [c for c, _ in counts.most_common(n)]


def values(rng: random.Random, rows: int, tlds: list[str]) -> list[str]:
    out = []
    for i in range(rows):
        kind = i % 3
        word = rng.choice(WORDS)
        host = f"{word}{i}.{rng.choice(tlds)}"
        if kind == 0:
            out.append(random_ip(rng))
        elif kind == 1:
            out.append(host)
        else:
            out.append(f"http://{host}/{rng.choice(WORDS)}/{i}")
    return out


def setup(folder: Path, rows: int, n_orgs: int, seed: int) -> tuple[Store, int, list[str]]:
    rng = random.Random(seed)
    store = Store.open(sqlite_url(folder / "marsad.db"), create=True)
    codes = countries(rng, n_orgs)
    store.add_org(make_organisation("Feed Partner", "private-partner", "AU", None))
    store.add_org(make_organisation("ASP Desk", "regional-desk", "SG", "asia-south-pacific"))
    names = []
    for i, cc in enumerate(codes):
        name = f"Unit {i:02d} {cc}"
        region = "asia-south-pacific" if i % 3 == 0 else "europe"
        store.add_org(make_organisation(name, "national-cyber-unit", cc, region))
        names.append(name)
    tlds = [c.lower() for c in codes] + ["com", "org", "net"] * 10
    listed = values(rng, rows, tlds)
    report = ingest(store, ("\n".join(listed) + "\n").encode(), source="Feed Partner",
                    threat_type=ThreatType.PHISHING, analyse=False)  # fmt: skip
    assert report.status == "ingested", report
    tokens = ['[]', '["members"]', '["region:asia-south-pacific"]', '["region:europe"]',
              *(orjson.dumps([f"org:{n}"]).decode() for n in names[:5])]  # fmt: skip
    with store.engine.begin() as conn:
        ids = list(conn.execute(select(assertions.c.id)).scalars())
        conn.execute(
            text("UPDATE assertions SET tlp = :tlp, releasable_to = :rel, threat_type = :t "
                 "WHERE id = :id"),
            [{"id": i, "tlp": rng.choice([0, 1, 1, 2, 2, 3, 4]), "rel": rng.choice(tokens),
              "t": rng.choice(THREATS)} for i in ids],
        )  # fmt: skip
    for i, (name, cc) in enumerate(zip(names, codes, strict=True)):
        for kind, value in (
            ("country", cc), ("cctld", cc.lower()), ("asn", str(64512 + i)),
            ("asn", str(64512 + 500 + (i * 7) % 500)), ("cidr", f"{rng.randint(11, 99)}.{i}.0.0/16"),
            ("domain", f"{WORDS[i % 10]}{rng.randrange(rows)}.com"), ("keyword", f"{WORDS[i % 10]}1"),
        ):  # fmt: skip
            alert_store.add_entry(store, name, kind, value)
        if i % 10 == 0:
            alert_store.add_entry(store, name, "threat-type", rng.choice(THREATS))
    return store, report.submission_id, names


def asn_table() -> object:
    rows = [Range(4, block << 16, (block << 16) | 0xFFFF, 64512 + block % 1000, f"AS{block}", "", "b")
            for block in range(1, 224 << 8)]  # fmt: skip
    table, bad = build_table(rows)
    assert not bad
    return table


def peer(
    store: Store, submission_id: int, table: object, names: list[str], rows: int
) -> tuple[float, int]:
    """The per-row loop on the first ``rows`` assertions: (seconds, matches)."""
    with store.engine.connect() as conn:
        ids, _, b = load_batch(conn, submission_id, table)  # type: ignore[arg-type]
        marks = {r.id: Mark(owner_org_id=r.owner_org_id, source_org_id=r.source_org_id, tlp=r.tlp,
                            pap=r.pap, releasable_to=tuple(orjson.loads(r.releasable_to)),
                            retain_until=r.retain_until)
                 for r in conn.execute(select(assertions).where(assertions.c.id.in_(ids[:rows].tolist())))}  # fmt: skip
    data = list(zip(ids[:rows].tolist(), b.types[:rows].tolist(), b.values[:rows].tolist(),
                    b.registered[:rows].tolist(), b.threat[:rows].tolist(),
                    b.country[:rows].tolist(), b.asn[:rows].tolist(), strict=True))  # fmt: skip
    watch = {n: [(e.kind, e.value) for e in alert_store.list_entries(store, n)] for n in names}
    grants = {n: grant_for(store.viewer(n), dt.date.today()) for n in names}
    started = time.perf_counter()
    found = 0
    for name in names:
        grant, entries = grants[name], watch[name]
        for aid, kind, value, registered, threat, country, asn in data:
            if not may_see(grant, marks[aid]):
                continue
            if any(row_matches(kind, value, registered, threat, country, asn, e) for e in entries):
                found += 1
    return time.perf_counter() - started, found


def agreeing(store: Store, submission_id: int, rows: int) -> int:
    """Our evidence rows on the peer's assertions (one assertion per observable here)."""
    with store.engine.connect() as conn:
        ids, _, _ = load_batch(conn, submission_id, None)
        return int(conn.execute(
            select(func.count()).select_from(alert_evidence)
            .where(alert_evidence.c.assertion_id.in_(ids[:rows].tolist()))
        ).scalar_one())  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--peer-rows", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, sub, names = setup(Path(tmp), args.rows, args.orgs, args.seed)
        table = asn_table()
        print(f"setup: {args.rows:,} assertions, {len(names)} organisations, "
              f"{len(alert_store.list_entries(store)):,} watchlist entries "
              f"({time.perf_counter() - t0:.1f}s)")  # fmt: skip
        context = alerting.Context(asn=table, deliver=False)  # type: ignore[arg-type]
        first = alerting.evaluate_submission(store, sub, context)
        again = alerting.evaluate_submission(store, sub, context)
        pairs = args.rows * len(names)
        print(f"evaluate: {first.seconds:.2f}s, {first.raised:,} alerts raised for "
              f"{first.organisations} organisations = {first.raised / first.seconds:,.0f} alerts/s, "
              f"{pairs / first.seconds:,.0f} assertion x organisation pairs/s")  # fmt: skip
        print(f"  steps: {first.phases}")
        compute = sum(first.phases[k] for k in ("read", "match", "policy"))
        print(f"re-evaluate (deduplicated, {again.raised} new): {again.seconds:.2f}s")
        seconds, matched = peer(store, sub, table, names, args.peer_rows)
        peer_pairs = args.peer_rows * len(names)
        print(f"peer (per-row loop, first {args.peer_rows:,} assertions): {seconds:.2f}s, "
              f"{matched:,} matches = {peer_pairs / seconds:,.0f} pairs/s")  # fmt: skip
        print(f"ratio (pairs/s), end to end: {(pairs / first.seconds) / (peer_pairs / seconds):.1f}x; "
              f"read + match + policy only (what the peer does): "
              f"{(pairs / compute) / (peer_pairs / seconds):.1f}x")  # fmt: skip
        ours = agreeing(store, sub, args.peer_rows)
        print(f"check: {ours:,} of our alerts on those assertions, peer {matched:,}: "
              f"{'agree' if ours == matched else 'DISAGREE'}")  # fmt: skip
        store.close()


if __name__ == "__main__":
    main()
