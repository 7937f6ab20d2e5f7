"""Correlation: counts over sources, submissions, cases and countries; over-correlation; and
what a viewer learns — never a record the policy denies, except "exists, ask the owner"."""

from __future__ import annotations

import numpy as np
import pytest

from marsad.access import stewardship
from marsad.access.policy import EVERYTHING, grant_for
from marsad.analysis.correlation import CorrelationRule, flags_of, over_correlated
from marsad.analysis.infrastructure import clusters_of, load_graph
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.normalize import expand
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import ThreatType
from marsad.store import correlation_reads as cr
from marsad.store.store import Store
from tests.analysis import marked_world

GREEN = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN, releasable_to=Releasability()))
RED = SubmissionDefaults(handling=Handling(tlp=TLP.RED))


def _list(store: Store, source: str, lines: str, defaults: SubmissionDefaults = GREEN) -> int:
    report = ingest(store, lines.encode(), source=source, fmt="list", defaults=defaults,
                    threat_type=ThreatType.PHISHING)  # fmt: skip
    assert report.status == "ingested", report
    return report.submission_id


def test_rule_flags_warninglisted_and_busy_values() -> None:
    rule = CorrelationRule(max_submissions=3)
    flagged = over_correlated(np.array([1, 4, 3, 0]), np.array([False, False, False, True]), rule)
    assert flagged.tolist() == [False, True, False, True]
    assert flags_of(4, ["Public resolvers"], rule) == [
        "on warninglist 'Public resolvers'",
        "in 4 submissions (over 3)",
    ]
    assert flags_of(3, [], rule) == []


def test_a_value_correlates_across_sources_submissions_and_countries(orgs: Store) -> None:
    a = _list(orgs, "PhishGuard", "198.51.100.7\nlogin-verify.evil.com\n")
    b = _list(orgs, "Fiji CCU", "198.51.100.7\n")
    c = _list(orgs, "Fiji CCU", "198.51.100.7\nother.evil.com\n")
    _list(orgs, "ASP Desk", "login-verify.evil.com\n")
    [found] = cr.correlate(orgs, EVERYTHING, [Observable(ObservableType.IPV4, "198.51.100.7")])
    assert (found.type, found.value) == ("ipv4", "198.51.100.7")
    assert found.counts.assertions == 2 and found.counts.sources == 2
    assert found.counts.submissions == 3 and found.counts.countries == 2
    assert found.countries == ["AU", "FJ"]
    by_source = {s.source: s.submissions for s in found.said}
    assert by_source == {"PhishGuard": [a], "Fiji CCU": [b, c]}
    assert found.flags == [] and found.ask_owner == []
    # a value nobody reported is not known to exist
    assert cr.correlate(orgs, EVERYTHING, [Observable(ObservableType.IPV4, "198.51.100.8")]) == []
    # normalised like search: a defanged URL brings its host along
    found_all = cr.correlate(orgs, EVERYTHING, expand("hxxps://login-verify[.]evil[.]com/x"))
    assert [(c.value, c.counts.sources) for c in found_all] == [("login-verify.evil.com", 2)]


def test_over_correlating_values_are_flagged_and_pruned_from_clusters(orgs: Store) -> None:
    for n in range(4):  # two of the four submissions are TLP:RED
        _list(orgs, "PhishGuard", f"8.8.8.8\n203.0.113.{n + 1}\n", GREEN if n < 2 else RED)
    rule = CorrelationRule(max_submissions=3)
    busy, public = cr.correlate(
        orgs, EVERYTHING,
        [Observable(ObservableType.IPV4, "203.0.113.1"), Observable(ObservableType.IPV4, "8.8.8.8")],
        rule,
    )  # fmt: skip
    assert busy.flags == []
    assert "in 4 submissions (over 3)" in public.flags
    assert any("public DNS resolvers" in f for f in public.flags)
    graph = load_graph(orgs, EVERYTHING)
    assert graph.flagged is not None
    flagged = {graph.refs[i] for i in np.flatnonzero(graph.flagged)}
    assert flagged == {"ipv4:8.8.8.8"}  # on a list of resolvers: a hub whatever its shape
    found = clusters_of(graph)
    assert found.hubs[graph.refs.index("ipv4:8.8.8.8")]
    # the submission count is taken over what the viewer may see (two of four for Fiji)
    node_ids = graph.ids
    busy_only = cr.over_correlated_nodes(orgs, EVERYTHING, node_ids, ["x:y"] * len(node_ids), rule)
    assert {graph.refs[i] for i in np.flatnonzero(busy_only)} == {"ipv4:8.8.8.8"}
    fiji = grant_for(orgs.viewer("Fiji CCU"), marked_world.TODAY)
    assert not cr.over_correlated_nodes(orgs, fiji, node_ids, ["x:y"] * len(node_ids), rule).any()


