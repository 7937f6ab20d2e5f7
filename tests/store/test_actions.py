"""Actions taken on records: recorded under the policy, audited, read back as feedback only by
the acting organisation and the records' owners and sources (both engines)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from marsad.access import audit
from marsad.access.policy import (
    EVERYTHING,
    Grant,
    Mark,
    Role,
    grant_for,
    may_see,
    may_see_action,
    shows_acting_user,
    tokens_of,
)
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.actions import ActionError, ActionKind, clean_note, parse_kind
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.normalize import detect
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store import action_reads, reads
from marsad.store.schema import actions_taken, assertions
from marsad.store.store import Store
from marsad.store.visibility import action_visible

TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
GREEN = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN, releasable_to=Releasability()))
RED = SubmissionDefaults(handling=Handling(tlp=TLP.RED))


def _world(store: Store) -> dict[str, int]:
    """PhishGuard reports a domain at GREEN, the desk the same domain at RED (only itself)."""
    for name, kind in (("PhishGuard", "private-partner"), ("Fiji CCU", "national-cyber-unit"),
                       ("ASP Desk", "regional-desk"), ("Samoa CCU", "national-cyber-unit")):  # fmt: skip
        store.add_org(make_organisation(name, kind, "FJ", "asia-south-pacific"))
    subs = {}
    for source, defaults in (("PhishGuard", GREEN), ("ASP Desk", RED)):
        report = ingest(store, b"evil.example.com\n", source=source, fmt="list",
                        defaults=defaults, threat_type=ThreatType.PHISHING, analyse=False)  # fmt: skip
        assert report.status == "ingested", report
        subs[source] = report.submission_id
    return subs


def _grant(store: Store, name: str, role: Role = Role.ANALYST) -> Grant:
    return grant_for(store.viewer(name, role), TODAY)


def _record(store: Store, name: str, kind: ActionKind, note: str | None = None) -> list[int]:
    viewer = store.viewer(name)
    grant = grant_for(viewer, TODAY)
    obs = detect("evil.example.com")
    assert obs is not None
    ids = [a.id for a in reads.lookup(store, grant, [obs])]
    return action_reads.record(store, viewer, grant, ids, kind, note, actor=f"{name} user",
                               target=obs.ref, now=NOW)  # fmt: skip


def test_an_action_is_feedback_to_the_sources_it_covers_and_to_no_one_else(store: Store) -> None:
    subs = _world(store)
    made = _record(store, "Fiji CCU", ActionKind.BLOCKED, "blocked at 3 ISPs")
    assert len(made) == 1  # Fiji sees PhishGuard's GREEN record, not the desk's RED one
    # the source learns what was done, by which organisation, not by which person
    [seen] = action_reads.listing(store, _grant(store, "PhishGuard"), scope="on-own")
    assert (seen.org, seen.kind, seen.note, seen.user) == (
        "Fiji CCU", ActionKind.BLOCKED, "blocked at 3 ISPs", None)  # fmt: skip
    assert (seen.type, seen.value, seen.taken_at) == ("domain", "evil.example.com", NOW)
    by_sub = action_reads.listing(
        store, _grant(store, "PhishGuard"), submission_id=subs["PhishGuard"]
    )
    assert [x.id for x in by_sub] == made
    # the acting organisation sees its own action with the person who recorded it
    [mine] = action_reads.listing(store, _grant(store, "Fiji CCU"), scope="by-own")
    assert mine.user == "Fiji CCU user"
    assert action_reads.listing(store, _grant(store, "Fiji CCU"), scope="on-own") == []
    # a third organisation that sees the same record learns nothing of the action
    assert action_reads.listing(store, _grant(store, "Samoa CCU")) == []
    # the desk's own record was not acted upon, so it has no feedback
    assert action_reads.listing(store, _grant(store, "ASP Desk")) == []
    assert (
        action_reads.listing(store, _grant(store, "ASP Desk"), submission_id=subs["ASP Desk"]) == []
    )


def test_an_action_on_a_record_the_actor_may_not_see_is_refused_and_audited(store: Store) -> None:
    _world(store)
    with store.engine.connect() as conn:
        red = conn.execute(
            select(assertions.c.id).where(assertions.c.tlp == TLP.RED.rank)
        ).scalar_one()
    viewer = store.viewer("Fiji CCU")
    with pytest.raises(action_reads.ActionRefused, match=f"no assertion you may see with id {red}"):
        action_reads.record(store, viewer, grant_for(viewer, TODAY), [red, 10**9],
                            ActionKind.TAKEN_DOWN, None, actor="u", target="x", now=NOW)  # fmt: skip
    with store.engine.connect() as conn:
        assert conn.execute(select(actions_taken.c.id)).all() == []
    [entry] = audit.entries(store, action="record-action")
    assert entry.outcome == "deny" and entry.details["refused"] == [red, 10**9]
    # a read-only role may see the record but may not record an action
    reader = store.viewer("Fiji CCU", Role.READ_ONLY)
    mine = [
        a.id for a in reads.lookup(store, grant_for(reader, TODAY), [detect("evil.example.com")])
    ]  # type: ignore[list-item]
    with pytest.raises(action_reads.ActionRefused):
        action_reads.record(store, reader, grant_for(reader, TODAY), mine, ActionKind.BLOCKED,
                            None, actor="u", target="x", now=NOW)  # fmt: skip


def test_recording_is_audited_with_its_kind_and_records(store: Store) -> None:
    _world(store)
    made = _record(store, "ASP Desk", ActionKind.INVESTIGATION_OPENED)
    assert len(made) == 2  # the desk sees both records: each source gets the feedback
    [entry] = audit.entries(store, action="record-action")
    assert entry.outcome == "allow" and entry.org == "ASP Desk"
    assert entry.details["kind"] == "investigation-opened" and entry.details["actions"] == made
    [pg] = action_reads.listing(store, _grant(store, "PhishGuard"), scope="on-own")
    assert pg.org == "ASP Desk" and pg.kind is ActionKind.INVESTIGATION_OPENED
    assert len(action_reads.listing(store, EVERYTHING)) == 2


def test_an_action_disappears_when_the_record_is_no_longer_visible(store: Store) -> None:
    _world(store)
    _record(store, "Fiji CCU", ActionKind.VICTIM_NOTIFIED)
    assert len(action_reads.listing(store, _grant(store, "Fiji CCU"))) == 1
    with store.engine.begin() as conn:  # the owner tightens its record to TLP:RED
        conn.execute(assertions.update().values(tlp=TLP.RED.rank, releasable_to="[]"))
    assert action_reads.listing(store, _grant(store, "Fiji CCU")) == []
    assert len(action_reads.listing(store, _grant(store, "PhishGuard"))) == 1


def test_the_vocabulary_and_the_note_refuse_bad_input_with_the_field_named() -> None:
    assert parse_kind(" Taken_Down ") is ActionKind.TAKEN_DOWN
    with pytest.raises(ActionError, match="kind: 'nuked' is not an action kind"):
        parse_kind("nuked")
    assert clean_note("  ") is None and clean_note(" ok\n") == "ok"
    with pytest.raises(ActionError, match="note: 501 characters, at most 500"):
        clean_note("x" * 501)
    with pytest.raises(ActionError, match="note: control characters"):
        clean_note("a\x00b")


marks = st.builds(
    Mark, owner_org_id=st.integers(1, 4), source_org_id=st.integers(1, 4),
    tlp=st.integers(0, 4), pap=st.integers(0, 3),
    releasable_to=st.lists(st.sampled_from(["org:A", "org:B", "members", "partners"]),
                           max_size=2).map(tuple),
)  # fmt: skip


@given(mark=marks, actor=st.integers(1, 4), me=st.integers(1, 4), everything=st.booleans())
def test_an_action_shows_only_to_parties_who_see_the_record(
    mark: Mark, actor: int, me: int, everything: bool
) -> None:
    grant = EVERYTHING if everything else Grant(own_org_ids=frozenset({me}), open_tlp=1)
    shown = may_see_action(grant, mark, actor)
    assert not shown or may_see(grant, mark)  # never reveals a record the viewer may not see
    parties = {actor, mark.owner_org_id, mark.source_org_id}
    assert shown == (may_see(grant, mark) and (everything or me in parties))
    assert shows_acting_user(grant, actor) == (everything or me == actor)


def test_the_sql_predicate_agrees_with_the_policy(store: Store) -> None:
    _world(store)
    _record(store, "Fiji CCU", ActionKind.BLOCKED)
    _record(store, "ASP Desk", ActionKind.TAKEDOWN_REQUESTED)
    query = (
        select(actions_taken.c.id, actions_taken.c.org_id, assertions.c.owner_org_id,
               assertions.c.source_org_id, assertions.c.tlp, assertions.c.pap,
               assertions.c.releasable_to, assertions.c.retain_until)
        .join(assertions, assertions.c.id == actions_taken.c.assertion_id)
    )  # fmt: skip
    grants = {
        org: _grant(store, org) for org in ("PhishGuard", "Fiji CCU", "ASP Desk", "Samoa CCU")
    }
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        for org, grant in grants.items():
            in_sql = set(conn.execute(
                select(actions_taken.c.id).join(assertions, assertions.c.id == actions_taken.c.assertion_id)
                .where(action_visible(grant, actions_taken, assertions))).scalars())  # fmt: skip
            in_python = {
                r.id for r in rows
                if may_see_action(grant, Mark(owner_org_id=r.owner_org_id,
                                              source_org_id=r.source_org_id, tlp=r.tlp, pap=r.pap,
                                              releasable_to=tokens_of(r.releasable_to)), r.org_id)
            }  # fmt: skip
            assert in_sql == in_python, org


def test_a_purge_takes_the_actions_on_the_purged_records_with_it(store: Store) -> None:
    from marsad.access import stewardship

    _world(store)
    _record(store, "Fiji CCU", ActionKind.BLOCKED)
    with store.engine.begin() as conn:  # PhishGuard's record expired yesterday
        conn.execute(assertions.update().where(assertions.c.tlp == TLP.GREEN.rank)
                     .values(retain_until=TODAY - dt.timedelta(days=1)))  # fmt: skip
    owner = store.viewer("PhishGuard")
    assert stewardship.purge(store, owner, "no longer needed", TODAY) == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(actions_taken.c.id)).all() == []
    assert action_reads.listing(store, EVERYTHING) == []


def test_a_purge_takes_the_alerts_the_purged_records_raised_with_it(store: Store) -> None:
    """An alert stays while other evidence supports it (pointing at that evidence) and goes
    with its last record; before, the alerts' foreign keys made such a purge fail."""
    from marsad.access import stewardship
    from marsad.products import alert_store, alerting
    from marsad.store.schema import alert_evidence, alerts

    _world(store)
    alert_store.add_entry(store, "Fiji CCU", "domain", "example.com")
    alerting.run(store, context=alerting.Context(deliver=False))
    with store.engine.connect() as conn:
        evidence = conn.execute(select(alert_evidence.c.assertion_id)).scalars().all()
    assert len(evidence) == 1  # Fiji may see PhishGuard's GREEN record, not the desk's RED one
    report = ingest(store, b"evil.example.com\nlogin.example.com\n", source="Samoa CCU",
                    fmt="list", defaults=GREEN, threat_type=ThreatType.PHISHING, analyse=False)  # fmt: skip
    alerting.run(store, context=alerting.Context(deliver=False))
    with store.engine.connect() as conn:
        before = {r.observable_id: r.assertion_id for r in conn.execute(select(alerts))}
        samoa = set(conn.execute(select(assertions.c.id).where(
            assertions.c.last_submission_id == report.submission_id)).scalars())  # fmt: skip
    assert len(before) == 2 and len(samoa) == 2
    with store.engine.begin() as conn:  # PhishGuard's record expired yesterday
        conn.execute(assertions.update().where(assertions.c.id.in_(evidence))
                     .values(retain_until=TODAY - dt.timedelta(days=1)))  # fmt: skip
    assert stewardship.purge(store, store.viewer("PhishGuard"), "no longer needed", TODAY) == 1
    with store.engine.connect() as conn:
        after = {r.observable_id: r.assertion_id for r in conn.execute(select(alerts))}
        left = set(conn.execute(select(alert_evidence.c.assertion_id)).scalars())
    assert after.keys() == before.keys()  # Samoa's statements still support both alerts
    assert set(after.values()) <= samoa and left == samoa

    with store.engine.begin() as conn:  # now Samoa's records expire as well
        conn.execute(assertions.update().where(assertions.c.id.in_(samoa))
                     .values(retain_until=TODAY - dt.timedelta(days=1)))  # fmt: skip
    assert stewardship.purge(store, store.viewer("Samoa CCU"), "no longer needed", TODAY) == 2
    with store.engine.connect() as conn:
        assert conn.execute(select(alerts)).all() == []
        assert conn.execute(select(alert_evidence)).all() == []
