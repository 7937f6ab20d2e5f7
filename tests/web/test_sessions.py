"""Sign-in, sessions, CSRF, security headers, escaping and the switchers, over HTTP."""

from __future__ import annotations

import re

from marsad.access import audit
from tests.web.conftest import DESK, FIJI, PG, RED_VALUE, Browser, WebWorld


def _session_cookie(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    [cookie] = [h for h in headers if h.startswith("marsad_session=")]
    return cookie


def test_sign_in_opens_a_secure_session_and_is_audited(
    browser: Browser, web_world: WebWorld
) -> None:
    response = browser.sign_in("desk.analyst")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = _session_cookie(response).lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    page = browser.client.get("/")
    assert page.status_code == 200 and "Dashboard: ASP Desk" in page.text
    [entry] = audit.entries(web_world.store, action="login")
    assert entry.actor == "desk.analyst" and entry.outcome == "allow" and entry.org == DESK


def test_a_wrong_password_is_refused_and_audited(browser: Browser, web_world: WebWorld) -> None:
    response = browser.sign_in("desk.analyst", "not the password at all")
    assert response.status_code == 401 and "Unknown user or wrong password" in response.text
    assert "marsad_session=" not in response.headers.get("set-cookie", "")
    [entry] = audit.entries(web_world.store, action="login")
    assert entry.outcome == "deny" and entry.target == "desk.analyst"
    assert browser.client.get("/", follow_redirects=False).status_code == 303


def test_pages_send_a_browser_without_session_to_sign_in(browser: Browser) -> None:
    response = browser.client.get("/search?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/search%3Fq%3Dx"


def test_a_forged_post_is_refused_and_audited(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("desk.analyst")
    forged = browser.client.post("/session/organisation", data={"org": FIJI, "next": "/"},
                                 follow_redirects=False)  # fmt: skip
    assert forged.status_code == 403
    other = Browser(web_world)  # a token from another browser's session is not this one's
    other.sign_in("fiji.officer")
    stolen = other.csrf()
    other.close()
    forged = browser.client.post("/session/organisation",
                                 data={"org": FIJI, "next": "/", "csrf_token": stolen})  # fmt: skip
    assert forged.status_code == 403
    assert "Dashboard: ASP Desk" in browser.client.get("/").text  # nothing changed
    denials = audit.entries(web_world.store, action="csrf")
    assert len(denials) == 2 and {d.outcome for d in denials} == {"deny"}
    assert browser.client.post("/login", data={"username": "desk.analyst", "password": "x"},
                               follow_redirects=False).status_code == 403  # fmt: skip


def test_the_organisation_switcher(browser: Browser, web_world: WebWorld) -> None:
    browser.sign_in("desk.analyst")
    page = browser.client.get("/").text
    assert 'id="org-switch"' in page and f">{FIJI} (read-only)<" in page
    token = browser.csrf()
    moved = browser.client.post("/session/organisation",
                                data={"org": FIJI, "next": "/", "csrf_token": token})  # fmt: skip
    assert moved.status_code == 200 and f"Dashboard: {FIJI}" in moved.text
    refused = browser.client.post("/session/organisation",
                                  data={"org": PG, "next": "/", "csrf_token": token})  # fmt: skip
    assert refused.status_code == 403
    [denied] = audit.entries(web_world.store, action="switch-organisation", outcome="deny")
    assert denied.target == PG and denied.actor == "desk.analyst"


def test_sign_out_makes_every_copy_of_the_cookie_worthless(
    browser: Browser, web_world: WebWorld
) -> None:
    cookie = _session_cookie(browser.sign_in("fiji.officer")).split(";")[0].split("=", 1)[1]
    token = browser.csrf()
    assert browser.client.post("/logout", data={"csrf_token": token}).status_code == 200
    thief = Browser(web_world)
    thief.client.cookies.set("marsad_session", cookie, domain="testserver")
    assert thief.client.get("/", follow_redirects=False).status_code == 303
    thief.client.cookies.set("marsad_session", cookie[:-3] + "abc", domain="testserver")
    assert thief.client.get("/", follow_redirects=False).status_code == 303
    thief.close()


def test_security_headers_on_every_kind_of_response(browser: Browser) -> None:
    browser.sign_in("desk.analyst")
    for path in ("/login", "/", "/search?q=1.2.3.4", "/static/marsad.css", "/api/health", "/nope"):
        h = browser.client.get(path).headers
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "same-origin"
    assert browser.client.get("/").headers["cache-control"] == "no-store"


def test_no_inline_script_or_style_in_pages(browser: Browser) -> None:
    browser.sign_in("hub.admin")
    for path in ("/login", "/", "/search?q=green-shop.example.net"):
        body = browser.client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert "<style" not in body and " style=" not in body and "onclick" not in body


def test_values_are_escaped(browser: Browser) -> None:
    browser.sign_in("desk.analyst")
    body = browser.client.get("/search", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    bad = browser.client.get("/login", params={"next": '"><script>alert(2)</script>'}).text
    assert "<script>alert(2)" not in bad


def test_search_normalises_as_typed_and_applies_the_policy(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    found = browser.client.get("/search", params={"q": "hxxp://GREEN-SHOP[.]example[.]net/x",
                                                  "format": "json"}).json()  # fmt: skip
    assert {"type": "domain", "value": "green-shop.example.net",
            "input": "hxxp://GREEN-SHOP[.]example[.]net/x"} in found["normalised"]  # fmt: skip
    assert [h["value"] for h in found["hits"]] == ["green-shop.example.net"]
    assert found["hits"][0]["tlp_label"] == "TLP:GREEN"
    hidden = browser.client.get("/search", params={"q": RED_VALUE, "format": "json"}).json()
    assert hidden["count"] == 0 and hidden["hits"] == []
    bulk = browser.client.get("/search", params={
        "q": f"{RED_VALUE}\n203.0.113[.]77\nnot a value", "format": "json"}).json()  # fmt: skip
    assert [h["value"] for h in bulk["hits"]] == ["203.0.113.77"] and bulk["unrecognised"] == 1


def test_the_owner_sees_its_red_record(browser: Browser) -> None:
    browser.sign_in("pg.user")
    body = browser.client.get("/search", params={"q": RED_VALUE}).text
    assert "TLP:RED" in body and 'class="chip tlp-red"' in body


def test_languages_and_direction(browser: Browser) -> None:
    browser.sign_in("desk.analyst")
    arabic = browser.client.get("/lang/ar?next=/search")
    assert arabic.url.path == "/search"
    assert '<html lang="ar" dir="rtl">' in arabic.text and "بحث" in arabic.text
    french = browser.client.get("/lang/fr?next=/").text
    assert '<html lang="fr" dir="ltr">' in french and "Tableau de bord" in french
    missing = browser.client.get("/assertions/999999")
    assert missing.status_code == 404 and "Aucune assertion de ce numéro." in missing.text
    away = browser.client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert away.headers["location"] == "/"


def test_pages_answer_api_tokens_with_their_json_twin(
    web_world: WebWorld, browser: Browser
) -> None:
    from marsad.access import identity

    secret, _ = identity.create_token(web_world.store, "fiji.officer")
    headers = {"Authorization": f"Bearer {secret}"}
    data = browser.client.get("/", headers={**headers, "Accept": "application/json"}).json()
    assert data["organisation"] == FIJI and data["threat_counts"] == {"phishing": 3, "c2": 1}
    refused = browser.client.get("/", headers={"Authorization": "Bearer msd_nope"})
    assert refused.status_code == 401
