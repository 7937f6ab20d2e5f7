"""Producing a threat assessment: scope, recipient, reads and audit.

The region's member countries are those of its national units; the recipient is the
region's desk (the hub for ``global``) unless another organisation is named. Every
country's items are read exactly as its activity report would be, but through the
assessment recipient's grant, so the assessment never holds more than its reader may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from marsad.access import audit
from marsad.access.policy import OPERATOR, Role, grant_for
from marsad.model.errors import MarsadError
from marsad.model.handling import Region
from marsad.products.activity import build_report
from marsad.products.activity_data import Locator, build_locator, findings
from marsad.products.assessment import Assessment, build_assessment
from marsad.products.language import DEFAULT, checked
from marsad.products.period import Period
from marsad.products.service import country_name
from marsad.store.schema import organisations
from marsad.store.store import Store

GLOBAL = "global"
UNIT_KINDS = ("national-cyber-unit", "national-central-bureau")


def region_of(text: str) -> str:
    """A region name, or ``global``; a clear error for anything else."""
    if text == GLOBAL or text in {r.value for r in Region}:
        return text
    raise MarsadError(
        f"unknown region {text!r}: use global or one of {', '.join(r.value for r in Region)}"
    )


def countries_of(store: Store, region: str) -> list[str]:
    """The countries of the region's national units (every member country for global)."""
    o = organisations.c
    query = select(o.country).where(o.kind.in_(UNIT_KINDS), o.country.is_not(None)).distinct()
    if region != GLOBAL:
        query = query.where(o.region == region)
    with store.engine.connect() as conn:
        found: list[Any] = list(conn.execute(query).scalars())
    return sorted(str(c) for c in found)


def default_recipient(store: Store, region: str) -> str:
    """The region's desk, or the hub for a global assessment."""
    o = organisations.c
    kind = "hub" if region == GLOBAL else "regional-desk"
    query = select(o.name).where(o.kind == kind, o.parent_org_id.is_(None)).order_by(o.name)
    if region != GLOBAL:
        query = query.where(o.region == region)
    with store.engine.connect() as conn:
        name = conn.execute(query.limit(1)).scalar_one_or_none()
    if name is None:
        raise MarsadError(f"no {kind} is registered for {region}: name the recipient with --as")
    return str(name)


def source_kinds(store: Store) -> dict[str, str]:
    """Organisation name -> kind, for counting sources by kind."""
    with store.engine.connect() as conn:
        rows: Any = conn.execute(select(organisations.c.name, organisations.c.kind)).all()
    return {str(n): str(k) for n, k in rows}


def assessment(
    store: Store,
    region: str,
    period: Period,
    *,
    as_org: str | None = None,
    now: dt.datetime | None = None,
    locator: Locator | None = None,
    annex_rows: int = 25,
    lang: str = DEFAULT,
) -> Assessment:
    """Build (and audit) the assessment of a region for its recipient, worded in ``lang``."""
    lang = checked(lang)
    region = region_of(region)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    viewer = store.viewer(as_org or default_recipient(store, region), Role.ANALYST)
    grant = grant_for(viewer, now.date())
    loc = locator or build_locator(store)
    reports = [
        build_report(findings(store, loc, grant, code, period), country=code,
                     country_name=country_name(code), viewer=viewer, grant=grant,
                     period=period, now=now)
        for code in countries_of(store, region)
    ]  # fmt: skip
    result = build_assessment(
        reports, region=region, recipient=viewer.label, period=period, now=now,
        source_kinds=source_kinds(store), annex_rows=annex_rows, lang=lang,
    )  # fmt: skip
    audit.record(
        store, OPERATOR, "report-assessment", f"{region} {period.label}",
        purpose="threat-analysis",
        details={"recipient": viewer.label, "tlp": result.tlp,
                 **audit.id_summary(list(result.assertion_ids))},
    )  # fmt: skip
    return result
