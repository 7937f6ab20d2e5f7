"""The per-country activity report: the right items, actions, handling, files and audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import orjson
import pytest
from stix2validator import ValidationOptions, validate_string

from marsad.access import audit
from marsad.model.errors import MarsadError
from marsad.products import render
from marsad.products.activity import LEAD, NOTIFY, TAKEDOWN
from marsad.products.period import parse_period
from marsad.products.service import activity_report, write
from marsad.store.store import Store
from tests.products.conftest import pdf_pages
from tests.products.world import (
    FJ_C2,
    FJ_PHISH,
    FJ_VICTIM,
    WS_PHISH,
    Fixed,
)

OCTOBER = parse_period("2026-10")
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
FIJI_INFRA = {
    FJ_PHISH: "IP geolocated in FJ",
    FJ_C2: "IP geolocated in FJ",
    "bank-fiji-login.com.fj": ".fj domain",
    "fiji-resolves.example.com": f"resolves to {FJ_PHISH}",
    f"http://{FJ_PHISH}/login": f"hosted on {FJ_PHISH}",
}
FIJI_VICTIMS = {FJ_VICTIM, "invest-abroad.example.net"}


def squeeze(text: str) -> str:
    """Text without the spaces, line breaks and hyphens that wrapping adds or removes."""
    return "".join(text.split()).replace("-", "")


def _all_text(store: Store, country: str, tmp_path: Path, as_org: str | None = None) -> str:
    report, annex = activity_report(store, country, OCTOBER, as_org=as_org, now=NOW)
    paths = write(report, annex, ["html", "csv", "stix", "json"], tmp_path)
    return "\n".join(Path(p).read_text(encoding="utf-8") for p in paths)


def test_fiji_gets_its_infrastructure_and_victims_and_nothing_else(
    store: Store, fixed: Fixed
) -> None:
    report, _ = activity_report(store, "FJ", OCTOBER, now=NOW)
    assert report.recipient == "Fiji CCU"
    assert {i.value: i.located_by for i in report.infrastructure} == FIJI_INFRA
    assert {i.value for i in report.victims} == FIJI_VICTIMS
    assert report.tlp == "TLP:AMBER"  # the desk's AMBER statement about FJ_C2
    assert report.by_threat_type == {"phishing": 3, "investment-scam": 2, "c2": 1, "compromised": 1}
    assert sum(report.over_time.values()) == len(report.items) == 7
    assert next(iter(report.over_time)) == "2026-10-01" and len(report.over_time) == 31


def test_actions_follow_pap_and_the_policy(store: Store, fixed: Fixed) -> None:
    report, _ = activity_report(store, "FJ", OCTOBER, now=NOW)
    action = {i.value: (i.action, i.action_pap) for i in report.items}
    assert action[FJ_PHISH] == (TAKEDOWN, "PAP:GREEN")
    assert action["bank-fiji-login.com.fj"] == (TAKEDOWN, "PAP:CLEAR")
    assert action[FJ_C2] == (LEAD, "PAP:AMBER")  # the desk's PAP:AMBER: passive use only
    assert action[FJ_VICTIM] == (NOTIFY, "PAP:GREEN")
    # a scam site abroad that Fiji's unit reported (PAP:RED, but Fiji owns the record)
    assert action["invest-abroad.example.net"] == (TAKEDOWN, "PAP:RED")


def test_evidence_carries_source_grading(store: Store, fixed: Fixed) -> None:
    report, _ = activity_report(store, "FJ", OCTOBER, now=NOW)
    c2 = next(i for i in report.items if i.value == FJ_C2)
    assert [(e.source, e.grading, e.tlp) for e in c2.evidence] == [("ASP Desk", "A1", "TLP:AMBER")]


def test_networks_join_only_through_visible_evidence(store: Store, fixed: Fixed) -> None:
    fiji, _ = activity_report(store, "FJ", OCTOBER, now=NOW)
    net = {i.value: i.cluster_id for i in fiji.items}
    joined = {FJ_PHISH, "fiji-resolves.example.com", f"http://{FJ_PHISH}/login"}
    assert {net[v] for v in joined} == {fixed.network}
    assert net[FJ_C2] is None  # linked to the others only by France's TLP:RED edge
    assert [(n.label, n.items) for n in fiji.networks] == [(f"network {fixed.network}", 3)]
    france, _ = activity_report(store, "FJ", OCTOBER, as_org="France OFAC", now=NOW)
    linked = {i.value: i.cluster_id for i in france.items}
    assert linked["secret-linked.example.org"] == linked[FJ_PHISH] == fixed.network


def test_no_file_holds_what_the_recipient_may_not_see(
    store: Store, fixed: Fixed, tmp_path: Path
) -> None:
    fiji = _all_text(store, "FJ", tmp_path / "fj")
    for value in (*FIJI_INFRA, *FIJI_VICTIMS):
        assert value in fiji
    assert "secret" not in fiji  # RED to France, AMBER to Samoa, RED-only resolution, benign
    assert "202.62.120.70" not in fiji and "202.62.120.71" not in fiji  # August, revoked
    assert WS_PHISH not in fiji and "France OFAC" not in fiji
    samoa = _all_text(store, "WS", tmp_path / "ws")
    assert WS_PHISH in samoa and FJ_PHISH not in samoa and "TLP:GREEN" in samoa
    partner = _all_text(store, "FJ", tmp_path / "pg", as_org="PhishGuard")
    assert FJ_C2 not in partner and "invest-abroad" not in partner


def test_csv_and_stix_annexes_list_the_items(store: Store, fixed: Fixed, tmp_path: Path) -> None:
    report, annex = activity_report(store, "FJ", OCTOBER, now=NOW)
    rows = list(csv.DictReader(io.StringIO(render.csv_rows(report))))
    assert {r["value"] for r in rows} == set(FIJI_INFRA) | FIJI_VICTIMS
    c2 = next(r for r in rows if r["value"] == FJ_C2)
    assert (c2["recommended_action"], c2["grading"], c2["tlp"]) == (LEAD, "A1", "TLP:AMBER")
    bundle = render.stix(report, annex)
    result = validate_string(bundle.decode(), ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, result.as_dict()
    indicators = [o for o in orjson.loads(bundle)["objects"] if o["type"] == "indicator"]
    assert len(indicators) == len(report.assertion_ids) == 7
    assert not any("secret" in o["pattern"] for o in indicators)


def test_generation_is_audited_with_the_recipient(store: Store, fixed: Fixed) -> None:
    report, _ = activity_report(store, "FJ", OCTOBER, now=NOW)
    entry = audit.entries(store, action="report-activity", limit=1)[0]
    assert entry.target == "FJ 2026-10"
    assert entry.details["recipient"] == "Fiji CCU"
    assert entry.details["ids"] == list(report.assertion_ids)
    assert audit.verify(store).ok


def test_bad_requests_say_what_is_wrong(store: Store, fixed: Fixed) -> None:
    with pytest.raises(MarsadError, match="no national cyber unit is registered for SG"):
        activity_report(store, "SG", OCTOBER)
    with pytest.raises(MarsadError, match="unknown country"):
        activity_report(store, "XX", OCTOBER)
    with pytest.raises(MarsadError, match="no month 13"):
        parse_period("2026-13")


def test_pdf_pages_and_text(sqlite_store: Store, tmp_path: Path) -> None:
    from tests.products.world import build_fixed

    build_fixed(sqlite_store)
    report, _ = activity_report(sqlite_store, "FJ", OCTOBER, now=NOW)
    pages, text = pdf_pages(render.pdf(report), tmp_path)
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    flat = " ".join(text.split())
    assert "Cyber activity report — Fiji (FJ)" in flat
    assert flat.count("TLP:AMBER") >= 2 * len(pages)  # banner top and bottom of every page
    packed = squeeze(text)  # a long value may wrap inside its table cell
    for value in (*FIJI_INFRA, *FIJI_VICTIMS):
        assert squeeze(value) in packed
    assert "secret" not in packed
    assert "takedownrequest(PAP:GREEN" in packed


def test_a_read_only_reader_gets_leads_only() -> None:
    from marsad.access.policy import Mark, Role, Viewer, grant_for
    from marsad.model.organisation import OrgKind
    from marsad.products.activity import recommend

    open_mark = Mark(owner_org_id=2, source_org_id=2, tlp=1, pap=0)
    for role, asset, want in ((Role.ANALYST, False, TAKEDOWN), (Role.ANALYST, True, NOTIFY),
                              (Role.READ_ONLY, False, LEAD), (Role.READ_ONLY, True, LEAD)):  # fmt: skip
        viewer = Viewer(org_id=1, org_name="Fiji CCU", kind=OrgKind.NATIONAL_CYBER_UNIT, role=role)
        action, pap, why = recommend(asset, [open_mark], viewer, grant_for(viewer, NOW.date()))
        assert (action, pap) == (want, "PAP:CLEAR"), (role, asset)
        assert role is Role.ANALYST or why == "the recipient's role does not act on records"


def test_a_restricted_resolution_raises_the_banner(store: Store, fixed: Fixed) -> None:
    p = fixed.p
    p.rows = {}  # plant two more records into the committed world
    p.assertion("domain", "ws-portal.example.com", "phishing", "PhishGuard", tlp=0, pap=0)
    p.relationship("domain:ws-portal.example.com", "resolves-to", f"ipv4:{WS_PHISH}",
                   "ASP Desk", tlp=2, to=("org:Samoa CCU",))  # fmt: skip
    p.commit()
    samoa, _ = activity_report(store, "WS", OCTOBER, now=NOW)
    portal = next(i for i in samoa.items if i.value == "ws-portal.example.com")
    assert (portal.located_by, portal.tlp) == (f"resolves to {WS_PHISH}", "TLP:CLEAR")
    assert samoa.tlp == "TLP:AMBER"  # what placed it in Samoa is AMBER
    partner, _ = activity_report(store, "WS", OCTOBER, as_org="PhishGuard", now=NOW)
    assert "ws-portal.example.com" not in {i.value for i in partner.items}
    assert partner.tlp == "TLP:GREEN"
