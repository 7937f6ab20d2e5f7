"""What federation keeps in the store: the instance id, sync bookmarks and revocations.

A revoked assertion keeps its row (its provenance and audit trail stay whole) and gets
``revoked_at``; STIX forbids un-revoking, so nothing ever clears it. The TAXII server
serves it with ``revoked: true`` so that instances pulling from this one learn of it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import insert, select, tuple_, update

from marsad.store.schema import assertions, instance_state, observables
from marsad.store.store import Store

INSTANCE_ID = "instance-id"


def get_state(store: Store, key: str) -> str | None:
    """A stored fact of this instance, if set."""
    with store.engine.connect() as conn:
        value = conn.execute(
            select(instance_state.c.value).where(instance_state.c.key == key)
        ).scalar_one_or_none()
    return str(value) if value is not None else None


def set_state(store: Store, key: str, value: str) -> None:
    """Set (or replace) a stored fact of this instance."""
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        done = conn.execute(
            update(instance_state)
            .where(instance_state.c.key == key)
            .values(value=value, updated_at=now)
        ).rowcount
        if not done:
            conn.execute(insert(instance_state).values(key=key, value=value, updated_at=now))


def instance_id(store: Store) -> str:
    """This instance's random id (minted by migration 0003)."""
    found = get_state(store, INSTANCE_ID)
    if found is None:  # pragma: no cover - the migration always sets it
        raise LookupError("the instance has no id: run `marsad init` to migrate it")
    return found


def revoke(
    store: Store, source_org_id: int, keys: Iterable[tuple[str, str, str]], at: dt.datetime
) -> int:
    """Mark revoked the assertions of a source with these (type, value, threat type) keys."""
    by_threat: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for obs_type, value, threat in keys:
        by_threat[threat].append((obs_type, value))
    done = 0
    with store.engine.begin() as conn:
        for threat, pairs in by_threat.items():
            for start in range(0, len(pairs), 500):
                obs_ids = select(observables.c.id).where(
                    tuple_(observables.c.type, observables.c.value).in_(pairs[start : start + 500])
                )
                done += conn.execute(
                    update(assertions)
                    .where(
                        assertions.c.source_org_id == source_org_id,
                        assertions.c.threat_type == threat,
                        assertions.c.revoked_at.is_(None),
                        assertions.c.observable_id.in_(obs_ids),
                    )
                    .values(revoked_at=at)
                ).rowcount
    return done
