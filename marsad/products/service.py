"""Producing activity reports: recipient, reads, audit and files, in one place.

Each report is generated for one recipient (the country's national unit, or the
organisation given) and read only through that recipient's grant; every generation is
audited with the statements it disclosed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec
import pycountry

from marsad.access import audit
from marsad.access.policy import OPERATOR, Grant, Role, Viewer, grant_for
from marsad.model.errors import MarsadError
from marsad.model.organisation import normalize_country
from marsad.model.records import AssertionView
from marsad.products import render
from marsad.products.activity import ActivityReport, build_report
from marsad.products.activity_data import Locator, build_locator, findings, national_unit
from marsad.products.language import DEFAULT
from marsad.products.period import Period
from marsad.store.store import Store

ACTIVITY_FORMATS = ("html", "pdf", "stix", "csv", "json")


class Written(msgspec.Struct, frozen=True, kw_only=True):
    """One generated product and its files."""

    subject: str
    recipient: str
    tlp: str
    items: int
    files: list[str]


def written(report: ActivityReport, files: list[str]) -> Written:
    """What the CLI shows of a written activity report."""
    return Written(subject=f"{report.country} {report.period.label}", recipient=report.recipient,
                   tlp=report.tlp, items=len(report.items), files=files)  # fmt: skip


def country_name(code: str) -> str:
    """The English short name of an ISO 3166-1 alpha-2 code (the code if unknown)."""
    found = pycountry.countries.get(alpha_2=code.upper())
    return str(found.name) if found else code.upper()


def recipient(
    store: Store, country: str, as_org: str | None, today: dt.date | None = None
) -> tuple[Viewer, Grant]:
    """Who receives the report: ``as_org``, else the country's national unit."""
    name = as_org or national_unit(store, country)
    if name is None:
        raise MarsadError(
            f"no national cyber unit is registered for {country.upper()}: name the recipient with --as"
        )
    viewer = store.viewer(name, Role.ANALYST)
    return viewer, grant_for(viewer, today or dt.date.today())


def activity_report(
    store: Store,
    country: str,
    period: Period,
    *,
    as_org: str | None = None,
    locator: Locator | None = None,
    now: dt.datetime | None = None,
) -> tuple[ActivityReport, list[AssertionView]]:
    """Build (and audit) one country's report for its recipient, with the statements it
    lists (for the STIX annex)."""
    code = normalize_country(country)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    viewer, grant = recipient(store, code, as_org, now.date())
    found = findings(store, locator or build_locator(store), grant, code, period)
    report = build_report(
        found, country=code, country_name=country_name(code), viewer=viewer, grant=grant,
        period=period, now=now,
    )  # fmt: skip
    audit.record(
        store, OPERATOR, "report-activity", f"{code} {period.label}",
        purpose="threat-analysis",
        details={"recipient": viewer.label, "tlp": report.tlp,
                 **audit.id_summary(list(report.assertion_ids))},
    )  # fmt: skip
    return report, [f.stored.view for f in found]


def write(
    report: ActivityReport,
    annex: Sequence[AssertionView],
    formats: Sequence[str],
    folder: Path,
    lang: str = DEFAULT,
) -> list[str]:
    """Write the report in each format under ``folder`` (HTML and PDF in ``lang``; the CSV,
    STIX and JSON forms are the same in every language); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"activity-{report.country}-{report.period.label.replace('..', '_')}"
    paths: list[str] = []
    for fmt in formats:
        path = folder / f"{stem}.{'stix.json' if fmt == 'stix' else fmt}"
        if fmt == "html":
            path.write_text(render.html(report, lang), encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(render.pdf(report, lang))
        elif fmt == "csv":
            path.write_text(render.csv_rows(report), encoding="utf-8")
        elif fmt == "stix":
            path.write_bytes(render.stix(report, annex))
        elif fmt == "json":
            path.write_bytes(msgspec.json.encode(report))
        else:
            raise MarsadError(f"unknown report format {fmt!r}: use {', '.join(ACTIVITY_FORMATS)}")
        paths.append(str(path))
    return paths


def write_pages(
    stem: str,
    html_text: Callable[[], str],
    data: object,
    formats: Sequence[str],
    folder: Path,
) -> list[str]:
    """Write a product as HTML, PDF and its JSON twin under ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    page = ""
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        if fmt in ("html", "pdf") and not page:
            page = html_text()
        if fmt == "html":
            path.write_text(page, encoding="utf-8")
        elif fmt == "pdf":
            path.write_bytes(render.pdf_of(page))
        elif fmt == "json":
            path.write_bytes(msgspec.json.encode(data))
        else:
            raise MarsadError(f"unknown format {fmt!r} for this product: use html, pdf or json")
        paths.append(str(path))
    return paths
