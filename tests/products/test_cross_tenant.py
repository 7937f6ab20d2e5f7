"""Products are a read path: random markings, every recipient, nothing the policy denies.

A seeded world plants statements about Fijian addresses and ``.fj`` domains, domains
that resolve to those addresses, and reports by Fiji's own units, each with handling drawn
over the whole space the policy cares about (owner and source, TLP, PAP, releasability,
retention, period). For every organisation as recipient, the report must list exactly the
statements an independent reference (the policy's Python `may_see`) allows, and its files
must not name any value only invisible statements are about.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import msgspec
import pytest

from marsad.access.policy import Grant, Mark, grant_for, may_see
from marsad.model.errors import MarsadError
from marsad.model.handling import TLP
from marsad.products import render
from marsad.products.activity_data import build_locator
from marsad.products.assessment_data import assessment
from marsad.products.notice import build_notice
from marsad.products.notice_stix import notice_bundle
from marsad.products.period import parse_period
from marsad.products.service import activity_report, write
from marsad.store.store import Store
from tests.products.world import ORGS, Planter

OCTOBER = parse_period("2026-10")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
TOKENS = [f"org:{o[0]}" for o in ORGS] + [
    "region:asia-south-pacific", "region:europe", "members", "partners", "org:Fiji C",
]  # fmt: skip
THREATS = ("phishing", "c2", "investment-scam", "compromised", "piracy")


class RandomWorld:
    """Planted statements with their marks, and how each value can be placed in Fiji."""

    def __init__(self, store: Store, seed: int) -> None:
        rng = random.Random(seed)
        self.p = p = Planter(store)
        p.add_orgs(ORGS)
        names = [o[0] for o in ORGS]
        self.marks: dict[int, Mark] = {}
        self.value_of: dict[int, str] = {}
        self.in_period: dict[int, bool] = {}
        self.source: dict[int, str] = {}
        self.rels: list[tuple[str, str, Mark]] = []  # domain, ip, mark
        self.direct: set[str] = set()

        def handling() -> dict[str, object]:
            return {
                "tlp": rng.randrange(5), "pap": rng.randrange(4),
                "to": tuple(rng.sample(TOKENS, rng.choice([0, 1, 1, 2]))),
                "retain_until": rng.choice([None, None, TODAY - dt.timedelta(days=3)]),
            }  # fmt: skip

        def plant(typ: str, value: str, source: str) -> None:
            owner = source if rng.random() < 0.7 else rng.choice(names)
            h = handling()
            seen = rng.choice([dt.datetime(2026, 10, 9, tzinfo=dt.UTC)] * 3
                              + [dt.datetime(2026, 7, 1, tzinfo=dt.UTC)])  # fmt: skip
            aid = p.assertion(typ, value, rng.choice(THREATS), source, owner=owner, seen=seen,
                              **h)  # type: ignore[arg-type]  # fmt: skip
            self.marks[aid] = Mark(
                owner_org_id=p.org[owner], source_org_id=p.org[source], tlp=int(h["tlp"]),  # type: ignore[call-overload]
                pap=int(h["pap"]), releasable_to=tuple(h["to"]),  # type: ignore[call-overload,arg-type]
                retain_until=h["retain_until"],  # type: ignore[arg-type]
            )  # fmt: skip
            self.value_of[aid], self.source[aid] = value, source
            self.in_period[aid] = seen.month == 10

        ips = [f"202.62.120.{n}" for n in range(101, 141)]
        for ip in ips:
            self.direct.add(ip)
            for source in rng.sample(names, rng.randint(1, 2)):
                plant("ipv4", ip, source)
        for n in range(30):
            dom = f"v{n:03d}q.com.fj"
            self.direct.add(dom)
            plant("domain", dom, rng.choice(names))
        for n in range(40):
            dom = f"r{n:03d}q.example.com"
            plant("domain", dom, rng.choice(names))
            for ip in rng.sample(ips, rng.choice([0, 1, 2])):
                source = rng.choice(names)
                h = handling()
                p.relationship(f"domain:{dom}", "resolves-to", f"ipv4:{ip}", source,
                               tlp=int(h["tlp"]), to=tuple(h["to"]))  # type: ignore[call-overload,arg-type]  # fmt: skip
                self.rels.append((dom, ip, Mark(
                    owner_org_id=p.org[source], source_org_id=p.org[source], tlp=int(h["tlp"]),  # type: ignore[call-overload]
                    releasable_to=tuple(h["to"]), pap=1)))  # type: ignore[arg-type]  # fmt: skip
        p.commit()

    def expected(self, grant: Grant) -> set[int]:
        """The statements a Fiji report for this grant must list (the reference model)."""
        located = set(self.direct) | {d for d, _, m in self.rels if may_see(grant, m)}
        fiji_units = {"Fiji CCU", "Suva Desk"}
        return {
            a for a, m in self.marks.items()
            if self.in_period[a] and may_see(grant, m)
            and (self.value_of[a] in located or self.source[a] in fiji_units)
        }  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
def test_every_recipient_gets_exactly_what_the_policy_allows(
    store: Store, seed: int, tmp_path: Path
) -> None:
    world = RandomWorld(store, seed)
    locator = build_locator(store)
    sizes = set()
    for name, *_ in ORGS:
        grant = grant_for(store.viewer(name), TODAY)
        report, annex = activity_report(store, "FJ", OCTOBER, as_org=name, locator=locator,
                                        now=NOW)  # fmt: skip
        want = world.expected(grant)
        sizes.add(len(want))
        assert set(report.assertion_ids) == want, name
        files = write(report, annex, ["html", "csv", "stix", "json"], tmp_path / name)
        body = "\n".join(Path(f).read_text(encoding="utf-8") for f in files)
        shown = {world.value_of[a] for a in want}
        # a visible resolution names its address (the "located" column) and nothing more
        shown |= {ip for d, ip, m in world.rels if d in shown and may_see(grant, m)}
        hidden = {v for a, v in world.value_of.items() if v not in shown}
        leaked = sorted(v for v in hidden if v in body)
        assert not leaked, f"{name} sees {leaked}"
        worst = max((world.marks[a].tlp for a in want), default=0)
        assert [t.label for t in TLP].index(report.tlp) >= worst, name
    assert len(sizes) > 2  # the recipients really see different reports


def test_the_assessment_holds_exactly_what_each_reader_may_see(store: Store) -> None:
    world = RandomWorld(store, 3)
    region_units = {"Fiji CCU", "Suva Desk", "Samoa CCU"}  # FJ and WS are in scope
    for name, *_ in ORGS:
        grant = grant_for(store.viewer(name), TODAY)
        result = assessment(store, "asia-south-pacific", OCTOBER, as_org=name, now=NOW)
        want = world.expected(grant) | {
            a for a, m in world.marks.items()
            if world.in_period[a] and may_see(grant, m) and world.source[a] in region_units
        }  # fmt: skip
        assert set(result.assertion_ids) == want, name
        body = render.assessment_html(result) + msgspec.json.encode(result).decode()
        listed = {i.value for items in result.annex.values() for i in items}
        assert listed <= {world.value_of[a] for a in want}, name
        shown = {world.value_of[a] for a in want}
        shown |= {ip for d, ip, m in world.rels if d in shown and may_see(grant, m)}
        leaked = sorted(v for v in set(world.value_of.values()) - shown if v in body)
        assert not leaked, f"{name} sees {leaked}"


def test_notices_hold_only_what_each_issuer_may_see(store: Store) -> None:
    world = RandomWorld(store, 4)
    cluster = world.p.cluster(sorted(world.p.obs))  # as if the analysis joined everything
    world.p.rows = {"clusters": world.p.rows["clusters"],
                    "cluster_members": world.p.rows["cluster_members"]}  # fmt: skip
    world.p.commit()
    issued = 0
    for name, *_ in ORGS:
        grant = grant_for(store.viewer(name), TODAY)
        try:
            n, views, rels = build_notice(store, cluster, name, now=NOW)
        except MarsadError:
            assert not any(may_see(grant, m) for m in world.marks.values()), name
            continue
        issued += 1
        assert all(may_see(grant, world.marks[a]) for a in n.assertion_ids), name
        visible_links = {(f"domain:{d}", f"ipv4:{ip}") for d, ip, m in world.rels
                         if may_see(grant, m)}  # fmt: skip
        assert {(link.source, link.target) for link in n.infrastructure} <= visible_links, name
        bundle = notice_bundle(n, views, rels).decode() + render.notice_html(n)
        shown = {world.value_of[a] for a in n.assertion_ids}
        shown |= {v.split(":", 1)[1] for link in n.infrastructure
                  for v in (link.source, link.target)}  # fmt: skip
        leaked = sorted(v for v in set(world.value_of.values()) - shown if v in bundle)
        assert not leaked, f"{name} sees {leaked}"
    assert issued >= 3
