"""The sharing rules themselves, case by case (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from marsad.access.policy import (
    OPERATOR,
    PUBLIC,
    Action,
    Mark,
    Role,
    Viewer,
    grant_for,
    may,
    may_act,
    may_see,
)
from marsad.model.handling import PAP, TLP
from marsad.model.organisation import OrgKind

TODAY = dt.date(2026, 11, 23)
PARTNER = Viewer(org_id=1, org_name="PhishGuard", kind=OrgKind.PRIVATE_PARTNER,
                 region="asia-south-pacific", role=Role.PARTNER_SUBMITTER)  # fmt: skip
FIJI = Viewer(org_id=2, org_name="Fiji CCU", kind=OrgKind.NATIONAL_CYBER_UNIT,
              region="asia-south-pacific", role=Role.OFFICER)  # fmt: skip
SUVA = Viewer(org_id=3, org_name="Suva Cyber Desk", kind=OrgKind.NATIONAL_CYBER_UNIT,
              region="asia-south-pacific", parents=("Fiji CCU",))  # fmt: skip
DESK = Viewer(
    org_id=4, org_name="ASP Desk", kind=OrgKind.REGIONAL_DESK, region="asia-south-pacific"
)
FRANCE = Viewer(org_id=5, org_name="France OFAC", kind=OrgKind.NATIONAL_CYBER_UNIT, region="europe")


def mark(tlp: TLP, *tokens: str, owner: int = 1, pap: PAP = PAP.AMBER,
         retain: dt.date | None = None) -> Mark:  # fmt: skip
    return Mark(owner_org_id=owner, source_org_id=owner, tlp=tlp.rank, pap=pap.rank,
                releasable_to=tuple(tokens), retain_until=retain)  # fmt: skip


def seen_by(m: Mark) -> set[str]:
    return {
        v.label
        for v in (PUBLIC, PARTNER, FIJI, SUVA, DESK, FRANCE)
        if may_see(grant_for(v, TODAY), m)
    }


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (mark(TLP.CLEAR), {"public", "PhishGuard", "Fiji CCU", "Suva Cyber Desk", "ASP Desk", "France OFAC"}),
        (mark(TLP.GREEN), {"PhishGuard", "Fiji CCU", "Suva Cyber Desk", "ASP Desk", "France OFAC"}),
        # no releasability list: the coordinators receive it
        (mark(TLP.AMBER), {"PhishGuard", "ASP Desk"}),
        (mark(TLP.AMBER_STRICT), {"PhishGuard", "ASP Desk"}),
        (mark(TLP.RED), {"PhishGuard"}),
        # AMBER to a unit reaches its national sub-units; AMBER+STRICT does not
        (mark(TLP.AMBER, "org:Fiji CCU"), {"PhishGuard", "Fiji CCU", "Suva Cyber Desk"}),
        (mark(TLP.AMBER_STRICT, "org:Fiji CCU"), {"PhishGuard", "Fiji CCU"}),
        (mark(TLP.AMBER, "region:asia-south-pacific"),
         {"PhishGuard", "Fiji CCU", "Suva Cyber Desk", "ASP Desk"}),
        (mark(TLP.AMBER, "members"),
         {"PhishGuard", "Fiji CCU", "Suva Cyber Desk", "ASP Desk", "France OFAC"}),
        (mark(TLP.AMBER, "partners", owner=2), {"PhishGuard", "Fiji CCU"}),
        # RED: organisations named one by one; groups and regions do not count
        (mark(TLP.RED, "org:France OFAC", "members", "region:asia-south-pacific"),
         {"PhishGuard", "France OFAC"}),
        # a name that merely starts like another never matches
        (mark(TLP.RED, "org:Fiji"), {"PhishGuard"}),
        # expired: only the owner, until it reviews
        (mark(TLP.CLEAR, retain=TODAY - dt.timedelta(days=1)), {"PhishGuard"}),
        (mark(TLP.CLEAR, retain=TODAY), {"public", "PhishGuard", "Fiji CCU", "Suva Cyber Desk",
                                         "ASP Desk", "France OFAC"}),
    ],
)  # fmt: skip
def test_who_sees_what(m: Mark, expected: set[str]) -> None:
    assert seen_by(m) == expected


def test_the_operator_sees_everything_and_the_public_only_clear() -> None:
    red = mark(TLP.RED, retain=TODAY - dt.timedelta(days=400))
    assert may_see(grant_for(OPERATOR, TODAY), red)
    assert not may_see(grant_for(PUBLIC, TODAY), mark(TLP.GREEN))


def test_active_actions_need_pap_green_or_the_owner() -> None:
    amber = mark(TLP.GREEN, pap=PAP.AMBER)
    green = mark(TLP.GREEN, pap=PAP.GREEN)
    g = grant_for(FIJI, TODAY)
    assert may_act(FIJI, g, green, Action.TAKEDOWN_REQUEST)
    assert not may_act(FIJI, g, amber, Action.TAKEDOWN_REQUEST)
    assert may_act(FIJI, g, amber, Action.TAKEDOWN_REQUEST, owner_permits=True)
    assert may_act(FIJI, g, amber, Action.READ)
    own = mark(TLP.GREEN, pap=PAP.RED, owner=2)
    assert may_act(FIJI, g, own, Action.ACTIVE_CHECK)
    # nobody acts on what they cannot see, permission or not
    assert not may_act(FRANCE, grant_for(FRANCE, TODAY), mark(TLP.RED, pap=PAP.CLEAR),
                       Action.TAKEDOWN_REQUEST, owner_permits=True)  # fmt: skip


def test_roles_gate_actions() -> None:
    assert may(PARTNER, Action.SUBMIT) and not may(PARTNER, Action.EXPORT)
    auditor = Viewer(org_id=9, org_name="Hub", kind=OrgKind.HUB, role=Role.AUDITOR)
    assert may(auditor, Action.READ_AUDIT) and not may(auditor, Action.TAKEDOWN_REQUEST)
    assert not may(FIJI, Action.ADMINISTER) and may(OPERATOR, Action.ADMINISTER)
    assert not may_act(PARTNER, grant_for(PARTNER, TODAY), mark(TLP.CLEAR, pap=PAP.CLEAR),
                       Action.TAKEDOWN_REQUEST)  # fmt: skip
