"""A marked world for the cross-tenant test: organisations, callers, and planted records.

Every planted record carries a marker that appears nowhere else: ``mkaNNNNNq`` in an
assertion's name and description, ``mkvNNNNNq`` in an observable's value, ``mkeNNNNNq``
in an entity's name, ``mkrNNNNNq`` / ``mkzNNNNNq`` in a relationship's target ref and
description, ``mksNNNNNq`` in a submission's file name, raw bytes and rejections (NNNNN
is the record's id). Whatever format a route answers in, a marker in its body names the
record it leaked; `leaks` then asks the policy whether the caller may see that record.

Markings are drawn from a seeded generator over the whole space the policy cares about:
owner and source (the same or not), TLP, PAP, releasability tokens (named units, look-alike
names, regions, groups), retention around today.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import insert, text

from marsad.access.policy import PUBLIC, Grant, Mark, Role, Viewer, grant_for, may_see
from marsad.model.normalize import normalize, registered_domain
from marsad.model.observable import ObservableType
from marsad.model.organisation import make_organisation
from marsad.store.schema import (
    assertions,
    blobs,
    entities,
    observables,
    rejections,
    relationships,
    submissions,
)
from marsad.store.store import Store
from tests.access.tenants import ORGS, TOKENS
from tests.exchange.conftest import TODAY, Api

THREATS = ("phishing", "c2", "malware-distribution", "investment-scam", "piracy")
ENTITY_KINDS = ("threat-actor", "intrusion-set", "campaign", "malware")
REL_TYPES = ("uses", "indicates", "attributed-to")
TLDS = ("org", "net", "com")
MARKER = re.compile(rb"mk([aversz])(\d{5})q")
NS = uuid.UUID("6f1c8a52-47a3-4bd0-9f3e-3f4f2b0c9d11")


@dataclass(frozen=True)
class Caller:
    """One way of calling the API: an organisation and role with a token, or none."""

    label: str
    headers: dict[str, str]
    grant: Grant
    authenticated: bool


@dataclass
class World:
    """The planted records, their markings, and the callers."""

    api: Api
    callers: list[Caller] = field(default_factory=list)
    assertions: dict[int, Mark] = field(default_factory=dict)
    observables: dict[int, tuple[ObservableType, str, list[int]]] = field(default_factory=dict)
    entities: dict[int, Mark] = field(default_factory=dict)
    entity_refs: list[str] = field(default_factory=list)
    relationships: dict[int, Mark] = field(default_factory=dict)
    target_refs: list[str] = field(default_factory=list)
    submissions: dict[int, int] = field(default_factory=dict)  # id -> source organisation id
    org_names: list[str] = field(default_factory=list)

    def observable_visible(self, grant: Grant, obs_id: int) -> bool:
        return any(may_see(grant, self.assertions[a]) for a in self.observables[obs_id][2])


def leaks(world: World, grant: Grant, asked: bytes, body: bytes) -> list[str]:
    """Markers in ``body`` (not echoed from ``asked``) of records the grant does not cover."""
    echoed = set(MARKER.findall(asked))
    rules: dict[bytes, Callable[[int], bool]] = {
        b"a": lambda n: may_see(grant, world.assertions[n]),
        b"v": lambda n: world.observable_visible(grant, n),
        b"e": lambda n: may_see(grant, world.entities[n]),
        b"r": lambda n: may_see(grant, world.relationships[n]),
        b"z": lambda n: may_see(grant, world.relationships[n]),
        b"s": lambda n: grant.everything or world.submissions[n] in grant.own_org_ids,
    }
    return sorted(
        f"mk{kind.decode()}{num.decode()}q"
        for kind, num in set(MARKER.findall(body)) - echoed
        if not rules[kind](int(num))
    )


def _handling(rng: random.Random) -> dict[str, Any]:
    retain = rng.choice([None, None, None, -30, -1, 0, 1, 30])
    return {
        "tlp": rng.randrange(5),
        "pap": rng.randrange(4),
        "releasable_to": orjson.dumps(
            sorted(rng.sample(TOKENS, rng.choice([0, 0, 1, 1, 2, 3])))
        ).decode(),
        "reliability": rng.choice("ABCDEF"),
        "credibility": rng.randint(1, 6),
        "purpose": "threat-analysis",
        "retain_until": None if retain is None else TODAY + dt.timedelta(days=retain),
    }


def _mark(row: dict[str, Any], owner: int | None = None) -> Mark:
    return Mark(
        owner_org_id=owner if owner is not None else row["source_org_id"],
        source_org_id=row["source_org_id"], tlp=row["tlp"], pap=row["pap"],
        releasable_to=tuple(orjson.loads(row["releasable_to"])), retain_until=row["retain_until"],
    )  # fmt: skip


def _when(rng: random.Random) -> tuple[dt.datetime, dt.datetime]:
    first = dt.datetime(2025, 6, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(12000))
    return first, first + dt.timedelta(hours=rng.randrange(2000))


def _observable_value(kind: ObservableType, n: int, tld: str) -> str:
    host = f"mkv{n:05d}q.example.{tld}"
    raw = {ObservableType.DOMAIN: host, ObservableType.URL: f"https://{host}/p/{n}",
           ObservableType.EMAIL: f"x{n}@{host}"}[kind]  # fmt: skip
    return normalize(kind, raw)


def build_world(store: Store, *, seed: int = 20261123, unique: int = 220, shared: int = 40,
                n_entities: int = 100, n_relationships: int = 100) -> World:  # fmt: skip
    """Plant the marked records in ``store`` and create a token per organisation and role."""
    rng = random.Random(seed)
    ids = {name: store.add_org(make_organisation(name, kind, None, region), parent=parent).id
           for name, kind, region, parent in ORGS}  # fmt: skip
    world = World(api=Api(store), org_names=list(ids))
    org_ids = list(ids.values())
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    subs, blob_rows, rejects = [], [], []
    for sub_id in range(1, 3 * len(org_ids) + 1):
        source = org_ids[(sub_id - 1) % len(org_ids)]
        raw = f"# mks{sub_id:05d}q\nnot-a-value-mks{sub_id:05d}q\n".encode()
        digest = hashlib.sha256(raw).hexdigest()
        blob_rows.append({"sha256": digest, "size": len(raw), "data": raw})
        subs.append({"id": sub_id, "source_org_id": source, "sha256": digest, "size": len(raw),
                     "filename": f"feed-mks{sub_id:05d}q.txt", "format": "list",
                     "status": "ingested", "defaults": "{}", "received_at": now, "completed_at": now,
                     "records": 1, "rejected": 1})  # fmt: skip
        rejects.append({"submission_id": sub_id, "location": "line 2",
                        "reason": "not a value", "raw": f"not-a-value-mks{sub_id:05d}q"})  # fmt: skip
        world.submissions[sub_id] = source
    sub_of = {org: [s["id"] for s in subs if s["source_org_id"] == org] for org in org_ids}

    obs_rows, a_rows = [], []
    kinds = [ObservableType.DOMAIN, ObservableType.URL, ObservableType.EMAIL]
    for obs_id in range(1, unique + shared + 1):
        kind, tld = kinds[obs_id % 3], TLDS[obs_id % 5 % 3]
        value = _observable_value(kind, obs_id, tld)
        obs_rows.append({"id": obs_id, "type": kind.value, "value": value,
                         "registered_domain": registered_domain(f"mkv{obs_id:05d}q.example.{tld}")})  # fmt: skip
        sources = (
            [rng.choice(org_ids)] if obs_id <= unique else rng.sample(org_ids, rng.randint(2, 4))
        )
        listed: list[int] = []
        for source in sources:
            a_id = len(a_rows) + 1
            owner = source if rng.random() < 0.6 else rng.choice(org_ids)
            first, last = _when(rng)
            sub = rng.choice(sub_of[source])
            row = {"id": a_id, "observable_id": obs_id, "source_org_id": source,
                   "owner_org_id": owner, "threat_type": rng.choice(THREATS), "sightings": 1,
                   "first_seen": first, "last_seen": last, "confidence": rng.randint(0, 100),
                   **_handling(rng), "first_submission_id": sub, "last_submission_id": sub,
                   "location": "line 1", "name": f"mka{a_id:05d}q",
                   "description": f"said by mka{a_id:05d}q"}  # fmt: skip
            a_rows.append(row)
            world.assertions[a_id] = _mark(row, owner)
            listed.append(a_id)
        world.observables[obs_id] = (kind, value, listed)

    e_rows = []
    for e_id in range(1, n_entities + 1):
        kind, source = rng.choice(ENTITY_KINDS), rng.choice(org_ids)
        ref = f"{kind}--{uuid.uuid5(NS, f'entity-{e_id}')}"
        first, last = _when(rng)
        sub = rng.choice(sub_of[source])
        row = {"id": e_id, "ref": ref, "kind": kind, "name": f"Actor mke{e_id:05d}q",
               "description": f"about mke{e_id:05d}q", "attributes": "{}",
               "source_org_id": source, **_handling(rng), "first_seen": first, "last_seen": last,
               "first_submission_id": sub, "last_submission_id": sub, "location": "$[0]"}  # fmt: skip
        e_rows.append(row)
        world.entities[e_id] = _mark(row)
        world.entity_refs.append(ref)

    r_rows = []
    for r_id in range(1, n_relationships + 1):
        source = rng.choice(org_ids)
        target = f"domain:mkr{r_id:05d}q.example.org"
        sub = rng.choice(sub_of[source])
        row = {"id": r_id, "source_ref": rng.choice(world.entity_refs), "type": rng.choice(REL_TYPES),
               "target_ref": target, "source_org_id": source, **_handling(rng),
               "stix_id": f"relationship--{uuid.uuid5(NS, f'rel-{r_id}')}",
               "attributes": orjson.dumps({"description": f"edge mkz{r_id:05d}q"}).decode(),
               "count": 1, "first_submission_id": sub, "last_submission_id": sub,
               "location": "$[1]"}  # fmt: skip
        r_rows.append(row)
        world.relationships[r_id] = _mark(row)
        world.target_refs.append(target)

    with store.engine.begin() as conn:
        conn.execute(insert(blobs), blob_rows)
        conn.execute(insert(submissions), subs)
        conn.execute(insert(rejections), rejects)
        conn.execute(insert(observables), obs_rows)
        conn.execute(insert(assertions), a_rows)
        conn.execute(insert(entities), e_rows)
        conn.execute(insert(relationships), r_rows)
        if not store.dialect.sqlite:  # explicit ids: move the sequences past them
            for table in ("submissions", "observables", "assertions", "entities", "relationships"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))  # fmt: skip

    for name in ids:
        for role in Role:
            viewer: Viewer = store.viewer(name, role)
            world.callers.append(Caller(f"{name} ({role.value})", world.api.auth(name, role),
                                        grant_for(viewer, TODAY), True))  # fmt: skip
    public = grant_for(PUBLIC, TODAY)
    world.callers += [
        Caller("no token", {}, public, False),
        Caller("unknown token", {"Authorization": "Bearer msd_" + "x" * 43}, public, False),
        Caller("not bearer", {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, public, False),
    ]
    return world
