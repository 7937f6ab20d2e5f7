"""The regional threat assessment: chapters, sources, breakdown, and only what its reader sees."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from marsad.access import audit
from marsad.model.errors import MarsadError
from marsad.products import render
from marsad.products.assessment_data import assessment
from marsad.products.period import parse_period
from marsad.store.store import Store
from tests.products.conftest import pdf_pages
from tests.products.test_activity import squeeze
from tests.products.world import FJ_C2, FJ_PHISH, FJ_VICTIM, WS_PHISH, Fixed, build_fixed

Q4 = parse_period("2026-Q4")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_chapters_and_breakdown_for_the_desk(store: Store, fixed: Fixed) -> None:
    a = assessment(store, "asia-south-pacific", Q4, now=NOW)
    assert a.recipient == "ASP Desk" and a.countries_in_scope == 2 and a.tlp == "TLP:AMBER"
    assert [(c.threat, c.items) for c in a.chapters] == [
        ("phishing", 5), ("c2", 1), ("compromised", 1), ("investment-scam", 1)]  # fmt: skip
    phishing = a.chapters[0]
    assert phishing.countries == {"FJ": 4, "WS": 1}
    assert [(n.label, n.items) for n in phishing.networks] == [(f"network {fixed.network}", 3)]
    assert {k.value for k in phishing.notable} == {
        FJ_PHISH, WS_PHISH, "fiji-resolves.example.com", f"http://{FJ_PHISH}/login",
        "secret-samoa-only.com.fj"}  # the desk is its source  # fmt: skip
    assert a.by_source_kind == {"private-partner": 6, "regional-desk": 2}
    assert a.by_reliability == {"A": 1, "B": 7}
    assert [(r.country, r.infrastructure, r.victims) for r in a.by_country] == [
        ("FJ", 6, 1), ("WS", 1, 0)]  # fmt: skip
    assert any("takedown requests" in line for line in a.recommendations)
    assert len(a.outlook) == len(a.chapters)


def test_the_reader_sees_only_what_the_policy_allows(store: Store, fixed: Fixed) -> None:
    desk = msgspec.json.encode(assessment(store, "asia-south-pacific", Q4, now=NOW)).decode()
    desk += render.assessment_html(assessment(store, "asia-south-pacific", Q4, now=NOW))
    assert FJ_C2 in desk and FJ_VICTIM in desk and "secret-samoa-only" in desk  # its own
    for hidden in ("202.62.120.66", "secret-linked", "secret-benign", "invest-abroad"):
        assert hidden not in desk  # France's RED, a RED-only resolution, benign, Fiji's AMBER
    fiji = assessment(store, "asia-south-pacific", Q4, as_org="Fiji CCU", now=NOW)
    values = {i.value for items in fiji.annex.values() for i in items}
    assert "invest-abroad.example.net" in values and FJ_C2 in values
    partner = assessment(store, "asia-south-pacific", Q4, as_org="PhishGuard", now=NOW)
    assert FJ_C2 not in msgspec.json.encode(partner).decode()
    entry = audit.entries(store, action="report-assessment", limit=1)[0]
    assert entry.details["recipient"] == "PhishGuard"
    assert entry.details["ids"] == list(partner.assertion_ids)


def test_bad_region_and_missing_desk(store: Store, fixed: Fixed) -> None:
    with pytest.raises(MarsadError, match="unknown region 'mars'"):
        assessment(store, "mars", Q4)
    with pytest.raises(MarsadError, match="no regional-desk is registered for europe"):
        assessment(store, "europe", Q4)


def test_pdf_pages_and_text(sqlite_store: Store, tmp_path: Path) -> None:
    build_fixed(sqlite_store)
    a = assessment(sqlite_store, "asia-south-pacific", Q4, now=NOW)
    pages, text = pdf_pages(render.pdf_of(render.assessment_html(a)), tmp_path)
    assert len(pages) >= 4  # summary, a page per chapter, the breakdown, the annex
    flat = " ".join(text.split())
    for heading in ("Threat assessment — Asia South Pacific, 2026-Q4", "Executive summary",
                    "Methodology and sources", "1. phishing", "Top networks", "Notable cases",
                    "By country", "Outlook", "Recommendations"):  # fmt: skip
        assert heading in flat
    assert flat.count("TLP:AMBER") >= 2 * len(pages)
    packed = squeeze(text)
    assert squeeze(FJ_PHISH) in packed and "secretlinked" not in packed
