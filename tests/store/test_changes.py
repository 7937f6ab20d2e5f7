"""The change counter moves with every committed write that could change what anyone sees."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from marsad.access import audit, identity, stewardship
from marsad.access.policy import OPERATOR, Role
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling
from marsad.model.records import ThreatType
from marsad.store.changes import data_version, writes
from marsad.store.schema import assertions, instance_state, organisations
from marsad.store.store import Store


def version(store: Store) -> int:
    return data_version(store.engine)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM assertions", False),
        ("  pragma wal_autocheckpoint=0", False),
        ("BEGIN IMMEDIATE", False),
        ("INSERT INTO audit_log (actor) VALUES (?)", False),
        ('UPDATE "instance_state" SET value=?', False),
        ("UPDATE api_tokens SET last_used_at=? WHERE id=?", False),
        ("DELETE FROM stage_a", False),  # a temporary table of this connection
        ("CREATE TEMP TABLE stage_b (k BIGINT)", False),
        ("INSERT INTO assertions (tlp) SELECT tlp FROM stage_a", True),
        ("INSERT OR IGNORE INTO observables (type, value) VALUES (?, ?)", True),
        ("UPDATE assertions SET tlp=? WHERE id=?", True),
        ("DELETE FROM cluster_members WHERE cluster_id=?", True),
        ("WITH x AS (SELECT 1) UPDATE relationships SET tlp=4", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("DROP TABLE organisations", True),
        ("ALTER TABLE assertions ADD COLUMN x INTEGER", True),
        ("TRUNCATE memberships", True),
    ],
)
def test_which_statements_count_as_writes(statement: str, expected: bool) -> None:
    assert writes(statement, {"stage_a"}) is expected


def test_reads_audit_and_sessions_leave_the_counter_alone(orgs: Store) -> None:
    before = version(orgs)
    with orgs.engine.connect() as conn:
        conn.execute(select(assertions.c.id)).all()
    audit.record(orgs, OPERATOR, "search", "203.0.113.1")
    with orgs.engine.begin() as conn:  # a web session is a row of instance_state
        conn.execute(insert(instance_state).values(key="session:x", value="{}",
                                                   updated_at=dt.datetime.now(dt.UTC)))  # fmt: skip
    assert version(orgs) == before


def test_every_kind_of_write_moves_the_counter(orgs: Store) -> None:
    seen = [version(orgs)]

    def moved() -> bool:
        seen.append(version(orgs))
        return seen[-1] > seen[-2]

    report = ingest(orgs, b"203.0.113.10\n", source="PhishGuard", threat_type=ThreatType.PHISHING)
    assert report.status == "ingested" and moved()
    owner = orgs.viewer("PhishGuard")
    assert stewardship.tighten(orgs, owner, submission_id=None, tlp=TLP.RED) == 1 and moved()
    stewardship.set_agreement(orgs, "PhishGuard", Handling(tlp=TLP.AMBER), OPERATOR)
    assert moved()
    identity.add_user(orgs, "ana", "Fiji CCU", Role.ANALYST, "a long enough password 1")
    assert moved()
    identity.add_membership(orgs, "ana", "ASP Desk", Role.ANALYST)
    assert moved()
    with orgs.engine.begin() as conn:
        conn.execute(update(organisations).where(organisations.c.name == "Fiji CCU")
                     .values(region="oceania"))  # fmt: skip
    assert moved()


def test_a_rolled_back_write_moves_nothing_and_another_engine_sees_a_commit(
    orgs: Store,
) -> None:
    before = version(orgs)
    with orgs.engine.connect() as conn:
        conn.execute(update(organisations).values(region="x"))
        conn.rollback()
    assert version(orgs) == before
    other = Store.open(orgs.engine.url.render_as_string(hide_password=False))
    try:  # a second process (an ingest from the shell) writing to the same database
        with other.engine.begin() as conn:
            conn.execute(update(organisations).where(organisations.c.name == "ASP Desk")
                         .values(country="SG"))  # fmt: skip
    finally:
        other.close()
    assert version(orgs) == before + 1
