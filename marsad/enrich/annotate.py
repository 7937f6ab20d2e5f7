"""What Marsad knows offline about a handful of observables, in one record each.

This is the row form used by the CLI (`marsad search`, `marsad enrich show`); bulk work
uses the columnar calls it is built from (`WarninglistMatcher.match`, `lookup_asn`,
`country_codes`), one call per observable type.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from marsad.enrich.asn import AsnTable, asn_of
from marsad.enrich.geo import country_codes
from marsad.enrich.warninglists import WarninglistHit, WarninglistMatcher
from marsad.model.normalize import registered_domain
from marsad.model.observable import Observable, ObservableType

T = ObservableType
_IPS = (T.IPV4, T.IPV6)


class Enrichment(msgspec.Struct, frozen=True):
    """One observable with its registered domain, country, AS and warninglist hits."""

    type: str
    value: str
    registered_domain: str | None = None
    country: str | None = None
    asn: int | None = None
    as_owner: str | None = None
    warninglists: tuple[WarninglistHit, ...] = ()

    @property
    def known_benign(self) -> bool:
        """Flagged by at least one warninglist (flagged, never dropped)."""
        return bool(self.warninglists)


def _domain_of(obs: Observable) -> str | None:
    if obs.type is T.DOMAIN:
        return obs.value
    if obs.type is T.EMAIL:
        return obs.value.rpartition("@")[2]
    if obs.type is T.URL:
        host = obs.value.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
        return None if host.startswith("[") else host.partition(":")[0]
    return None


def enrich(
    observables: Sequence[Observable],
    *,
    warninglists: WarninglistMatcher | None,
    asn: AsnTable | None,
) -> list[Enrichment]:
    """Enrich each observable (normalised) from the offline sources given."""
    ips = [i for i, o in enumerate(observables) if o.type in _IPS]
    countries = dict(zip(ips, country_codes([observables[i].value for i in ips]), strict=True))
    owners = (
        dict(zip(ips, asn_of(asn, [observables[i].value for i in ips]), strict=True))
        if asn is not None
        else {}
    )
    out: list[Enrichment] = []
    for i, obs in enumerate(observables):
        domain = _domain_of(obs)
        registered = registered_domain(domain) if domain else None
        owner = owners.get(i)
        hits = warninglists.lookup(obs.type, obs.value) if warninglists else []
        out.append(
            Enrichment(
                type=obs.type.value,
                value=obs.value,
                registered_domain=registered,
                country=countries.get(i),
                asn=owner.asn if owner else None,
                as_owner=owner.owner if owner else None,
                warninglists=tuple(hits),
            )
        )
    return out
