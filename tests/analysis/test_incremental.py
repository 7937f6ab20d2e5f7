"""Incremental analysis gives exactly what a full run gives (memberships and cluster ids),
touches only what changed, is cheap when nothing did, and runs after ingest without ever
making an ingest fail."""

from __future__ import annotations

import datetime as dt
import logging
import random
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from marsad.analysis import clusters as cl
from marsad.analysis import incremental
from marsad.analysis.graph import HubRule, Previous, cluster
from marsad.analysis.incremental import analyse
from marsad.analysis.infrastructure import score_against
from marsad.demo.load import received_at
from marsad.demo.world import DemoWorld, build_world
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ANALYSE_SETTING, ingest
from marsad.model.handling import TLP, Handling
from marsad.model.organisation import Organisation
from marsad.store import analysis_state as st
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

GREEN = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN))
SMALL = HubRule(min_degree=3, min_communities=2, min_participation=0.3, large_component=6)

# -- the pure step: relabelling the touched components only ---------------------------------


def _planted(rng: random.Random, groups: int, size: int) -> list[tuple[int, int]]:
    """Dense groups, a few nodes bridging several groups, some noise."""
    edges = []
    for g in range(groups):
        members = list(range(g * size, (g + 1) * size))
        edges += [(a, rng.choice(members)) for a in members for _ in range(2)]
    n = groups * size
    for bridge in range(n, n + 3):
        edges += [(bridge, rng.randrange(n)) for _ in range(rng.randrange(3, 9))]
    return edges


@settings(max_examples=60, deadline=None)
@given(seed=hs.integers(0, 10**6), extra=hs.integers(0, 12), flags=hs.integers(0, 3))
def test_relabelling_the_touched_components_only_gives_the_full_result(
    seed: int, extra: int, flags: int
) -> None:
    rng = random.Random(seed)
    groups, size = rng.randrange(3, 7), rng.randrange(4, 9)
    base = _planted(rng, groups, size)
    n1 = groups * size + 3
    n2 = n1 + rng.randrange(0, 4)  # values that arrive with the new edges
    added = [(rng.randrange(n2), rng.randrange(n2)) for _ in range(extra)]
    flagged1 = np.zeros(n1, dtype=bool)
    flagged2 = np.zeros(n2, dtype=bool)
    for node in rng.sample(range(n2), flags):
        flagged2[node] = True

    def arrays(edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pairs = np.array(edges, dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1], np.ones(len(pairs))

    before = cluster(n1, *arrays(base), flagged1, SMALL)
    full = cluster(n2, *arrays(base + added), flagged2, SMALL)
    changed = np.zeros(n2, dtype=bool)
    changed[n1:] = True
    changed[[x for e in added for x in e]] = True
    changed[:n1] |= flagged2[:n1] != flagged1
    pad = n2 - n1
    previous = Previous(
        labels=np.r_[before.labels, np.full(pad, -1)],
        hubs=np.r_[before.hubs, np.zeros(pad, dtype=bool)],
        changed=changed,
        spread=None if added or pad else before.spread,
    )
    step = cluster(n2, *arrays(base + added), flagged2, SMALL, previous)
    assert step.labels.tolist() == full.labels.tolist()
    assert step.hubs.tolist() == full.hubs.tolist()
    assert 0 <= step.touched <= full.components + n2


def test_untouched_components_are_not_relabelled() -> None:
    # two separate triangles; a new edge touches only the second
    src, dst = np.array([0, 1, 2, 3, 4, 5]), np.array([1, 2, 0, 4, 5, 3])
    first = cluster(6, src, dst, np.ones(6))
    stale = first.labels.copy()
    stale[:3] = 99  # a label only a run that relabels the first triangle would correct
    changed = np.zeros(7, dtype=bool)
    changed[[5, 6]] = True
    step = cluster(7, np.r_[src, 5], np.r_[dst, 6], np.ones(7), None, None,
                   Previous(labels=np.r_[stale, -1], hubs=np.r_[first.hubs, False],
                            changed=changed))  # fmt: skip
    assert step.touched == 1
    assert step.labels.tolist() == [99, 99, 99, 3, 3, 3, 3]


# -- on a store: watermarks, the after-ingest hook ----------------------------------------------


def _bundle(n: int, rels: list[tuple[str, str, str]], urls: list[str] = ()) -> bytes:  # type: ignore[assignment]
    """A STIX bundle of domain-name SCOs, URLs and relationships between the domains."""
    uid = "00000000-0000-4000-8000-{:012d}".format
    objects, ids = [], {}
    for a, b, _ in rels:
        for value in (a, b):
            if value not in ids:
                ids[value] = f"domain-name--{uid(n * 1000 + len(ids))}"
                objects.append({"type": "domain-name", "spec_version": "2.1",
                                "id": ids[value], "value": value})  # fmt: skip
    for k, (a, b, kind) in enumerate(rels):
        objects.append({"type": "relationship", "spec_version": "2.1",
                        "id": f"relationship--{uid(n * 1000 + 500 + k)}",
                        "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
                        "relationship_type": kind, "source_ref": ids[a], "target_ref": ids[b]})  # fmt: skip
    for k, url in enumerate(urls):
        objects.append({"type": "url", "spec_version": "2.1",
                        "id": f"url--{uid(n * 1000 + 800 + k)}", "value": url})  # fmt: skip
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uid(n)}", "objects": objects})


