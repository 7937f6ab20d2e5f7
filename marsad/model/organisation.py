"""Organisations: who submits, owns and receives data."""

from __future__ import annotations

from enum import StrEnum

import msgspec
import pycountry

from marsad.model.errors import MarsadError
from marsad.model.handling import Region


class OrgKind(StrEnum):
    """What an organisation is in the cooperation network."""

    NATIONAL_CYBER_UNIT = "national-cyber-unit"
    NATIONAL_CENTRAL_BUREAU = "national-central-bureau"
    REGIONAL_DESK = "regional-desk"
    HUB = "hub"
    PRIVATE_PARTNER = "private-partner"


class InvalidOrganisation(MarsadError, ValueError):
    """An organisation whose name, kind, country or region is not acceptable."""


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    """A member unit, desk, hub or private partner."""

    name: str
    kind: OrgKind
    country: str | None = None
    region: Region | None = None


def normalize_country(code: str) -> str:
    """ISO 3166-1 alpha-2 code, upper case; accepts alpha-3 and exact English names."""
    text = code.strip()
    found = (
        pycountry.countries.get(alpha_2=text.upper())
        if len(text) == 2
        else pycountry.countries.get(alpha_3=text.upper())
        if len(text) == 3
        else pycountry.countries.get(name=text)
    )
    if found is None:
        raise InvalidOrganisation(
            f"unknown country {code!r}: expected an ISO 3166-1 code like FJ or FJI"
        )
    return str(found.alpha_2)


def make_organisation(
    name: str, kind: str, country: str | None, region: str | None
) -> Organisation:
    """Validate and build an Organisation, with one clear sentence on any bad field."""
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise InvalidOrganisation("organisation name must be 1-200 characters")
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise InvalidOrganisation(
            f"unknown organisation kind {kind!r}; expected one of "
            + ", ".join(k.value for k in OrgKind)
        ) from None
    try:
        org_region = Region(region) if region else None
    except ValueError:
        raise InvalidOrganisation(
            f"unknown region {region!r}; expected one of " + ", ".join(r.value for r in Region)
        ) from None
    return Organisation(
        name=clean,
        kind=org_kind,
        country=normalize_country(country) if country else None,
        region=org_region,
    )
