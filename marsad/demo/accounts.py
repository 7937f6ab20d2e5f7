"""Demo accounts: one user per role and kind of organisation, so every view can be tried."""

from __future__ import annotations

import msgspec

from marsad.access import identity
from marsad.access.policy import Role
from marsad.demo.names import UNITS
from marsad.demo.world import DESK, HUB, VENDOR
from marsad.store.store import Store

PASSWORD = "marsad-demo-2026"
"""Printed by `marsad demo`: a demo instance is not a place for real secrets."""

ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("admin", HUB, Role.ADMINISTRATOR),
    ("hub.analyst", HUB, Role.ANALYST),
    ("hub.auditor", HUB, Role.AUDITOR),
    ("desk.analyst", DESK, Role.ANALYST),
    ("fiji.officer", UNITS["FJ"], Role.OFFICER),
    ("fiji.viewer", UNITS["FJ"], Role.READ_ONLY),
    ("partner.submitter", VENDOR, Role.PARTNER_SUBMITTER),
)


class DemoAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A demo login."""

    user: str
    organisation: str
    role: Role
    password: str


def ensure_accounts(store: Store) -> list[DemoAccount]:
    """Create the demo users that do not exist yet; return all of them."""
    existing = {u.name for u in identity.list_users(store)}
    for name, org, role in ACCOUNTS:
        if name not in existing:
            identity.add_user(store, name, org, role, PASSWORD)
    return [DemoAccount(user=n, organisation=o, role=r, password=PASSWORD) for n, o, r in ACCOUNTS]