def _operations(rng: random.Random, n: int) -> list[bytes]:
    """Submissions of small operations (domains sharing a name server and an address) that
    grow, merge through new edges, hang off shared hubs, and name URLs whose host arrives
    before or after them."""
    out = []
    ops = [f"op{k}" for k in range(6)]
    for sub in range(n):
        rels = []
        for _ in range(rng.randrange(2, 7)):
            op = rng.choice(ops)
            d = f"shop{rng.randrange(40)}.{op}.example"
            rels.append((d, f"ns1.{op}.example", "uses-name-server"))
            if rng.random() < 0.5:
                rels.append((d, f"pay.{op}.example", "resolves-to"))
            if rng.random() < 0.3:  # the shared parking name server: becomes a hub
                rels.append((d, "ns.parking-hub.example", "uses-name-server"))
            if rng.random() < 0.1:  # one operation's domain points at another's
                rels.append((d, f"ns1.{rng.choice(ops)}.example", "uses-name-server"))
        urls = [f"http://shop{rng.randrange(40)}.{rng.choice(ops)}.example/login{sub}"
                for _ in range(rng.randrange(0, 3))]  # fmt: skip
        out.append(_bundle(sub + 1, rels, urls))
    return out


def _clusters(store: Store) -> dict[int, list[str]]:
    return cl.stored(store)


def test_incremental_after_each_ingest_equals_a_full_run(orgs: Store) -> None:
    rng = random.Random(2026)
    for k, raw in enumerate(_operations(rng, 14)):
        report = ingest(orgs, raw, source="PhishGuard", defaults=GREEN)
        assert report.status == "ingested" and report.analysis_error is None, report
        assert report.analysis and report.analysis.startswith(
            "analysis full" if k == 0 else "analysis incremental"
        ), report.analysis
    state = st.read_state(orgs)
    assert state is not None and state.mode == "incremental"
    grown = _clusters(orgs)
    assert len(grown) >= 2 and "domain:ns.parking-hub.example" not in {
        r for m in grown.values() for r in m
    }
    again = analyse(orgs, full=True)
    assert (again.mode, again.created, again.changed, again.removed) == ("full", 0, 0, 0)
    assert _clusters(orgs) == grown  # same members under the same ids
    assert "domain:ns.parking-hub.example" in again.hubs_pruned


def test_nothing_new_is_cheap_and_changes_nothing(orgs: Store) -> None:
    rng = random.Random(7)
    for raw in _operations(rng, 3):
        ingest(orgs, raw, source="PhishGuard", defaults=GREEN, analyse=False)
    first = analyse(orgs)
    assert first.mode == "full" and first.reason == "no earlier analysis" and first.clusters
    run_before = st.read_state(orgs)
    idle = analyse(orgs)
    assert idle.mode == "unchanged" and idle.clusters == first.clusters
    assert st.read_state(orgs).run == run_before.run  # type: ignore[union-attr]


def test_a_new_edge_changes_only_the_clusters_it_reaches(orgs: Store) -> None:
    rels = [(f"d{k}.alpha.example", "ns1.alpha.example", "uses-name-server") for k in range(4)]
    rels += [(f"d{k}.beta.example", "ns1.beta.example", "uses-name-server") for k in range(4)]
    ingest(orgs, _bundle(1, rels), source="PhishGuard", defaults=GREEN, analyse=False)
    analyse(orgs)
    before = _clusters(orgs)
    assert len(before) == 2
    (alpha,) = [k for k, m in before.items() if "domain:ns1.alpha.example" in m]
    (beta,) = [k for k, m in before.items() if "domain:ns1.beta.example" in m]
    grow = _bundle(2, [("d9.alpha.example", "ns1.alpha.example", "uses-name-server")])
    report = ingest(orgs, grow, source="Fiji CCU", defaults=GREEN)
    assert report.analysis is not None and "1 changed" in report.analysis
    after = _clusters(orgs)
    assert after[beta] == before[beta]  # untouched: same id, same members
    assert set(after[alpha]) == set(before[alpha]) | {"domain:d9.alpha.example"}
    join = _bundle(3, [("d1.alpha.example", "d1.beta.example", "redirects-to")])
    run = incremental.analyse(orgs) if ingest(orgs, join, source="PhishGuard", defaults=GREEN,
                                              analyse=False).status == "ingested" else None  # fmt: skip
    assert run is not None and run.mode == "incremental"
    assert (run.created, run.changed, run.removed) == (0, 1, 1)  # the younger one joined
    assert list(_clusters(orgs)) == [min(alpha, beta)]


