"""Record, cluster, submission and admin pages over HTTP: the policy by URL, uploads, roles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from marsad.access import audit
from marsad.access.policy import EVERYTHING
from marsad.model.normalize import detect
from marsad.products import alert_store
from marsad.store import match_reads
from marsad.store.schema import submissions
from marsad.web.i18n import LOCALE_DIR, translations
from tests.catalogues import assert_translated, extracted, messages
from tests.conftest import DATA
from tests.web.conftest import GREEN_HOST, PG, RED_VALUE, Browser, WebWorld

MISP = DATA / "misp/feed/5721c2e4-05ec-4af3-9264-411b950d210f.json"


def test_nobody_else_reaches_a_red_record_by_url(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("desk.analyst")
    for path in (f"/observables/domain/{RED_VALUE}", f"/assertions/{web_world.red_assertion}",
                 f"/submissions/{web_world.red_submission}"):  # fmt: skip
        response = browser.client.get(path)
        assert response.status_code == 404, path
        main = response.text.split('<main id="main"', 1)[1]  # the header echoes the URL typed
        assert RED_VALUE not in main and PG not in response.text
    denied = audit.entries(web_world.store, actor="desk.analyst", outcome="deny")
    assert {d.action for d in denied} == {"read-observable", "read-assertion", "read-submission"}
    never = browser.client.get("/observables/domain/never-seen.example.org")
    assert never.status_code == 404  # the same answer as for the hidden value
    assert not [e for e in audit.entries(web_world.store, outcome="deny")
                if e.target == "domain:never-seen.example.org"]  # fmt: skip


def test_the_owner_reaches_its_red_record(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("pg.user")
    page = browser.client.get(f"/assertions/{web_world.red_assertion}")
    assert page.status_code == 200 and RED_VALUE in page.text and "TLP:RED" in page.text
    assert f'href="/submissions/{web_world.red_submission}"' in page.text


def test_observable_page_shows_relationships_and_cluster(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    data = browser.client.get(f"/observables/domain/{GREEN_HOST}", params={"format": "json"}).json()
    assert [a["source"] for a in data["assertions"]] == ["Fiji CCU"]
    assert {(r["type"], r["target_ref"]) for r in data["relationships"]} == {
        ("resolves-to", "ipv4:203.0.113.77")
    }
    cluster = browser.client.get(f"/clusters/{data['cluster']}")
    assert cluster.status_code == 200 and "ipv4:203.0.113.77" in cluster.text
    graph = browser.client.get(f"/clusters/{data['cluster']}/graph").json()
    nodes = {e["data"]["id"] for e in graph["elements"] if "source" not in e["data"]}
    assert nodes == {f"domain:{GREEN_HOST}", "domain:green-shop2.example.net", "ipv4:203.0.113.77"}


def test_upload_shows_the_parse_report(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("fiji.officer")
    token = browser.csrf("/submissions")
    raw = MISP.read_bytes()
    response = browser.client.post(
        "/submissions", data={"csrf_token": token, "format": "auto", "tlp": "green"},
        files={"file": ("event.json", raw, "application/json")},
    )  # fmt: skip
    assert response.status_code == 200 and "Parse report" in response.text
    assert response.url.path.startswith("/submissions/")
    number = int(response.url.path.rsplit("/", 1)[1])
    row = web_world.store.submission(number)
    assert row.format == "misp" and row.accepted > 0 and f"<dd>{row.accepted}</dd>" in response.text
    forged = browser.client.post("/submissions", files={"file": ("x.txt", b"1.2.3.4\n")})
    assert forged.status_code == 403
    empty = browser.client.post("/submissions", data={"csrf_token": token},
                                files={"file": ("x.txt", b"")})  # fmt: skip
    assert empty.status_code == 422 and "empty" in empty.text


def test_a_web_upload_raises_the_alerts_of_those_watching(
    browser: Browser, web_world: WebWorld
) -> None:
    alert_store.add_entry(web_world.store, "Fiji CCU", "domain", "watched-shop.example.com")
    browser.sign_in("fiji.officer")
    token = browser.csrf("/submissions")
    response = browser.client.post(
        "/submissions", data={"csrf_token": token, "format": "auto", "tlp": "green"},
        files={"file": ("list.txt", b"login.watched-shop.example.com\n", "text/plain")},
    )  # fmt: skip
    assert response.status_code == 200 and "Parse report" in response.text
    inbox = browser.client.get("/alerts")
    assert "login.watched-shop.example.com" in inbox.text


def test_sources_see_where_their_records_were_seen(browser: Browser, web_world: WebWorld) -> None:
    store = web_world.store
    [green] = store.assertions_about([detect(GREEN_HOST)], EVERYTHING)
    with store.engine.connect() as conn:
        shops = conn.execute(
            select(submissions.c.id).where(submissions.c.filename == "shops.json")
        ).scalar_one()
    seen = match_reads.record_sightings(
        store, store.viewer("ASP Desk"), [(green.id, 3)], "dns.log", dt.datetime.now(dt.UTC)
    )
    assert seen == 1
    browser.sign_in("fiji.officer")
    listing = browser.client.get("/submissions").text.split('id="feedback-title"', 1)[1]
    assert GREEN_HOST in listing and "ASP Desk" in listing
    one = browser.client.get(f"/submissions/{shops}").text.split('id="feedback-title"', 1)[1]
    assert GREEN_HOST in one and "ASP Desk" in one and '<td class="num">3</td>' in one
    as_json = browser.client.get("/submissions", params={"format": "json"}).json()
    assert [(s["value"], s["seen_by"], s["count"]) for s in as_json["sightings"]] == [
        (GREEN_HOST, "ASP Desk", 3)
    ]
    browser.client.post("/logout", data={"csrf_token": browser.csrf()})
    partner = Browser(web_world)
    partner.sign_in("pg.user")
    theirs = partner.client.get("/submissions").text.split('id="feedback-title"', 1)[1]
    assert GREEN_HOST not in theirs and "ASP Desk" not in theirs
    partner.close()


def test_read_only_users_get_no_upload_form(browser: Browser) -> None:
    browser.sign_in("desk.analyst")
    token = browser.csrf()
    browser.client.post("/session/organisation", data={"org": "Fiji CCU", "csrf_token": token})
    page = browser.client.get("/submissions").text
    assert 'type="file"' not in page
    refused = browser.client.post("/submissions", data={"csrf_token": token},
                                  files={"file": ("x.txt", b"1.2.3.4\n")})  # fmt: skip
    assert refused.status_code == 403


def test_admin_and_audit_pages_need_their_roles(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("fiji.officer")
    for path in ("/admin/organisations", "/admin/users", "/admin/audit"):
        assert browser.client.get(path).status_code == 403, path
    browser.client.cookies.clear()
    browser.sign_in("fiji.auditor")
    audit_page = browser.client.get("/admin/audit", params={"outcome": "deny"})
    assert audit_page.status_code == 200 and "403" not in audit_page.url.path
    chain = browser.client.get("/admin/audit/verify").text
    assert "Hash chain intact" in chain
    assert browser.client.get("/admin/users").status_code == 403
    browser.client.cookies.clear()
    browser.sign_in("hub.admin")
    users = browser.client.get("/admin/users").text
    assert "hub.admin" in users and "desk.analyst" in users and "pg.user" not in users


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_catalogues_translate_every_message_with_the_same_placeholders(lang: str) -> None:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    assert_translated(LOCALE_DIR / "messages.pot", po, lang, translations)


def test_the_catalogues_plural_forms_are_cldrs() -> None:
    """Arabic's six forms (0, 1, 2, 3-10, 11-99, 100 and more, by the last two digits) and
    French's three (0 and 1, millions, the rest) as the products' catalogue has them."""
    arabic = [translations("ar").plural(n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111)]
    assert arabic == [0, 1, 2, 3, 3, 4, 4, 5, 5, 3, 4]
    french = [translations("fr").plural(n) for n in (0, 1, 2, 1_000_000, 1_000_001)]
    assert french == [0, 0, 2, 1, 2]


def test_the_message_template_is_up_to_date() -> None:
    """Every message of the templates and code is in messages.pot (run pybabel extract)."""
    from marsad.web.i18n import HERE

    found = extracted(HERE, "**/templates/**.html")
    template = set(messages(LOCALE_DIR / "messages.pot"))
    assert found == template, sorted(map(str, found ^ template))[:5]


def test_the_parse_report_lists_rejected_records_with_reasons(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    token = browser.csrf("/submissions")
    raw = b"value,type,threat_type\n203.0.113.9,ipv4,c2\nnot-an-ip,ipv4,c2\n"
    response = browser.client.post(
        "/submissions", data={"csrf_token": token, "format": "csv", "tlp": "amber"},
        files={"file": ("mixed.csv", raw, "text/csv")},
    )  # fmt: skip
    assert response.status_code == 200
    main = response.text.split('<main id="main"', 1)[1]
    rows = main.split("Rejected records", 1)[1]
    assert "not-an-ip" in rows and "<code>" in rows
    assert "None: every record was read." not in rows
