"""A token's last use: recorded on authentication, at most once a minute (both engines)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from marsad.access import identity
from marsad.access.policy import Role
from marsad.store.schema import api_tokens
from marsad.store.store import Store


def _last_used(store: Store, token_id: int) -> dt.datetime | None:
    [row] = [t for t in identity.list_tokens(store) if t.id == token_id]
    return row.last_used_at


def test_use_is_recorded_once_a_minute_not_on_every_request(orgs: Store) -> None:
    store = orgs
    identity.add_user(store, "ana", "Fiji CCU", Role.ANALYST, None)
    secret, row = identity.create_token(store, "ana")
    assert row.last_used_at is None
    identity.authenticate(store, secret)
    first = _last_used(store, row.id)
    assert first is not None
    assert abs(dt.datetime.now(dt.UTC) - first) < dt.timedelta(seconds=30)
    # within the minute: no write at all (the stored time is fresh), and a racing worker's
    # conditional update changes nothing either
    identity.authenticate(store, secret)
    assert _last_used(store, row.id) == first
    assert not identity.note_use(store, row.id, first + dt.timedelta(seconds=59))
    assert _last_used(store, row.id) == first
    # a minute later it is written again
    earlier = first - dt.timedelta(minutes=5)
    with store.engine.begin() as conn:
        conn.execute(
            update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=earlier)
        )
    identity.authenticate(store, secret)
    again = _last_used(store, row.id)
    assert again is not None and again > earlier + dt.timedelta(minutes=4)


def test_a_refused_token_records_no_use(orgs: Store) -> None:
    store = orgs
    identity.add_user(store, "bo", "Fiji CCU", Role.ANALYST, None)
    secret, row = identity.create_token(store, "bo")
    identity.revoke_token(store, row.prefix)
    with pytest.raises(identity.AccessDenied, match="invalid, expired or revoked token"):
        identity.authenticate(store, secret)
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(api_tokens.c.last_used_at).where(api_tokens.c.id == row.id)
        ).scalar_one()
    assert stored is None
