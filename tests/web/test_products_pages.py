"""The alerts inbox and the reports page over HTTP: own alerts only, CSRF, report downloads."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from marsad.access import audit
from marsad.access.policy import EVERYTHING
from marsad.model.handling import TLP
from marsad.model.records import ThreatType
from marsad.products import alert_store, alerting
from marsad.store import alert_reads
from marsad.store.store import Store
from tests.web.conftest import DESK, FIJI, PG, RED_VALUE, STRICT_VALUE, Browser, WebWorld, _submit

FJ_VISIBLE = "visible-shop.com.fj"
FJ_HIDDEN = "secret-pg-case.com.fj"


def raise_alerts(store: Store) -> None:
    """Every organisation watches 'example'; the world's submissions are evaluated."""
    for name in (PG, FIJI, DESK):
        alert_store.add_entry(store, name, "keyword", "example")
    alerting.run(store, context=alerting.Context(deliver=False))


def plant_fijian(store: Store) -> None:
    """A Fijian value every member may see, and one only PhishGuard may see."""
    _submit(store, f"{FJ_VISIBLE}\n".encode(), FIJI, TLP.GREEN, [], ThreatType.PHISHING,
            "fj-green.txt", "list")  # fmt: skip
    _submit(store, f"{FJ_HIDDEN}\n".encode(), PG, TLP.RED, [f"org:{PG}"], ThreatType.PHISHING,
            "fj-red.txt", "list")  # fmt: skip


def _values(data: dict[str, object]) -> set[str]:
    return {a["value"] for a in data["alerts"]}  # type: ignore[attr-defined, index]


def test_the_inbox_shows_only_the_organisations_own_alerts(
    browser: Browser, web_world: WebWorld
) -> None:
    raise_alerts(web_world.store)
    browser.sign_in("desk.analyst")
    data = browser.client.get("/alerts", params={"format": "json"}).json()
    assert data["alerts"] and {a["org"] for a in data["alerts"]} == {DESK}
    assert RED_VALUE not in _values(data) and STRICT_VALUE not in _values(data)
    page = browser.client.get("/alerts").text
    assert RED_VALUE not in page and STRICT_VALUE not in page and "Acknowledge" in page
    owner = Browser(web_world)
    owner.sign_in("pg.user")
    mine = owner.client.get("/alerts", params={"format": "json"}).json()
    owner.close()
    assert RED_VALUE in _values(mine) and {a["org"] for a in mine["alerts"]} == {PG}
    for alert in mine["alerts"]:
        assert alert["evidence"] and all(e["assertion_id"] for e in alert["evidence"])


def test_acknowledging_needs_the_form_token_and_the_alert(
    browser: Browser, web_world: WebWorld
) -> None:
    raise_alerts(web_world.store)
    pg = web_world.store.viewer(PG)
    assert pg.org_id is not None
    every = alert_reads.list_alerts(web_world.store, pg.org_id, PG, EVERYTHING)
    red_alert = next(a.id for a in every if a.value == RED_VALUE)
    browser.sign_in("fiji.officer")
    token = browser.csrf("/alerts")
    own = browser.client.get("/alerts", params={"format": "json"}).json()["alerts"][0]["id"]
    forged = browser.client.post(f"/alerts/{own}/ack", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (
        browser.client.post(f"/alerts/{red_alert}/ack", data={"csrf_token": token}).status_code
        == 404
    )
    done = browser.client.post(f"/alerts/{own}/ack", data={"csrf_token": token},
                               follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    still_open = browser.client.get("/alerts", params={"format": "json"}).json()["alerts"]
    assert own not in {a["id"] for a in still_open}
    every = browser.client.get("/alerts", params={"format": "json", "show": "all"}).json()
    acked = next(a for a in every["alerts"] if a["id"] == own)
    assert acked["acked_by"] == "fiji.officer" and acked["acked_at"]
    assert {e.action for e in audit.entries(web_world.store, actor="fiji.officer", outcome="deny")
            } >= {"csrf", "ack-alert"}  # fmt: skip


def test_auditors_read_the_inbox_but_cannot_acknowledge(
    browser: Browser, web_world: WebWorld
) -> None:
    raise_alerts(web_world.store)
    browser.sign_in("fiji.auditor")
    alerts = browser.client.get("/alerts", params={"format": "json"}).json()["alerts"]
    assert alerts and {a["org"] for a in alerts} == {FIJI}
    token = browser.csrf("/alerts")
    refused = browser.client.post(f"/alerts/{alerts[0]['id']}/ack", data={"csrf_token": token})
    assert refused.status_code == 403
    again = browser.client.get("/alerts", params={"format": "json"}).json()["alerts"]
    assert alerts[0]["id"] in {a["id"] for a in again}  # still unacknowledged


def _month() -> str:
    return dt.date.today().strftime("%Y-%m")


def test_the_report_page_defaults_to_the_own_country_and_last_month(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    page = browser.client.get("/reports").text
    assert 'value="FJ"' in page
    assert re.search(r'name="period" dir="ltr" value="\d{4}-\d{2}"', page)


def test_a_report_download_is_a_pdf_naming_only_what_the_recipient_may_see(
    browser: Browser, web_world: WebWorld, tmp_path: object
) -> None:
    plant_fijian(web_world.store)
    browser.sign_in("fiji.officer")
    shown = browser.client.get("/reports", params={"country": "FJ", "period": _month()})
    assert shown.status_code == 200 and FJ_VISIBLE in shown.text and FJ_HIDDEN not in shown.text
    pdf = browser.client.get("/reports/activity.pdf", params={"country": "FJ", "period": _month()})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert FJ_VISIBLE in text and FJ_HIDDEN not in text
    for fmt in ("stix", "csv", "html"):
        body = browser.client.get(f"/reports/activity.{fmt}",
                                  params={"country": "FJ", "period": _month()})  # fmt: skip
        assert body.status_code == 200 and FJ_VISIBLE in body.text and FJ_HIDDEN not in body.text
    entries = audit.entries(web_world.store, actor="fiji.officer", action="report-activity")
    assert entries and all(e.outcome == "allow" for e in entries)
    owner = Browser(web_world)  # the owner of the hidden value sees it in its own report
    owner.sign_in("pg.user")
    own = owner.client.get("/reports/activity.csv", params={"country": "FJ", "period": _month()})
    owner.close()
    assert FJ_HIDDEN in own.text


@pytest.mark.parametrize(("params", "status"), [
    ({"country": "Atlantis", "period": "2026-10"}, 400),
    ({"country": "FJ", "period": "last week"}, 400),
])  # fmt: skip
def test_a_bad_report_request_gets_a_clear_error(
    browser: Browser, params: dict[str, str], status: int
) -> None:
    browser.sign_in("fiji.officer")
    assert browser.client.get("/reports", params=params).status_code == status
    assert browser.client.get("/reports/activity.exe", params={"country": "FJ"}).status_code == 404


def test_the_new_pages_wear_the_strict_policy_and_no_inline_code(
    browser: Browser, web_world: WebWorld
) -> None:
    raise_alerts(web_world.store)
    browser.sign_in("fiji.officer")
    for path in ("/alerts?show=all", f"/reports?country=FJ&period={_month()}"):
        response = browser.client.get(path)
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp, path
        body = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert "<style" not in body and " style=" not in body, path
        assert response.headers["cache-control"] == "no-store"
