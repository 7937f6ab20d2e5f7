"""Clusters recover the demo world's planted networks; hubs are pruned; ids are stable;
and a viewer's clusters and paths are built only from evidence it may see."""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pytest

from marsad.access.policy import EVERYTHING, grant_for
from marsad.analysis import clusters as cl
from marsad.analysis.graph import cluster
from marsad.analysis.infrastructure import clusters_of, load_graph, members, score_against
from marsad.demo.load import load_world
from marsad.demo.world import build_world
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.store.store import Store

SCALE = 0.1


def test_a_hub_joining_operations_is_pruned_and_labels_are_the_oldest_member() -> None:
    # six operations of six domains, each sharing its own name server and IP,
    # plus one CDN address every domain of every operation resolves to
    src, dst = [], []
    for op in range(6):
        base = op * 8
        for d in range(base, base + 6):
            src += [d, d, d]
            dst += [base + 6, base + 7, 48]
    n = 49
    found = cluster(n, np.array(src), np.array(dst), np.ones(len(src)))
    assert found.hubs.tolist() == [False] * 48 + [True]
    assert sorted(set(found.labels.tolist()) - {-1}) == [0, 8, 16, 24, 32, 40]
    assert found.labels[48] == -1
    assert (found.labels[0:8] == 0).all() and (found.labels[40:48] == 40).all()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from marsad.store.engine import sqlite_url

    store = Store.open(sqlite_url(tmp_path_factory.mktemp("demo") / "m.db"), create=True)
    load_world(store, seed=2026, scale=SCALE, console=None)
    return store


def test_planted_networks_are_recovered(demo: Store) -> None:
    graph = load_graph(demo, EVERYTHING)
    found = clusters_of(graph)
    truth = [n.members for n in build_world(2026, SCALE).networks]
    precision, recall = score_against(members(graph, found), truth)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    hubs = {graph.refs[i] for i in found.hubs.nonzero()[0]}
    assert "email:redacted@whois-privacy-proxy.net" in hubs
    assert "domain:ns1.parking-hub.net" in hubs
    # without hub pruning, the CDN and parking hubs glue operations together
    no_pruning = cluster(len(graph.ids), graph.src, graph.dst, graph.weight,
                         rule=cl_rule_without_hubs())  # fmt: skip
    labels = np.where(no_pruning.labels >= 0, graph.ids[np.maximum(no_pruning.labels, 0)], -1)
    glued = {}
    for ref, label in zip(graph.refs, labels.tolist(), strict=True):
        glued.setdefault(label, []).append(ref)
    assert score_against(glued, truth)[0] < 0.5


def cl_rule_without_hubs():  # type: ignore[no-untyped-def]
    from marsad.analysis.graph import HubRule

    return HubRule(min_degree=10**9)


def test_cluster_ids_are_stable_when_an_operation_grows(demo: Store) -> None:
    graph = load_graph(demo, EVERYTHING)
    groups = members(graph, clusters_of(graph))
    assert cl.save(demo, graph, clusters_of(graph)) == len(groups)
    assert cl.stored(demo) == groups
    cid, refs = next(iter(groups.items()))
    ns = next(r for r in refs if r.startswith("domain:ns1."))
    bundle = _bundle(9, "brand-new-phish.example.org", ns[7:], "uses-name-server")
    report = ingest(demo, bundle, source="Global Cybercrime Hub",
                    defaults=SubmissionDefaults(handling=Handling(tlp=TLP.GREEN)))  # fmt: skip
    assert report.status == "ingested", report
    again = members(load_graph(demo, EVERYTHING), clusters_of(load_graph(demo, EVERYTHING)))
    assert "domain:brand-new-phish.example.org" in again[cid]
    before, after = set(refs), set(again[cid])
    assert len(before & after) / len(before | after) >= 0.95  # membership barely changed


def test_a_viewer_sees_only_clusters_and_paths_from_visible_evidence(orgs: Store) -> None:
    red = SubmissionDefaults(handling=Handling(tlp=TLP.RED))
    green = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN, releasable_to=Releasability()))

    def rel(a: str, b: str, n: int) -> bytes:
        return _bundle(n, a, b, "uses-name-server")

    assert ingest(orgs, rel("shop-one.example.com", "ns1.darkdns.example.net", 1),
                  source="PhishGuard", defaults=red).status == "ingested"  # fmt: skip
    assert ingest(orgs, rel("shop-two.example.com", "ns1.darkdns.example.net", 2),
                  source="PhishGuard", defaults=red).status == "ingested"  # fmt: skip
    assert ingest(orgs, rel("shop-two.example.com", "cdn.example.net", 3),
                  source="Fiji CCU", defaults=green).status == "ingested"  # fmt: skip
    today = dt.date.today()
    owner = load_graph(orgs, grant_for(orgs.viewer("PhishGuard"), today))
    other = load_graph(orgs, grant_for(orgs.viewer("ASP Desk"), today))
    a, b = "domain:shop-one.example.com", "domain:shop-two.example.com"
    path = cl.link(owner, a, b)
    assert path is not None and [h.type for h in path] == ["uses-name-server"] * 2
    assert cl.link(other, a, b) is None
    assert a not in other.refs and "domain:ns1.darkdns.example.net" not in other.refs
    assert "domain:cdn.example.net" in other.refs
    hops = cl.with_provenance(orgs, grant_for(orgs.viewer("PhishGuard"), today), path)
    assert hops[0].reported_by == ["PhishGuard"] and hops[0].tlp == ["TLP:RED"]


def _bundle(n: int, a: str, b: str, kind: str) -> bytes:
    """A STIX bundle: two domain-name SCOs and a relationship between them."""
    uid = "00000000-0000-4000-8000-{:012d}".format
    objects = [
        {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uid(n * 10 + 1)}",
         "value": a},
        {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uid(n * 10 + 2)}",
         "value": b},
        {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uid(n * 10 + 3)}",
         "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
         "relationship_type": kind, "source_ref": f"domain-name--{uid(n * 10 + 1)}",
         "target_ref": f"domain-name--{uid(n * 10 + 2)}"},
    ]  # fmt: skip
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uid(n)}", "objects": objects})
