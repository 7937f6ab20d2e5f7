"""Sign-in throttling: too many recent failures for a user name or an address refuse a while.

The failures are the audit log's own "login" denials (it is shared by every process of an
instance, and a restart forgets nothing), counted in SQL over the last `WINDOW`. A user
name locks after `PER_USER` failures; an address after `PER_ADDRESS` (higher, since many
people may share one behind a proxy). Refusals are audited like failures, so an attacker
who keeps trying stays locked out until they stop for a whole window.
"""

from __future__ import annotations

import datetime as dt

import orjson
from sqlalchemy import and_, func, or_, select

from marsad.store.schema import audit_log
from marsad.store.store import Store

WINDOW = dt.timedelta(minutes=15)
PER_USER = 5
PER_ADDRESS = 20


def address_detail(address: str) -> str:
    """How the address appears in a failure's details (sorted-keys JSON, as audit writes it)."""
    return orjson.dumps({"address": address}).decode()[1:-1]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def locked(store: Store, username: str, address: str, now: dt.datetime | None = None) -> bool:
    """Whether sign-in for this user name, or from this address, is refused for now."""
    since = (now or dt.datetime.now(dt.UTC)) - WINDOW
    c = audit_log.c
    recent = and_(c.action == "login", c.outcome == "deny", c.actor == "anonymous", c.at >= since)
    by_address = c.details.like(f"%{_like(address_detail(address))}%", escape="\\")
    query = select(
        func.count().filter(c.target == username),
        func.count().filter(by_address),
    ).where(recent, or_(c.target == username, by_address))
    with store.engine.connect() as conn:
        row = conn.execute(query).one()
    return int(row[0]) >= PER_USER or int(row[1]) >= PER_ADDRESS
