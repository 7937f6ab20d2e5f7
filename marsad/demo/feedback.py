"""Demo feedback: national units' sightings of, and actions on, the partners' records.

Partners send data and want to know what became of it; without this the demo's partner
account (`partner.submitter`) would open its submissions to empty feedback. Every unit
matches a deterministic sample of what the partners sent and it may see, then reports a few
actions, through the same store functions (and so the same policy checks and audit entries)
as `marsad match --record-sightings` and `marsad action record`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from sqlalchemy import func, select

from marsad.access.policy import Role, grant_for
from marsad.demo.names import UNITS
from marsad.model.actions import ActionKind
from marsad.model.organisation import OrgKind
from marsad.store import action_reads, match_reads
from marsad.store.engine import StoreError
from marsad.store.schema import actions_taken, assertions, sightings, submissions
from marsad.store.store import Store
from marsad.store.visibility import visible

SEEN_PER_UNIT = 24  # partners' records each unit finds in its own data
ACTED_PER_UNIT = 8  # of those, the ones it reports an action on

# What a national unit typically does about each kind of record, with the note it leaves.
RESPONSES: dict[str, tuple[tuple[ActionKind, str], ...]] = {
    "phishing": (
        (ActionKind.BLOCKED, "blocked at the national resolver"),
        (ActionKind.TAKEDOWN_REQUESTED, "takedown requested from the registrar"),
    ),
    "c2": ((ActionKind.BLOCKED, "blocked at the national gateways"),),
    "malware-distribution": (
        (ActionKind.BLOCKED, "blocked at the national gateways"),
        (ActionKind.TAKEDOWN_REQUESTED, "abuse report sent to the hosting provider"),
    ),
    "piracy": (
        (ActionKind.TAKEDOWN_REQUESTED, "takedown requested under the copyright act"),
        (ActionKind.TAKEN_DOWN, "site taken down by the hosting provider"),
    ),
    "investment-scam": (
        (ActionKind.VICTIM_NOTIFIED, "victims who paid into it contacted"),
        (ActionKind.INVESTIGATION_OPENED, "case opened with the financial crimes desk"),
    ),
    "romance-scam": ((ActionKind.VICTIM_NOTIFIED, "victims contacted by the local station"),),
    "bec": ((ActionKind.INVESTIGATION_OPENED, "case opened; bank asked to recall the transfer"),),
}
FALSE_POSITIVE = (ActionKind.FALSE_POSITIVE, "shared hosting: legitimate sites on the address")


def ensure_feedback(store: Store, *, seed: int = 2026) -> tuple[int, int]:
    """Plant the units' sightings and actions once; how many of each the instance holds."""
    if _counts(store) == (0, 0):
        _plant(store, seed)
    return _counts(store)


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        seen = conn.execute(select(func.count()).select_from(sightings)).scalar_one()
        acted = conn.execute(select(func.count()).select_from(actions_taken)).scalar_one()
    return int(seen), int(acted)


def _plant(store: Store, seed: int) -> None:
    partners = [o.id for o in store.list_orgs() if o.kind == OrgKind.PRIVATE_PARTNER]
    with store.engine.connect() as conn:
        latest: dt.datetime | None = conn.execute(
            select(func.max(submissions.c.received_at))
        ).scalar_one()
    if not partners or latest is None:
        return
    when: dt.datetime = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)  # SQLite: naive
    today = dt.datetime.now(dt.UTC).date()
    for day, (country, unit) in enumerate(sorted(UNITS.items())):
        try:
            viewer = store.viewer(unit, Role.ANALYST)
        except StoreError:  # a world without this unit
            continue
        grant = grant_for(viewer, today)
        a = assertions.c
        query = (
            select(a.id, a.threat_type)
            .where(a.source_org_id.in_(partners), visible(grant, assertions))
            .order_by(a.id)
        )
        with store.engine.connect() as conn:
            candidates = [(int(r.id), str(r.threat_type)) for r in conn.execute(query)]
        if not candidates:
            continue
        rng = random.Random(f"{seed}:{country}")
        seen = sorted(rng.sample(candidates, min(SEEN_PER_UNIT, len(candidates))))
        at = when + dt.timedelta(days=1 + day % 5, hours=day)
        counts = [(i, rng.randint(1, 40)) for i, _ in seen]
        match_reads.record_sightings(store, viewer, counts, f"{country} sensor logs", at)
        acted: dict[tuple[ActionKind, str], list[int]] = defaultdict(list)
        for i, threat in rng.sample(seen, min(ACTED_PER_UNIT, len(seen))):
            options = RESPONSES.get(threat)
            if options is None or rng.random() < 0.1:
                acted[FALSE_POSITIVE].append(i)
            else:
                acted[rng.choice(options)].append(i)
        for (kind, note), ids in sorted(acted.items()):
            action_reads.record(
                store, viewer, grant, ids, kind, note,
                actor=f"{country.lower()}.duty-officer", target=f"demo feedback of {unit}",
                now=at + dt.timedelta(hours=2), via="demo",
            )  # fmt: skip
