"""Evaluation and reading of alerts on both stores: deduplication, evidence, the policy."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from pathlib import Path

import orjson
from sqlalchemy import select

from marsad.access.policy import Mark, grant_for, may_see
from marsad.access.stewardship import tighten
from marsad.enrich.asn import Range, asn_of, build_table
from marsad.enrich.loaders import import_asn
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.products import alert_store, alerting
from marsad.store import alert_reads
from marsad.store.alert_reads import AlertView
from marsad.store.schema import alert_evidence, alerts, assertions
from marsad.store.store import Store

TODAY = dt.datetime.now(dt.UTC).date()
QUIET = alerting.Context(deliver=False)


def _send(store: Store, source: str, lines: list[str], *, tlp: TLP = TLP.GREEN,
          to: tuple[str, ...] = (), threat: ThreatType = ThreatType.PHISHING) -> int:  # fmt: skip
    handling = Handling(tlp=tlp, releasable_to=Releasability.from_tokens(list(to)))
    report = ingest(
        store, ("\n".join(lines) + "\n").encode(), source=source, threat_type=threat,
        defaults=SubmissionDefaults(handling=handling),
    )  # fmt: skip
    assert report.status == "ingested", report
    return report.submission_id


def _alerts(store: Store, org: str, **filters: object) -> list[AlertView]:
    viewer = store.viewer(org)
    assert viewer.org_id is not None
    return alert_reads.list_alerts(store, viewer.org_id, org, grant_for(viewer, TODAY), **filters)


def test_one_alert_per_observable_later_matches_add_evidence(orgs: Store) -> None:
    for kind, value in (("cctld", "fj"), ("keyword", "bank"), ("threat-type", "c2")):
        alert_store.add_entry(orgs, "Fiji CCU", kind, value)
    first = _send(orgs, "PhishGuard", ["evil.com.fj", "bank-login.example.org", "calm.example.net"])
    summary = alerting.evaluate_submission(orgs, first, QUIET)
    assert (summary.assertions, summary.raised, summary.evidence) == (3, 2, 2)
    assert summary.by_org == {"Fiji CCU": 2}
    shown = {a.value: a for a in _alerts(orgs, "Fiji CCU")}
    assert set(shown) == {"evil.com.fj", "bank-login.example.org"}
    assert shown["evil.com.fj"].reasons == ["cctld:fj"]
    assert shown["bank-login.example.org"].reasons == ["keyword:bank"]

    # The same value from another source, as C2: evidence on the same alert, no new alert.
    second = _send(orgs, "ASP Desk", ["evil.com.fj"], threat=ThreatType.C2)
    again = alerting.evaluate_submission(orgs, second, QUIET)
    assert (again.raised, again.evidence) == (0, 1)
    alert = {a.value: a for a in _alerts(orgs, "Fiji CCU")}["evil.com.fj"]
    assert alert.id == shown["evil.com.fj"].id
    assert [(e.source, e.threat_type) for e in alert.evidence] == [
        ("PhishGuard", "phishing"), ("ASP Desk", "c2")]  # fmt: skip
    assert set(alert.reasons) == {"cctld:fj", "threat-type:c2"}

    # Evaluating again changes nothing; `run` finds nothing pending, `since` re-reads.
    assert alerting.evaluate_submission(orgs, first, QUIET).raised == 0
    assert alerting.pending(orgs) == []
    rerun = alerting.run(orgs, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), QUIET)
    assert [(s.submission_id, s.raised, s.evidence) for s in rerun] == [
        (first, 0, 0),
        (second, 0, 0),
    ]
    with orgs.engine.connect() as conn:
        assert len(conn.execute(select(alerts.c.id)).all()) == 2
        assert len(conn.execute(select(alert_evidence.c.alert_id)).all()) == 3


def test_country_and_asn_come_from_enrichment(orgs: Store) -> None:
    alert_store.add_entry(orgs, "Fiji CCU", "country", "fj")
    alert_store.add_entry(orgs, "ASP Desk", "asn", "AS64500")
    net = ipaddress.ip_network("198.51.100.0/24")
    table, bad = build_table([Range(4, int(net.network_address), int(net.broadcast_address),
                                    64500, "Example Net", "", "test")])  # fmt: skip
    assert not bad
    # 202.170.32.9 is in a block APNIC assigned to Fiji (iptocc's delegation data).
    sub = _send(orgs, "PhishGuard", ["202.170.32.9", "198.51.100.7", "http://202.170.32.10/x"],
                threat=ThreatType.C2)  # fmt: skip
    summary = alerting.evaluate_submission(orgs, sub, alerting.Context(asn=table, deliver=False))
    assert summary.by_org == {"Fiji CCU": 2, "ASP Desk": 1}
    assert {a.value for a in _alerts(orgs, "Fiji CCU")} == {
        "202.170.32.9",
        "http://202.170.32.10/x",
    }
    assert [(a.value, a.reasons) for a in _alerts(orgs, "ASP Desk")] == [
        ("198.51.100.7", ["asn:64500"])
    ]


def test_no_watchlists_means_no_work_but_the_submission_counts_as_evaluated(orgs: Store) -> None:
    sub = _send(orgs, "PhishGuard", ["quiet.example.org"])
    assert alerting.pending(orgs) == [sub]
    assert alerting.evaluate_submission(orgs, sub, QUIET).raised == 0
    assert alerting.pending(orgs) == []


ORGS = [("Suva Desk", "national-cyber-unit", "asia-south-pacific", "Fiji CCU"),
        ("France OFAC", "national-cyber-unit", "europe", None),
        ("Global Hub", "hub", "europe", None)]  # fmt: skip
TOKENS = ["org:Fiji CCU", "org:Suva Desk", "org:PhishGuard", "org:ASP Desk", "org:France OFAC",
          "region:asia-south-pacific", "region:europe", "members", "partners", "org:Fiji C"]  # fmt: skip


def _marks(store: Store) -> dict[int, Mark]:
    with store.engine.connect() as conn:
        return {
            r.id: Mark(
                owner_org_id=r.owner_org_id,
                source_org_id=r.source_org_id,
                tlp=r.tlp,
                pap=r.pap,
                releasable_to=tuple(orjson.loads(r.releasable_to)),
                retain_until=r.retain_until,
            )
            for r in conn.execute(select(assertions))
        }


def _observables(store: Store) -> dict[int, int]:
    with store.engine.connect() as conn:
        return {
            r[0]: r[1] for r in conn.execute(select(assertions.c.id, assertions.c.observable_id))
        }


def test_no_organisation_is_alerted_about_what_it_may_not_see(orgs: Store) -> None:
    """A seeded world of random markings: every organisation's alerts hold exactly the
    evidence the policy grants it, and an alert exists exactly where some evidence does."""
    for name, kind, region, parent in ORGS:
        orgs.add_org(make_organisation(name, kind, None, region), parent=parent)
    names = [o.name for o in orgs.list_orgs()]
    for name in names:
        alert_store.add_entry(orgs, name, "keyword", "example")
    rng = random.Random(20261123)
    for n in range(24):
        values = [f"s{n}-v{k}.example.org" for k in range(3)] + [f"shared{n % 5}.example.org"]
        _send(orgs, rng.choice(names), values, tlp=rng.choice(list(TLP)),
              to=tuple(rng.sample(TOKENS, rng.choice([0, 1, 1, 2]))),
              threat=rng.choice([ThreatType.PHISHING, ThreatType.C2]))  # fmt: skip
    summaries = alerting.run(orgs, context=QUIET)
    assert len(summaries) == 24 and sum(s.raised for s in summaries) > 0
    marks, observable_of = _marks(orgs), _observables(orgs)
    # Raise time: nothing the policy denies is even stored as an organisation's evidence.
    query = select(alerts.c.org_id, alert_evidence.c.assertion_id).join(
        alert_evidence, alert_evidence.c.alert_id == alerts.c.id
    )
    with orgs.engine.connect() as conn:
        stored = conn.execute(query).all()
    grants = {o.id: grant_for(orgs.viewer(o.name), TODAY) for o in orgs.list_orgs()}
    assert stored and all(may_see(grants[org], marks[a]) for org, a in stored)
    checked = 0
    for name in names:
        grant = grant_for(orgs.viewer(name), TODAY)
        shown = {a.id: {e.assertion_id for e in a.evidence} for a in _alerts(orgs, name)}
        visible = {a for a, m in marks.items() if may_see(grant, m)}
        for evidence in shown.values():
            assert evidence <= visible, f"{name} sees evidence it may not: {evidence - visible}"
        expected: dict[int, set[int]] = {}
        for a in visible:
            expected.setdefault(observable_of[a], set()).add(a)
        assert sorted(map(sorted, shown.values())) == sorted(map(sorted, expected.values())), name
        checked += len(shown)
    assert checked > 20
    hidden = [name for name in names
              if len(_alerts(orgs, name)) < len(set(observable_of.values()))]  # fmt: skip
    assert hidden, "the random markings should hide something from someone"


def test_tightened_handling_hides_evidence_at_read_time(orgs: Store) -> None:
    alert_store.add_entry(orgs, "Fiji CCU", "domain", "example.org")
    first = _send(orgs, "PhishGuard", ["a.example.org", "b.example.org"])
    second = _send(orgs, "ASP Desk", ["b.example.org"], threat=ThreatType.C2)
    alerting.run(orgs, context=QUIET)
    before = {a.value: a for a in _alerts(orgs, "Fiji CCU")}
    assert {v: len(a.evidence) for v, a in before.items()} == {
        "a.example.org": 1,
        "b.example.org": 2,
    }

    assert tighten(orgs, orgs.viewer("PhishGuard"), submission_id=first, tlp=TLP.RED) == 2
    after = {a.value: a for a in _alerts(orgs, "Fiji CCU")}
    assert set(after) == {"b.example.org"}  # a.example.org's only evidence is now hidden
    assert [(e.source, e.submission_id) for e in after["b.example.org"].evidence] == [
        ("ASP Desk", second)]  # fmt: skip
    assert after["b.example.org"].reasons == ["domain:example.org"]
    gone = before["a.example.org"].id
    viewer = orgs.viewer("Fiji CCU")
    acked, missing = alert_reads.acknowledge(
        orgs, viewer.org_id, grant_for(viewer, TODAY), [gone, after["b.example.org"].id], "t"
    )
    assert (acked, missing) == ([after["b.example.org"].id], [gone])
    assert _alerts(orgs, "Fiji CCU", unacked=True) == []
    # The owner still sees its own record, but the alert is Fiji CCU's: nothing leaks sideways.
    assert _alerts(orgs, "PhishGuard") == []


def test_context_reads_the_instance_as_table_and_notices_a_new_import(tmp_path: Path) -> None:
    assert alerting.context_for(tmp_path).asn is None
    tsv = tmp_path / "ip2asn.tsv"
    tsv.write_text("198.51.100.0\t198.51.100.255\t64500\tFJ\tEXAMPLE-NET\n")
    import_asn(tsv, tmp_path)
    table = alerting.context_for(tmp_path, deliver=False).asn
    assert table is not None and asn_of(table, ["198.51.100.9"])[0].asn == 64500  # type: ignore[union-attr]
