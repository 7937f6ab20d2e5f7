"""Threat assessments, awareness advisories and modus-operandi notices over HTTP: defaults,
the product in the page with its handling banner, every download, clear refusals, and
nothing a viewer may not see in any of them."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from marsad.access import audit
from marsad.model.handling import TLP
from marsad.model.records import ThreatType
from marsad.web.products import last_quarter
from tests.web.building import shown as page_of
from tests.web.conftest import FIJI, GREEN_HOST, Browser, WebWorld, _submit
from tests.web.test_dashboard import RED_LINK, plant_clusters
from tests.web.test_products_pages import FJ_HIDDEN, FJ_VISIBLE, plant_fijian

CLEAR_VALUE = "public-phish.example.org"
GREEN_VALUE = "members-phish.example.org"


def _pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
    return done.stdout.decode()


def _month() -> str:
    return dt.date.today().strftime("%Y-%m")


def test_last_quarter_is_the_last_complete_one() -> None:
    assert last_quarter(dt.date(2026, 12, 3)) == "2026-Q3"
    assert last_quarter(dt.date(2026, 1, 1)) == "2025-Q4"
    assert last_quarter(dt.date(2026, 4, 1)) == "2026-Q1"


def test_the_products_page_lists_every_product(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    page = browser.client.get("/reports").text
    for path in ("/reports/assessment", "/reports/advisory", "/reports/notice"):
        assert f'href="{path}"' in page
    form = browser.client.get("/reports/assessment").text
    assert 'value="asia-south-pacific" selected' in form
    assert re.search(r'name="period" dir="ltr" value="\d{4}-Q[1-4]"', form)


def test_an_assessment_holds_only_what_its_reader_may_see(
    browser: Browser, web_world: WebWorld
) -> None:
    plant_fijian(web_world.store)
    asked = {"region": "asia-south-pacific", "period": _month()}
    browser.sign_in("fiji.officer")
    shown = page_of(browser.client, "/reports/assessment", asked)
    assert shown.status_code == 200 and 'class="banner tlp-' in shown.text
    assert FJ_VISIBLE in shown.text and FJ_HIDDEN not in shown.text
    data = browser.client.get("/reports/assessment", params={**asked, "format": "json"}).json()
    tlp = data["assessment"]["tlp"]
    assert data["assessment"]["recipient"] == FIJI and 'class="banner tlp-' in shown.text
    assert shown.text.count(f"</span>{tlp}</p>") == 2  # the banner at the top and the bottom
    pdf = browser.client.get("/reports/assessment.pdf", params=asked)
    assert pdf.headers["content-disposition"].startswith("attachment;")
    text = _pdf_text(pdf.content)
    assert FJ_VISIBLE in text and FJ_HIDDEN not in text and tlp in text
    for fmt in ("html", "json"):
        body = browser.client.get(f"/reports/assessment.{fmt}", params=asked)
        assert body.status_code == 200 and FJ_VISIBLE in body.text and FJ_HIDDEN not in body.text
    owner = Browser(web_world)  # the owner of the hidden value finds it in its own assessment
    owner.sign_in("pg.user")
    own = owner.client.get("/reports/assessment.json", params=asked)
    owner.close()
    assert FJ_HIDDEN in own.text and '"TLP:RED"' in own.text
    entries = audit.entries(web_world.store, actor="fiji.officer", action="report-assessment")
    assert entries and all(e.outcome == "allow" for e in entries)


def test_an_advisory_publishes_only_tlp_clear_examples(
    browser: Browser, web_world: WebWorld
) -> None:
    store = web_world.store
    _submit(store, f"{CLEAR_VALUE}\n".encode(), FIJI, TLP.CLEAR, [], ThreatType.PHISHING,
            "public.txt", "list")  # fmt: skip
    _submit(store, f"{GREEN_VALUE}\n".encode(), FIJI, TLP.GREEN, [], ThreatType.PHISHING,
            "members.txt", "list")  # fmt: skip
    browser.sign_in("pg.user")  # it owns a RED phishing value: still not in a public advisory
    asked = {"threat": "phishing", "examples": "20"}
    page = browser.client.get("/reports/advisory", params=asked)
    assert page.status_code == 200 and "public-phish[.]example[.]org" in page.text
    assert "members-phish" not in page.text and "secret-red" not in page.text
    assert 'class="banner tlp-clear"' in page.text
    for fmt in ("html", "json"):
        body = browser.client.get(f"/reports/advisory.{fmt}", params=asked).text
        assert "public-phish[.]example[.]org" in body and "members-phish" not in body
    text = _pdf_text(browser.client.get("/reports/advisory.pdf", params=asked).content)
    assert "public-phish[.]example[.]org" in text and "TLP:CLEAR" in text


def _cluster_of(browser: Browser) -> int:
    data = browser.client.get(f"/observables/domain/{GREEN_HOST}", params={"format": "json"})
    return int(data.json()["cluster"])


def test_a_notice_holds_only_what_its_issuer_may_see(browser: Browser, web_world: WebWorld) -> None:
    plant_clusters(web_world.store)
    browser.sign_in("fiji.officer")
    cluster = _cluster_of(browser)
    asked = {"cluster": str(cluster), "method": "Fake shops take card payments.",
             "countermeasures": "Block the shops.\nWarn card issuers."}  # fmt: skip
    page = browser.client.get("/reports/notice", params=asked)
    assert page.status_code == 200 and GREEN_HOST in page.text and RED_LINK not in page.text
    assert "Fake shops take card payments." in page.text and "Warn card issuers." in page.text
    assert 'class="banner tlp-green"' in page.text
    for fmt in ("stix", "html", "json"):
        body = browser.client.get(f"/reports/notice.{fmt}", params=asked)
        assert body.status_code == 200 and GREEN_HOST in body.text, fmt
        assert RED_LINK not in body.text and "TLP:RED" not in body.text, fmt
    stix = browser.client.get("/reports/notice.stix", params=asked).json()
    assert {o["type"] for o in stix["objects"]} >= {"report", "note", "indicator"}
    text = _pdf_text(browser.client.get("/reports/notice.pdf", params=asked).content)
    assert GREEN_HOST in text and RED_LINK not in text
    owner = Browser(web_world)  # the issuer who sees the RED link gets it, and a RED notice
    owner.sign_in("pg.user")
    own = owner.client.get("/reports/notice.json", params={"cluster": str(_cluster_of(owner))})
    owner.close()
    assert RED_LINK in own.text and own.json()["tlp"] == "TLP:RED"


def test_a_notice_of_a_cluster_the_viewer_may_not_see_is_refused(
    browser: Browser, web_world: WebWorld
) -> None:
    plant_clusters(web_world.store)
    owner = Browser(web_world)
    owner.sign_in("pg.user")
    theirs = owner.client.get("/dashboard/clusters", params={"format": "json"}).json()
    owner.close()
    mine = {c["id"] for c in theirs["clusters"]}
    browser.sign_in("fiji.officer")
    seen = browser.client.get("/clusters", params={"format": "json"}).json()["clusters"]
    hidden = sorted(mine - {c["id"] for c in seen})
    assert len(hidden) == 1  # the RED network under .fj (the .au one is GREEN)
    for cid in hidden:
        refused = browser.client.get("/reports/notice", params={"cluster": str(cid)})
        assert refused.status_code == 400 and "no cluster" in refused.text
        assert "red-a" not in refused.text and RED_LINK not in refused.text
        assert browser.client.get("/reports/notice.stix",
                                  params={"cluster": str(cid)}).status_code == 400  # fmt: skip
    denied = audit.entries(web_world.store, actor="fiji.officer", outcome="deny")
    assert "report-notice" in {e.action for e in denied}


@pytest.mark.parametrize(("path", "params", "words"), [
    ("/reports/assessment", {"region": "atlantis", "period": "2026-10"}, "unknown region"),
    ("/reports/assessment", {"period": "last week"}, "not understood"),
    ("/reports/advisory", {"threat": "alchemy"}, "no advisory text"),
    ("/reports/advisory", {"threat": "phishing", "examples": "x"}, "whole number"),
    ("/reports/notice", {"cluster": ""}, "name the cluster"),
    ("/reports/notice", {"cluster": "x"}, "no cluster"),
    ("/reports/notice", {"cluster": "1", "targets": "banks"}, "describe the method"),
    ("/reports/notice", {"cluster": "1", "method": "m", "tlp": "purple"}, "tlp"),
])  # fmt: skip
def test_a_bad_product_request_is_answered_by_the_form(
    browser: Browser, path: str, params: dict[str, str], words: str
) -> None:
    browser.sign_in("fiji.officer")
    response = browser.client.get(path, params=params)
    assert response.status_code == 400 and words in response.text
    assert 'role="alert"' in response.text and "<form" in response.text
    assert browser.client.get(f"{path}.exe").status_code == 404


def test_the_product_pages_wear_the_strict_policy_and_no_inline_code(
    browser: Browser, web_world: WebWorld
) -> None:
    plant_clusters(web_world.store)
    browser.sign_in("fiji.officer")
    cluster = _cluster_of(browser)
    for path in (f"/reports/assessment?period={_month()}", "/reports/advisory?threat=phishing",
                 f"/reports/notice?cluster={cluster}"):  # fmt: skip
        first = browser.client.get(path)  # the assessment's: the progress of its build
        response = page_of(browser.client, path)
        for body, answer in ((first.text, first), (response.text, response)):
            assert answer.status_code == 200, path
            assert "unsafe-inline" not in answer.headers["content-security-policy"]
            assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
            assert "<style" not in body and " style=" not in body, path
        assert response.text.count('class="banner') == 2, path  # top and bottom, as on paper
