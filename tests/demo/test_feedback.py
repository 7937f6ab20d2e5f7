"""The demo's feedback: units' sightings and actions reach the partners whose records they are."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from marsad.access.policy import Role, grant_for
from marsad.demo.feedback import ensure_feedback
from marsad.demo.load import load_world
from marsad.demo.world import BANK_CERT, VENDOR
from marsad.model.actions import ActionKind
from marsad.store import action_reads, match_reads
from marsad.store.schema import actions_taken, assertions, organisations
from marsad.store.store import Store


def test_units_feedback_reaches_the_partner_and_nobody_else(sqlite_store: Store) -> None:
    load_world(sqlite_store, seed=2026, scale=0.01, console=None)
    seen, acted = ensure_feedback(sqlite_store, seed=2026)
    assert seen >= 100 and acted >= 40
    assert ensure_feedback(sqlite_store, seed=2026) == (seen, acted)  # planted once

    today = dt.datetime.now(dt.UTC).date()
    vendor = sqlite_store.viewer(VENDOR, Role.PARTNER_SUBMITTER)
    feedback = action_reads.listing(
        sqlite_store, grant_for(vendor, today), scope="on-own", limit=1000
    )
    assert feedback, "the demo partner sees no action on its records"
    assert {a.kind for a in feedback} >= {ActionKind.BLOCKED, ActionKind.TAKEDOWN_REQUESTED}
    assert all(a.user is None for a in feedback)  # the units' people stay inside the units
    assert match_reads.sightings_of(sqlite_store, grant_for(vendor, today))

    # every action the demo planted is on a partner's record, taken by a unit that may see it,
    # and a partner sees actions only on its own records (or its own actions)
    with sqlite_store.engine.connect() as conn:
        sources = dict(
            conn.execute(
                select(actions_taken.c.id, organisations.c.name)
                .join(assertions, assertions.c.id == actions_taken.c.assertion_id)
                .join(organisations, organisations.c.id == assertions.c.source_org_id)
            ).all()
        )
    assert all(sources[a.id] == VENDOR for a in feedback)
    bank = sqlite_store.viewer(BANK_CERT, Role.PARTNER_SUBMITTER)
    theirs = action_reads.listing(sqlite_store, grant_for(bank, today), scope="all", limit=1000)
    assert theirs and all(sources[a.id] == BANK_CERT for a in theirs)
    assert not {a.id for a in theirs} & {a.id for a in feedback}
