"""The products' reads on the kept columns find exactly what the per-country SQL reads found.

Generated worlds: addresses registered to Fiji and Samoa, ``.fj`` and ``.ws`` domains, other
domains resolving to the addresses (several each, under their own markings), URLs hosted on
them, stored clusters over some of them, and assertions under random markings (owner vs
source, TLP, releasability to organisations, regions, members and partners; retention
around today; revocation; benign), sightings inside, before and after the period, some with
no known time. For each recipient (each organisation, two of them judged on a later day)
and each country, `findings` on the columns must equal the row-by-row oracle
(`tests.products.rowwise`) item for item and in order on SQLite; on PostgreSQL, whose
planner gave the old reads in no defined order, as sets (the domain a resolution names may
then differ: any visible one). A record a recipient may not see never reaches its findings.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import msgspec
import pytest
from sqlalchemy import update

from marsad.access.policy import grant_for, may_see
from marsad.products.activity_data import build_locator, findings
from marsad.products.networks import networks, read_graph
from marsad.products.period import parse_period
from marsad.store import kept
from marsad.store.schema import assertions
from marsad.store.store import Store
from tests.products import rowwise
from tests.products.world import ORGS, Planter

TODAY = dt.date(2026, 11, 1)
FJ = [f"202.62.120.{i}" for i in range(1, 25)] + [f"144.120.78.{i}" for i in range(1, 9)]
WS = [f"202.4.33.{i}" for i in range(1, 13)]
TOKENS = ["org:Fiji CCU", "org:Suva Desk", "org:Samoa CCU", "org:ASP Desk", "org:PhishGuard",
          "org:France OFAC", "region:asia-south-pacific", "region:europe", "members",
          "partners"]  # fmt: skip
THREATS = ["phishing", "c2", "malware", "investment-scam", "compromised", "benign", "spam"]


def _plant(store: Store, seed: int) -> Planter:
    rng = random.Random(seed)
    p = Planter(store)
    p.add_orgs(ORGS)
    names = [o[0] for o in ORGS]
    domains = [f"d{k}.example.com" for k in range(20)] + [f"shop{k}.com.fj" for k in range(6)]
    domains += [f"bank{k}.ws" for k in range(4)]
    values = [("ipv4", v) for v in FJ + WS] + [("domain", d) for d in domains]
    values += [("url", f"http://{rng.choice(FJ + domains)}/p{k}") for k in range(15)]
    values += [("ipv4", f"198.51.100.{k}") for k in range(1, 10)]  # located nowhere known

    def handling() -> dict[str, Any]:
        retain = rng.choice([None, None, None, -5, 3, 20])
        return {"tlp": rng.randrange(5), "pap": rng.randrange(4),
                "to": tuple(rng.sample(TOKENS, rng.choice([0, 1, 1, 2]))),
                "retain_until": None if retain is None else TODAY + dt.timedelta(days=retain)}  # fmt: skip

    for typ, value in values:
        for source in rng.sample(names, rng.randint(1, 3)):
            h = handling()
            seen = dt.datetime(2026, 9, 20, tzinfo=dt.UTC) + dt.timedelta(
                days=rng.randrange(50), seconds=rng.randrange(86400)
            )
            p.assertion(typ, value, rng.choice(THREATS), source, tlp=h["tlp"], pap=h["pap"],
                        to=h["to"], owner=rng.choice([None, None, rng.choice(names)]),
                        seen=seen, grading=rng.choice(["A1", "B2", "C3", "F6"]),
                        revoked=rng.random() < 0.08, retain_until=h["retain_until"])  # fmt: skip
    planted: set[tuple[str, str, str, str]] = set()
    for k in range(82):
        kind = "resolves-to" if k < 70 else rng.choice(["uses-name-server", "communicates-with"])
        edge = (f"domain:{rng.choice(domains)}", kind, f"ipv4:{rng.choice(FJ + WS)}",
                rng.choice(names))  # fmt: skip
        if edge not in planted:
            planted.add(edge)
            h = handling()
            p.relationship(edge[0], edge[1], edge[2], edge[3], tlp=h["tlp"], to=h["to"])
    refs = sorted(p.obs)
    rng.shuffle(refs)
    for start in range(0, 40, 8):
        p.cluster(refs[start : start + 8])
    p.commit()
    with store.engine.begin() as conn:  # some sightings with no known time
        for aid in rng.sample(range(1, p.next_id["assertions"] + 1), 12):
            column = rng.choice(["first_seen", "last_seen"])
            conn.execute(update(assertions).where(assertions.c.id == aid).values({column: None}))
    return p


def _key(found: Any, sqlite: bool) -> tuple[Any, ...]:
    how = found.located_by
    if not sqlite and how.startswith("resolves to "):
        how = "resolves to"
    return (found.stored.id, found.observable_id, how, found.cluster_id, found.located_tlp,
            found.reported_in_country, msgspec.json.encode(found.stored), found.mark)  # fmt: skip


@pytest.mark.parametrize("seed", [1, 8, 2026])
def test_findings_on_columns_are_the_per_country_reads(store: Store, seed: int) -> None:
    p = _plant(store, seed)
    kept.forget_all()
    loc = build_locator(store)  # its cluster graph made on the columns
    by_rows = msgspec.structs.replace(loc, clusters=read_graph(store))  # the oracle's
    period = parse_period("2026-10")
    sqlite = store.dialect.sqlite
    viewers = [(store.viewer(name), TODAY) for name, *_ in ORGS]
    viewers += [(store.viewer("Fiji CCU"), TODAY + dt.timedelta(days=4)),
                (store.viewer("ASP Desk"), TODAY + dt.timedelta(days=30))]  # fmt: skip
    compared = 0
    for viewer, day in viewers:
        grant = grant_for(viewer, day)
        assert loc.clusters is not None and by_rows.clusters is not None
        labels = networks(loc.clusters, grant, [], every_member=True)
        assert labels == networks(by_rows.clusters, grant, [], every_member=True)
        for country in ("FJ", "WS", "FR"):
            old = rowwise.findings(store, by_rows, grant, country, period)
            new = findings(store, loc, grant, country, period)
            if sqlite:
                assert [_key(f, True) for f in old] == [_key(f, True) for f in new], viewer.label
            else:
                assert sorted(_key(f, False) for f in old) == sorted(_key(f, False) for f in new)
            assert all(may_see(grant, f.mark) for f in new)
            compared += len(new)
    assert compared > 50 and labels  # the world gives them something to compare
    assert p.next_id["relationships"] >= 60


def test_a_tightened_record_leaves_the_next_findings(store: Store) -> None:
    _plant(store, 4)
    kept.forget_all()
    loc = build_locator(store)
    period = parse_period("2026-10")
    grant = grant_for(store.viewer("Samoa CCU"), TODAY)
    before = findings(store, loc, grant, "FJ", period)
    mine = store.viewer("Samoa CCU").org_id
    shown = next(f for f in before if mine not in (f.mark.owner_org_id, f.mark.source_org_id))
    with store.engine.begin() as conn:
        conn.execute(update(assertions).where(assertions.c.id == shown.stored.id)
                     .values(tlp=4, releasable_to='["org:France OFAC"]'))  # fmt: skip
    after = findings(store, loc, grant, "FJ", period)
    assert shown.stored.id not in {f.stored.id for f in after}
    assert {f.stored.id for f in after} == {
        f.stored.id for f in rowwise.findings(store, loc, grant, "FJ", period)
    }
