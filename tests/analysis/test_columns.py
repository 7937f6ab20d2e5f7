"""The kept columns and a grant's mask give exactly what the row-by-row SQL reads gave.

Generated stores (`marked_world`: owners vs sources, TLP, releasability to organisations,
regions, members and partners, retention around today, look-alike names) gain relationships
under their own random markings, URLs linked to stored hosts, sightings, gradings, threat
types and last sightings (some unknown). For every viewer (each organisation, the public, the
operator; and a grant judged on a later day, so retention cuts differently on the same kept
columns) the viewer's graph, its clusters and the priority scores made from the columns
must equal those made by the SQL predicate, on both engines; a TLP:RED record never enters
another organisation's scores, graph or clusters, and a tightened marking is in the very
next columnar answer.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import orjson
import pytest
from sqlalchemy import insert, select, update

from marsad.access.policy import OPERATOR, grant_for, may_see
from marsad.analysis.columns import busy_observables, kept_columns, masks, read_columns
from marsad.analysis.correlation import CorrelationRule
from marsad.analysis.infrastructure import (
    clusters_of,
    graph_of,
    load_graph,
    members,
    stored_values,
)
from marsad.analysis.priorities import observable_scores
from marsad.store import kept
from marsad.store.correlation_reads import over_correlated_nodes
from marsad.store.schema import assertions, observables, relationships
from marsad.store.store import Store
from tests.analysis import rowwise
from tests.analysis.marked_world import TODAY, TOKENS, World, build

NOW = dt.datetime(2026, 11, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
KINDS = ["resolves-to", "uses-name-server", "registered-by", "communicates-with", "x-custom"]


def _enrich(store: Store, world: World, seed: int) -> None:
    """URLs on stored hosts, relationships under random markings, varied grading and times."""
    rng = random.Random(seed)
    ids = list(world.org_ids.values())
    domains = [(i, v) for i, (t, v) in world.values.items() if t == "domain"]
    first = max(world.values) + 1
    urls = [{"id": first + k, "type": "url", "value": f"http://{v}/p{k}", "registered_domain":
             "evil.net"} for k, (_, v) in enumerate(domains[:8])]  # fmt: skip
    refs = [f"{t}:{v}" for t, v in world.values.values()] + ["domain:not-stored.example"]
    rels: list[dict[str, Any]] = []
    for k in range(120):
        source = rng.choice(ids)
        retain = rng.choice([None, None, -3, 5, 40])
        rels.append({"source_ref": rng.choice(refs), "type": rng.choice(KINDS),
                     "target_ref": rng.choice(refs), "source_org_id": source,
                     "tlp": rng.randrange(5), "pap": rng.randrange(4),
                     "releasable_to": orjson.dumps(sorted(rng.sample(TOKENS, rng.choice([0, 1, 2])))).decode(),
                     "reliability": "B", "credibility": 2, "purpose": "threat-analysis",
                     "retain_until": None if retain is None else TODAY + dt.timedelta(days=retain),
                     "attributes": "{}", "count": 1, "first_submission_id": 1,
                     "last_submission_id": 1, "location": f"rel {k}"})  # fmt: skip
    unique = {(r["source_ref"], r["type"], r["target_ref"], r["source_org_id"]): r for r in rels}
    with store.engine.begin() as conn:
        conn.execute(insert(observables), urls)
        conn.execute(insert(relationships), list(unique.values()))
        for a_id in world.marks:
            seen = NOW - dt.timedelta(days=rng.randrange(200), seconds=rng.randrange(86400),
                                      microseconds=rng.randrange(10**6))  # fmt: skip
            conn.execute(
                update(assertions).where(assertions.c.id == a_id).values(
                    last_seen=None if rng.random() < 0.15 else seen,
                    sightings=rng.randrange(0, 300),
                    threat_type=rng.choice(["phishing", "c2", "malware", "malware-distribution",
                                            "bec", "spam", "odd-type"]),
                )
            )  # fmt: skip


def _viewers(store: Store, world: World) -> list[tuple[Any, Any]]:
    fiji = store.viewer("Fiji CCU")
    later = grant_for(fiji, TODAY + dt.timedelta(days=10))
    return [*world.viewers(store), (OPERATOR, grant_for(OPERATOR, TODAY)), (fiji, later)]


def _edges(graph: Any) -> list[tuple[int, int, str, float]]:
    parts = (graph.src.tolist(), graph.dst.tolist(), graph.kind, graph.weight.tolist())
    return sorted(zip(*parts, strict=True))


def _same_scores(a: Any, b: Any) -> None:
    for name in a.__struct_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, list):
            assert x == y, name
        else:
            assert np.array_equal(x, y, equal_nan=True), name


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_columns_give_what_the_sql_predicate_gave(store: Store, seed: int) -> None:
    world = build(store, seed)
    _enrich(store, world, seed)
    cols = read_columns(store)
    values = stored_values(store)
    assert len(cols.marks) < len(cols.a_id) + len(cols.r_src)  # markings are shared
    for viewer, grant in _viewers(store, world):
        seen, _ = masks(cols, grant)
        planted = {a for a, m in world.marks.items() if may_see(grant, m)}
        assert set(cols.a_id[seen].tolist()) == planted, viewer.label
        sql = load_graph(store, grant, values)
        mine = graph_of(cols, grant, values)
        assert np.array_equal(sql.ids, mine.ids) and sql.refs == mine.refs, viewer.label
        assert np.array_equal(sql.flagged, mine.flagged), viewer.label
        assert _edges(sql) == _edges(mine), viewer.label
        assert members(sql, clusters_of(sql)) == members(mine, clusters_of(mine)), viewer.label
        old, old_refs = rowwise.observable_scores(store, viewer, grant, NOW)
        new, new_refs = observable_scores(store, viewer, grant, NOW, cols)
        assert old_refs == new_refs, viewer.label
        _same_scores(old, new)
        for limit in (0, 1, 2):  # the over-correlation rule on the columns vs in SQL
            rule = CorrelationRule(max_submissions=limit)
            flagged = over_correlated_nodes(
                store, grant, sql.ids, sql.refs, rule, listed=np.zeros(len(sql.ids), bool)
            )
            busy = busy_observables(cols, seen, limit)
            assert np.array_equal(flagged, np.isin(sql.ids, busy)), (viewer.label, limit)


def test_graph_edges_are_visible_relationships_only(store: Store) -> None:
    world = build(store, 5)
    _enrich(store, world, 5)
    cols, values = read_columns(store), stored_values(store)
    viewer = store.viewer("PhishGuard")
    grant = grant_for(viewer, TODAY)
    _, linked = masks(cols, grant)
    with store.engine.connect() as conn:
        rows = conn.execute(select(relationships.c.source_org_id, relationships.c.tlp)).all()
    assert len(rows) == len(linked) and 0 < int(linked.sum()) < len(rows)
    assert graph_of(cols, grant, values).kind  # the generated world gives it edges to check


def test_a_red_record_never_reaches_another_organisation(store: Store) -> None:
    world = build(store, 11)
    _enrich(store, world, 11)
    fiji = world.org_ids["Fiji CCU"]
    with store.engine.begin() as conn:
        conn.execute(insert(observables).values(id=900, type="ipv4", value="203.0.113.250"))
        conn.execute(insert(assertions).values(
            id=900, observable_id=900, source_org_id=fiji, owner_org_id=fiji, threat_type="c2",
            sightings=50, tlp=4, pap=3, releasable_to='["org:Fiji CCU"]', reliability="A",
            credibility=1, purpose="threat-analysis", first_submission_id=1,
            last_submission_id=1, location="red", last_seen=NOW,
        ))  # fmt: skip
        conn.execute(insert(relationships).values(
            source_ref="ipv4:203.0.113.250", type="resolves-to", target_ref="domain:mk2.evil.net",
            source_org_id=fiji, tlp=4, pap=3, releasable_to='["org:Fiji CCU"]', reliability="A",
            credibility=1, purpose="threat-analysis", attributes="{}", count=1,
            first_submission_id=1, last_submission_id=1, location="red",
        ))  # fmt: skip
    kept.forget_all()
    values = stored_values(store)
    for name in world.org_ids:
        viewer = store.viewer(name)
        grant = grant_for(viewer, TODAY)
        scores, refs = observable_scores(store, viewer, grant, NOW)
        graph = graph_of(kept_columns(store), grant, values)
        groups = members(graph, clusters_of(graph))
        inside = {r for group in groups.values() for r in group}
        mine = name == "Fiji CCU"
        assert (900 in scores.observable.tolist()) is mine, name
        assert ("ipv4:203.0.113.250" in refs.values()) is mine, name
        assert ("ipv4:203.0.113.250" in graph.refs) is mine, name
        assert mine or "ipv4:203.0.113.250" not in inside, name
    # records tightened to TLP:RED for nobody (owned by Fiji CCU): the next answer knows
    viewer = store.viewer("Global Hub")
    grant = grant_for(viewer, TODAY)
    before, _ = observable_scores(store, viewer, grant, NOW)
    hub = world.org_ids["Global Hub"]
    theirs = {o for a, o in world.observable_of.items() if world.marks[a].source_org_id == hub}
    shown = next(int(o) for o in before.observable.tolist() if o not in theirs)
    with store.engine.begin() as conn:
        conn.execute(update(assertions).where(assertions.c.observable_id == shown)
                     .values(tlp=4, releasable_to='["org:Nobody"]', owner_org_id=fiji))  # fmt: skip
    after, _ = observable_scores(store, viewer, grant, NOW)
    assert shown in before.observable.tolist() and shown not in after.observable.tolist()
    old, _ = rowwise.observable_scores(store, viewer, grant, NOW)
    _same_scores(old, after)


def test_scores_from_given_grades_and_pairs_by_key_are_the_same() -> None:
    """The pair count by one int64 sort equals ``np.unique(axis=1)``; grades and severities
    handed in equal those computed per row."""
    from marsad.analysis.scoring import Columns, _distinct_pairs, grades, score, severities

    rng = np.random.default_rng(5)
    for _ in range(100):
        n = int(rng.integers(0, 200))
        obs = rng.integers(1, 40, n)
        src = rng.integers(-3, 6, n) * int(rng.choice([1, 1000]))
        want = np.unique(np.stack([obs, src]), axis=1)[0] if n else obs
        assert np.array_equal(_distinct_pairs(obs, src), want)
        rel, cred = [str(x) for x in rng.choice(list("ABCFZ"), n)], rng.integers(1, 8, n)
        threat = [str(x) for x in rng.choice(["c2", "malware", "bec", "odd"], n)]
        kw: dict[str, Any] = {"observable": obs, "source": src, "reliability": rel,
              "credibility": cred, "age_days": rng.random(n) * 90,
              "sightings": rng.integers(0, 9, n).astype(float), "threat": threat,
              "relevant": rng.random(n) < 0.3}  # fmt: skip
        given = Columns(**kw, grade=grades(rel, cred), severity=severities(threat))
        _same_scores(score(Columns(**kw)), score(given))
