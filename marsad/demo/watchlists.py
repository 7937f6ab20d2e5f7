"""Demo watchlists: every national unit watches its country's IP space and its ccTLD, so the
alerts inbox of `make demo` shows what a unit would be told about its own country."""

from __future__ import annotations

from marsad.demo.names import UNITS
from marsad.products import alert_store
from marsad.store.store import Store


def ensure_watchlists(store: Store) -> int:
    """Add the entries that are missing; how many watchlist entries the units have."""
    have = {(e.org, e.kind, e.value) for e in alert_store.list_entries(store)}
    for country, unit in UNITS.items():
        for kind, value in (("country", country), ("cctld", country.lower())):
            if (unit, kind, value) not in have:
                alert_store.add_entry(store, unit, kind, value)
    return sum(1 for e in alert_store.list_entries(store) if e.org in UNITS.values())