def test_top_lists_the_most_widely_reported_values(orgs: Store) -> None:
    _list(orgs, "PhishGuard", "a.evil.com\nb.evil.com\nc.evil.com\n")
    _list(orgs, "Fiji CCU", "a.evil.com\nb.evil.com\n")
    _list(orgs, "ASP Desk", "a.evil.com\n")
    _list(orgs, "ASP Desk", "b.evil.com\n", RED)  # red: only ASP Desk (and the operator) see it
    rows = cr.top(orgs, EVERYTHING, 10)
    assert [(r.value, r.counts.sources, r.counts.submissions) for r in rows] == [
        ("a.evil.com", 3, 3),
        ("b.evil.com", 3, 3),
    ]
    fiji = grant_for(orgs.viewer("Fiji CCU"), marked_world.TODAY)
    rows = cr.top(orgs, fiji, 10)
    assert [(r.value, r.counts.sources) for r in rows] == [("a.evil.com", 3), ("b.evil.com", 2)]


def test_disclosure_shows_only_that_a_record_exists_and_whom_to_ask(orgs: Store) -> None:
    _list(orgs, "ASP Desk", "hidden.evil.com\n", RED)
    fiji_viewer = orgs.viewer("Fiji CCU")
    fiji = grant_for(fiji_viewer, marked_world.TODAY)
    wanted = [Observable(ObservableType.DOMAIN, "hidden.evil.com")]
    assert cr.correlate(orgs, fiji, wanted) == []
    [said] = cr.correlate(orgs, EVERYTHING, wanted)[0].said
    with pytest.raises(stewardship.NotOwner):
        stewardship.disclose(orgs, fiji_viewer, said.assertion_id)
    stewardship.disclose(orgs, orgs.viewer("ASP Desk"), said.assertion_id)
    [seen] = cr.correlate(orgs, fiji, wanted)
    assert seen.said == [] and seen.counts.assertions == 0 and seen.entities == []
    assert [(a.owner, a.note) for a in seen.ask_owner] == [
        ("ASP Desk", "a record exists: ask ASP Desk")
    ]
    public = grant_for(marked_world.PUBLIC, marked_world.TODAY)
    assert cr.correlate(orgs, public, wanted) == []  # the public has nobody to ask
    stewardship.disclose(orgs, orgs.viewer("ASP Desk"), said.assertion_id, on=False)
    assert cr.correlate(orgs, fiji, wanted) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correlation_never_reveals_what_the_policy_denies(store: Store, seed: int) -> None:
    world = marked_world.build(store, seed)
    names = {v: k for k, v in world.org_ids.items()}
    wanted = [Observable(ObservableType(t), v) for t, v in world.values.values()]
    obs_id = {(t, v): k for k, (t, v) in world.values.items()}
    for viewer, grant in world.viewers(store):
        found = {(c.type, c.value): c for c in cr.correlate(store, grant, wanted)}
        for key, oid in obs_id.items():
            visible = world.visible(grant, oid)
            askable = world.askable(grant, oid)
            if not visible and not askable:
                assert key not in found, (viewer.label, key)
                continue
            c = found[key]
            assert {s.assertion_id for s in c.said} == visible, (viewer.label, key)
            assert {a.owner for a in c.ask_owner} == {names[o] for o in askable}
            assert c.counts.sources == len({world.marks[a].source_org_id for a in visible})
            subs = {s for a in visible for s in world.submissions_of[a]}
            assert c.counts.submissions == len(subs)
        for row in cr.top(store, grant, 1000, min_sources=1):
            visible = world.visible(grant, obs_id[(row.type, row.value)])
            assert visible and row.counts.assertions == len(visible), (viewer.label, row)
        shown = {(r.type, r.value) for r in cr.top(store, grant, 1000, min_sources=1)}
        assert shown == {k for k, oid in obs_id.items() if world.visible(grant, oid)}


def test_only_addresses_a_list_names_alone_count_as_listed() -> None:
    from marsad.enrich.listed_addresses import listed_addresses

    docs = [
        {"type": "cidr", "name": "Resolvers", "list": ["8.8.8.8/32", "10.0.0.0/8", "1.1.1.1",
                                                       "2001:DB8::1/128", "nonsense"]},
        {"type": "cidr", "name": "Sinkholes", "list": ["1.1.1.1"]},
        {"type": "string", "name": "Names", "list": ["9.9.9.9"]},
    ]  # fmt: skip
    assert listed_addresses(docs) == {
        "8.8.8.8": ["Resolvers"],
        "1.1.1.1": ["Resolvers", "Sinkholes"],
        "2001:db8::1": ["Resolvers"],
    }