def test_a_url_and_its_host_link_whichever_arrives_first(orgs: Store) -> None:
    rels = [(f"d{k}.gamma.example", "ns1.gamma.example", "uses-name-server") for k in range(3)]
    ingest(orgs, _bundle(1, rels, ["http://late-host.gamma.example/a"]), source="PhishGuard",
           defaults=GREEN)  # fmt: skip
    assert not any("url:http://late-host.gamma.example/a" in m for m in _clusters(orgs).values())
    host = [("late-host.gamma.example", "ns1.gamma.example", "uses-name-server")]
    ingest(orgs, _bundle(2, host, ["http://d0.gamma.example/b"]), source="PhishGuard",
           defaults=GREEN)  # fmt: skip
    (members,) = _clusters(orgs).values()
    assert {"url:http://late-host.gamma.example/a", "url:http://d0.gamma.example/b"} <= set(members)
    assert analyse(orgs, full=True).changed == 0


def test_saving_clusters_another_way_or_purging_makes_the_next_run_full(orgs: Store) -> None:
    from marsad.access.policy import EVERYTHING
    from marsad.analysis.infrastructure import clusters_of, load_graph

    ingest(orgs, _bundle(1, [("a.delta.example", "ns.delta.example", "uses-name-server")]),
           source="PhishGuard", defaults=GREEN)  # fmt: skip
    assert st.read_state(orgs) is not None
    graph = load_graph(orgs, EVERYTHING)
    cl.save(orgs, graph, clusters_of(graph))
    assert st.read_state(orgs) is None
    assert analyse(orgs).reason == "no earlier analysis"


def test_a_failing_analysis_never_fails_the_ingest(
    orgs: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(store: Store, **_: object) -> incremental.Run:
        raise RuntimeError("graph on fire")

    monkeypatch.setattr(incremental, "analyse", broken)
    raw = _bundle(1, [("a.eps.example", "ns.eps.example", "uses-name-server")])
    with caplog.at_level(logging.ERROR, logger="marsad.analysis.incremental"):
        report = ingest(orgs, raw, source="PhishGuard", defaults=GREEN)
    assert report.status == "ingested" and report.accepted == 2
    assert report.analysis is None
    assert report.analysis_error is not None and "graph on fire" in report.analysis_error
    assert "marsad analyse" in report.analysis_error
    assert "analysis after ingest failed" in caplog.text
    assert orgs.submission(report.submission_id).status == "ingested"  # committed
    monkeypatch.undo()
    assert analyse(orgs).clusters == 1  # the next run catches up


def test_the_setting_turns_the_hook_off(orgs: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ANALYSE_SETTING, "0")
    raw = _bundle(1, [("a.zeta.example", "ns.zeta.example", "uses-name-server")])
    report = ingest(orgs, raw, source="PhishGuard", defaults=GREEN)
    assert report.status == "ingested" and report.analysis is None
    assert st.read_state(orgs) is None and _clusters(orgs) == {}
    again = ingest(orgs, _bundle(2, [("b.zeta.example", "ns.zeta.example", "uses-name-server")]),
                   source="PhishGuard", defaults=GREEN, analyse=True)  # fmt: skip
    assert again.analysis is not None and len(_clusters(orgs)) == 1


# -- the demo world: ingest A, analyse, ingest B with the hook == ingest A+B, analyse fully ----


def test_the_demo_world_incrementally_equals_fully(tmp_path: Path) -> None:
    """Ingest half the world and analyse; ingest the rest with the hook on, one
    incremental run per submission. Another store ingests it all, then one full run: the
    same clusters under the same ids, and still the planted networks."""
    world = build_world(2026, 0.1)
    half = len(world.submissions) // 2
    stepwise, at_once = (_with_organisations(tmp_path / f"{n}.db", world) for n in "ab")
    when: dt.datetime | None = None
    for k, sub in enumerate(world.submissions):
        when = received_at(sub.filename) or when
        for store in (stepwise, at_once):
            hook = store is stepwise and k >= half
            report = ingest(store, sub.raw, source=sub.source, fmt=sub.format,
                            filename=sub.filename, defaults=SubmissionDefaults(handling=sub.handling),
                            threat_type=sub.threat_type, now=when, analyse=hook)  # fmt: skip
            assert report.analysis_error is None
            if hook and report.status == "ingested":
                assert report.analysis and "incremental" in report.analysis, report.analysis
        if k == half - 1:
            assert analyse(stepwise).mode == "full"
    assert analyse(at_once).mode == "full"
    assert _clusters(stepwise) == _clusters(at_once)
    precision, recall = score_against(_clusters(stepwise), [n.members for n in world.networks])
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)


def _with_organisations(path: Path, world: DemoWorld) -> Store:
    store = Store.open(sqlite_url(path), create=True)
    for spec in world.organisations:
        store.add_org(Organisation(name=spec.name, kind=spec.kind, country=spec.country,
                                   region=spec.region))  # fmt: skip
    return store
