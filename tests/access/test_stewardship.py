"""Owners' powers: agreements as floors, tightening only, retention review and purge."""

from __future__ import annotations

import datetime as dt

import pytest

from marsad.access import audit, stewardship
from marsad.access.agreements import AgreementViolation
from marsad.access.policy import OPERATOR, grant_for
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import PAP, TLP, Handling, Releasability
from marsad.model.normalize import expand
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.store import Store

TODAY = dt.date.today()


@pytest.fixture
def net(orgs: Store) -> Store:
    orgs.add_org(make_organisation("France OFAC", "national-cyber-unit", "FR", "europe"))
    return orgs


def seen(store: Store, org: str, value: str) -> list[tuple[str, str, str]]:
    grant = grant_for(store.viewer(org), TODAY)
    return [
        (a.view.source, a.view.handling.tlp.value, a.view.handling.grading)
        for a in store.assertions_about(expand(value), grant)
    ]


def send(store: Store, body: bytes, **handling: object) -> int:
    defaults = SubmissionDefaults(handling=Handling(**handling))  # type: ignore[arg-type]
    report = ingest(store, body, source="PhishGuard", defaults=defaults,
                    threat_type=ThreatType.PHISHING)  # fmt: skip
    assert report.status == "ingested", report.error
    return report.submission_id


def test_an_agreement_is_a_floor_no_submission_loosens(net: Store) -> None:
    agreed = Handling(tlp=TLP.AMBER, pap=PAP.AMBER, reliability="B", credibility=3,
                      releasable_to=Releasability.from_tokens(["org:Fiji CCU", "org:ASP Desk"]))  # fmt: skip
    stewardship.set_agreement(net, "PhishGuard", agreed, OPERATOR)
    assert stewardship.agreement_of(net, net.org("PhishGuard").id) == agreed
    send(net, b"203.0.113.10\n", tlp=TLP.CLEAR)
    assert seen(net, "Fiji CCU", "203.0.113.10") == [("PhishGuard", "amber", "B3")]
    assert seen(net, "France OFAC", "203.0.113.10") == []
    with pytest.raises(AgreementViolation, match="members beyond its source's agreement"):
        send(net, b"203.0.113.11\n", releasable_to=Releasability(all_members=True))
    # tightening within the agreement is the submitter's right
    send(net, b"203.0.113.12\n", tlp=TLP.RED, releasable_to=Releasability(("Fiji CCU",)))
    assert seen(net, "Fiji CCU", "203.0.113.12") == [("PhishGuard", "red", "B3")]
    assert seen(net, "ASP Desk", "203.0.113.12") == []


def test_only_the_owner_tightens_and_nobody_loosens(net: Store) -> None:
    sub = send(net, b"198.51.100.20\n198.51.100.21\n", tlp=TLP.GREEN)
    france = net.viewer("France OFAC")
    assert stewardship.tighten(net, france, submission_id=sub, tlp=TLP.RED) == 0
    assert seen(net, "France OFAC", "198.51.100.20") == [("PhishGuard", "green", "F6")]
    owner = net.viewer("PhishGuard")
    assert stewardship.tighten(net, owner, submission_id=sub, tlp=TLP.AMBER) == 2
    assert seen(net, "France OFAC", "198.51.100.20") == []
    stewardship.tighten(net, owner, submission_id=sub, tlp=TLP.CLEAR)  # no loosening
    assert seen(net, "PhishGuard", "198.51.100.21") == [("PhishGuard", "amber", "F6")]
    assert seen(net, "ASP Desk", "198.51.100.21") == [("PhishGuard", "amber", "F6")]


def test_retention_hides_then_the_owner_extends_or_purges(net: Store) -> None:
    past = TODAY - dt.timedelta(days=2)
    sub = send(net, b"192.0.2.30\n", tlp=TLP.GREEN, retain_until=past)
    other = send(net, b"192.0.2.31\n", tlp=TLP.GREEN, retain_until=past)
    assert seen(net, "Fiji CCU", "192.0.2.30") == []
    assert seen(net, "PhishGuard", "192.0.2.30") == [("PhishGuard", "green", "F6")]
    owner = net.viewer("PhishGuard")
    waiting = stewardship.expired(net, owner, TODAY)
    assert [(w.submission_id, w.assertions, w.retain_until) for w in waiting] == [
        (sub, 1, past), (other, 1, past)]  # fmt: skip
    assert stewardship.expired(net, net.viewer("Fiji CCU"), TODAY) == []
    with pytest.raises(Exception, match="reason"):
        stewardship.extend(net, owner, TODAY + dt.timedelta(days=30), " ", TODAY, sub)
    stewardship.extend(net, owner, TODAY + dt.timedelta(days=30), "case 2026/114 open", TODAY, sub)
    assert seen(net, "Fiji CCU", "192.0.2.30") == [("PhishGuard", "green", "F6")]
    assert stewardship.purge(net, net.viewer("Fiji CCU"), "not mine", TODAY) == 0
    assert stewardship.purge(net, owner, "no longer needed", TODAY) == 1
    assert seen(net, "PhishGuard", "192.0.2.31") == []
    assert seen(net, "PhishGuard", "192.0.2.30") != []
    [entry] = audit.entries(net, action="retention-purge", org="PhishGuard")
    assert entry.details["reason"] == "no longer needed" and entry.details["count"] == 1
    assert audit.verify(net).ok
