"""A small world of randomly marked assertions for the correlation and match tenant tests.

Organisations of every kind (a sub-unit, look-alike names), observables reported by one to
four sources under markings drawn over everything the policy cares about (owner vs source,
TLP, releasability tokens, retention around today, revocation) and each owner's random
"exists, ask the owner" choice. The Python twins below say what each viewer may learn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, text

from marsad.access.policy import PUBLIC, Grant, Mark, Viewer, grant_for, may_see
from marsad.model.organisation import make_organisation
from marsad.store.schema import assertion_sources, assertions, blobs, observables, submissions
from marsad.store.store import Store

TODAY = dt.date(2026, 11, 1)
ORGS = [  # name, kind, country, region, parent
    ("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific", None),
    ("Fiji", "national-cyber-unit", "FJ", "asia-south-pacific", None),
    ("Suva Desk", "national-cyber-unit", "FJ", "asia-south-pacific", "Fiji CCU"),
    ("ASP Desk", "regional-desk", "SG", "asia-south-pacific", None),
    ("Global Hub", "hub", "FR", "europe", None),
    ("France OFAC", "national-cyber-unit", "FR", "europe", None),
    ("PhishGuard", "private-partner", "AU", "asia-south-pacific", None),
]
TOKENS = [f"org:{o[0]}" for o in ORGS] + [
    "region:asia-south-pacific", "region:europe", "members", "partners", "org:Fiji C",
]  # fmt: skip


@dataclass
class World:
    """Planted records: assertion id → (observable id, mark, disclose, revoked)."""

    org_ids: dict[str, int]
    values: dict[int, tuple[str, str]] = field(
        default_factory=dict
    )  # observable id → (type, value)
    marks: dict[int, Mark] = field(default_factory=dict)
    observable_of: dict[int, int] = field(default_factory=dict)
    disclose: dict[int, bool] = field(default_factory=dict)
    revoked: dict[int, bool] = field(default_factory=dict)
    submissions_of: dict[int, list[int]] = field(default_factory=dict)

    def viewers(self, store: Store) -> list[tuple[Viewer, Grant]]:
        out = [(PUBLIC, grant_for(PUBLIC, TODAY))]
        for name in self.org_ids:
            viewer = store.viewer(name)
            out.append((viewer, grant_for(viewer, TODAY)))
        return out

    def visible(self, grant: Grant, obs_id: int) -> set[int]:
        return {
            a
            for a, o in self.observable_of.items()
            if o == obs_id and may_see(grant, self.marks[a])
        }

    def askable(self, grant: Grant, obs_id: int) -> set[int]:
        """Owners (ids) of records the grant does not cover but their owners disclose."""
        if grant.everything or not grant.own_org_ids:
            return set()
        return {
            self.marks[a].owner_org_id
            for a, o in self.observable_of.items()
            if o == obs_id and self.disclose[a] and not self.revoked[a]
            and not may_see(grant, self.marks[a])
            and (self.marks[a].retain_until is None or self.marks[a].retain_until >= grant.today)
        }  # fmt: skip


def build(store: Store, seed: int, n_observables: int = 40) -> World:
    """Plant the world in ``store`` with explicit ids."""
    rng = random.Random(seed)
    org_ids = {
        name: store.add_org(make_organisation(name, kind, country, region), parent=parent).id
        for name, kind, country, region, parent in ORGS
    }
    world = World(org_ids=org_ids)
    ids = list(org_ids.values())
    now = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    subs, blob_rows = [], []
    for sub_id in range(1, 3 * len(ids) + 1):
        raw = f"submission {sub_id}".encode()
        digest = hashlib.sha256(raw).hexdigest()
        blob_rows.append({"sha256": digest, "size": len(raw), "data": raw})
        subs.append({"id": sub_id, "source_org_id": ids[(sub_id - 1) % len(ids)], "sha256": digest,
                     "size": len(raw), "status": "ingested", "defaults": "{}", "received_at": now,
                     "completed_at": now})  # fmt: skip
    sub_of = {org: [s["id"] for s in subs if s["source_org_id"] == org] for org in ids}
    obs_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for obs_id in range(1, n_observables + 1):
        kind = "ipv4" if obs_id % 2 else "domain"
        value = f"10.{obs_id}.0.{obs_id % 250 + 1}" if kind == "ipv4" else f"mk{obs_id}.evil.net"
        obs_rows.append({"id": obs_id, "type": kind, "value": value,
                         "registered_domain": None if kind == "ipv4" else "evil.net"})  # fmt: skip
        world.values[obs_id] = (kind, value)
        for source in rng.sample(ids, rng.randint(1, 4)):
            a_id = len(a_rows) + 1
            owner = source if rng.random() < 0.7 else rng.choice(ids)
            retain = rng.choice([None, None, -3, 5])
            row: dict[str, Any] = {"id": a_id, "observable_id": obs_id, "source_org_id": source,
                   "owner_org_id": owner, "threat_type": rng.choice(["phishing", "c2"]),
                   "sightings": 1, "tlp": rng.randrange(5), "pap": rng.randrange(4),
                   "releasable_to": orjson.dumps(sorted(rng.sample(TOKENS, rng.choice([0, 1, 2])))).decode(),
                   "reliability": rng.choice("ABCF"), "credibility": rng.randint(1, 6),
                   "purpose": "threat-analysis",
                   "retain_until": None if retain is None else TODAY + dt.timedelta(days=retain),
                   "first_submission_id": 0, "last_submission_id": 0, "location": "line 1",
                   "disclose_exists": rng.random() < 0.5,
                   "revoked_at": now if rng.random() < 0.1 else None}  # fmt: skip
            chosen = rng.sample(sub_of[source], rng.randint(1, 2))
            row["first_submission_id"], row["last_submission_id"] = min(chosen), max(chosen)
            links += [{"assertion_id": a_id, "submission_id": s, "location": "line 1",
                       "sightings": 1} for s in chosen]  # fmt: skip
            a_rows.append(row)
            world.marks[a_id] = Mark(
                owner_org_id=owner, source_org_id=source, tlp=row["tlp"], pap=row["pap"],
                releasable_to=tuple(orjson.loads(row["releasable_to"])),
                retain_until=row["retain_until"],
            )  # fmt: skip
            world.observable_of[a_id] = obs_id
            world.disclose[a_id] = row["disclose_exists"]
            world.revoked[a_id] = row["revoked_at"] is not None
            world.submissions_of[a_id] = sorted(chosen)
    with store.engine.begin() as conn:
        conn.execute(insert(blobs), blob_rows)
        conn.execute(insert(submissions), subs)
        conn.execute(insert(observables), obs_rows)
        conn.execute(insert(assertions), a_rows)
        conn.execute(insert(assertion_sources), links)
        if not store.dialect.sqlite:
            for table in ("submissions", "observables", "assertions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    return world
