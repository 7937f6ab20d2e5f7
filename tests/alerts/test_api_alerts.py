"""The REST side: an upload raises alerts; GET /alerts and POST /alerts/{id}/ack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from marsad.access import audit
from marsad.access.policy import Role
from marsad.products import alert_store
from marsad.store.store import Store
from tests.exchange.conftest import Api


@pytest.fixture
def api(orgs: Store) -> Iterator[Api]:
    client = Api(orgs)
    yield client
    client.close()


def test_upload_raises_alerts_listed_and_acknowledged_per_organisation(api: Api) -> None:
    alert_store.add_entry(api.store, "Fiji CCU", "cctld", "fj")
    alert_store.add_entry(api.store, "ASP Desk", "cctld", "fj")
    up = api.client.post(
        "/api/v1/submissions", content=b"pay.bank.com.fj\nok.example.org\n",
        params={"tlp": "amber", "releasable_to": "org:Fiji CCU", "threat_type": "phishing"},
        headers=api.auth("PhishGuard", Role.PARTNER_SUBMITTER),
    )  # fmt: skip
    assert up.status_code == 201, up.text
    assert "alert" not in up.text  # the submitter learns nothing of who watches what

    fiji = api.client.get("/api/v1/alerts", headers=api.auth("Fiji CCU"))
    assert fiji.status_code == 200
    [alert] = fiji.json()["items"]
    assert (alert["value"], alert["reasons"], alert["tlp"]) == (
        "pay.bank.com.fj",
        ["cctld:fj"],
        "amber",
    )
    assert [e["source"] for e in alert["evidence"]] == ["PhishGuard"]
    # The desk watches .fj too, but this amber record is released to Fiji CCU only.
    assert api.client.get("/api/v1/alerts", headers=api.auth("ASP Desk")).json()["items"] == []

    path = f"/api/v1/alerts/{alert['id']}/ack"
    assert api.client.post(path, headers=api.auth("ASP Desk")).status_code == 404
    # acknowledging changes state: read-only users and auditors may read alerts, not ack them
    for role in (Role.READ_ONLY, Role.AUDITOR):
        assert api.client.post(path, headers=api.auth("Fiji CCU", role)).status_code == 403
    acked = api.client.post(path, headers=api.auth("Fiji CCU", Role.OFFICER))
    assert acked.status_code == 200 and acked.json()["acked_by"] == "Fiji CCU officer"
    unacked = api.client.get(
        "/api/v1/alerts", params={"unacked": "true"}, headers=api.auth("Fiji CCU")
    )
    assert unacked.json()["items"] == []
    assert api.client.get("/api/v1/alerts").status_code == 401
    listed = audit.entries(api.store, action="list-alerts")
    assert {(e.org, e.details["count"]) for e in listed} >= {("Fiji CCU", 1), ("ASP Desk", 0)}
    assert [e.outcome for e in audit.entries(api.store, action="ack-alert")] == ["allow", "deny"]


def test_alert_pages_follow_the_cursor(api: Api) -> None:
    alert_store.add_entry(api.store, "Fiji CCU", "keyword", "scam")
    values = b"".join(f"scam{i}.example.org\n".encode() for i in range(7))
    up = api.client.post("/api/v1/submissions", content=values, params={"tlp": "green"},
                         headers=api.auth("PhishGuard", Role.PARTNER_SUBMITTER))  # fmt: skip
    assert up.status_code == 201
    seen, cursor = [], None
    while True:
        page = api.client.get("/api/v1/alerts", params={"limit": 3, **({"cursor": cursor} if cursor else {})},
                              headers=api.auth("Fiji CCU")).json()  # fmt: skip
        seen += [a["value"] for a in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"scam{i}.example.org" for i in range(7))
