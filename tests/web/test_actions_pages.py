"""Actions taken in the browser: the form on a value's page, the feedback on the submissions
pages, and the tokens' last use on /admin/tokens."""

from __future__ import annotations

import re

from marsad.access import audit, identity
from tests.web.conftest import GREEN_HOST, RED_VALUE, Browser, WebWorld

PAGE = f"/observables/domain/{GREEN_HOST}"


def _record(browser: Browser, value: str, kind: str, note: str = "", **extra: str) -> object:
    token = browser.csrf(PAGE)
    return browser.client.post("/actions", data={"csrf_token": token, "type": "domain",
                                                 "value": value, "kind": kind, "note": note,
                                                 **extra}, follow_redirects=False)  # fmt: skip


def _actions_section(html: str) -> str:
    return html.split('id="actions"', 1)[1].split("</section>", 1)[0]


def test_a_partner_records_an_action_and_the_source_sees_it_as_feedback(
    browser: Browser, web_world: WebWorld
) -> None:
    browser.sign_in("pg.user")  # PhishGuard, partner-submitter: sees Fiji's GREEN shop domain
    page = browser.client.get(PAGE).text
    assert '<label for="action-kind">' in page and '<label for="action-note">' in page
    done = _record(browser, GREEN_HOST, "blocked", "blocked for our customers")
    assert done.status_code == 303 and done.headers["location"] == PAGE + "#actions"  # type: ignore[attr-defined]
    mine = _actions_section(browser.client.get(PAGE).text)
    assert (
        "Blocked" in mine and "PhishGuard (pg.user)" in mine and "blocked for our customers" in mine
    )
    [entry] = audit.entries(web_world.store, action="record-action")
    assert entry.actor == "pg.user" and entry.details["via"] == "web"
    browser.close()

    source = Browser(web_world)
    source.sign_in("fiji.officer")  # the source: feedback on the list and on the submission
    listing = source.client.get("/submissions").text.split('id="actions-title"', 1)[1]
    assert GREEN_HOST in listing and "PhishGuard" in listing and "Blocked" in listing
    assert "pg.user" not in listing  # the acting person stays inside the acting organisation
    subs = source.client.get("/submissions", params={"format": "json"}).json()
    shops = next(s["id"] for s in subs["submissions"] if s["filename"] == "shops.json")
    one = source.client.get(f"/submissions/{shops}").text.split('id="actions-title"', 1)[1]
    assert "PhishGuard" in one and "blocked for our customers" in one
    twin = source.client.get(f"/submissions/{shops}", params={"format": "json"}).json()
    assert [(x["org"], x["user"], x["kind"]) for x in twin["actions"]] == [
        ("PhishGuard", None, "blocked")
    ]
    other = [s["id"] for s in subs["submissions"] if s["filename"] == "case-list.txt"]
    assert "PhishGuard" not in source.client.get(f"/submissions/{other[0]}").text.split(
        'id="actions-title"', 1)[1]  # fmt: skip
    source.close()

    bystander = Browser(web_world)
    bystander.sign_in("desk.analyst")  # sees the value, but neither acted nor owns the record
    section = _actions_section(bystander.client.get(PAGE).text)
    assert "PhishGuard" not in section and "None that you may see." in section
    bystander.close()


def test_the_form_refuses_bad_input_hidden_values_and_roles(
    browser: Browser, web_world: WebWorld
) -> None:
    browser.sign_in("fiji.officer")
    bad = _record(browser, GREEN_HOST, "nuked")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert 'role="alert" id="action-error">Choose what was done from the list.' in bad.text  # type: ignore[attr-defined]
    long = _record(browser, GREEN_HOST, "blocked", "x" * 501)
    assert long.status_code == 422 and "at most 500 characters" in long.text  # type: ignore[attr-defined]
    hidden = _record(browser, RED_VALUE, "taken-down")  # PhishGuard's RED value
    assert hidden.status_code == 404  # type: ignore[attr-defined]
    no_csrf = browser.client.post("/actions", data={"type": "domain", "value": GREEN_HOST,
                                                    "kind": "blocked"})  # fmt: skip
    assert no_csrf.status_code == 403
    assert identity.list_tokens(web_world.store) == []  # nothing else changed on the way
    browser.client.cookies.clear()
    browser.sign_in("fiji.auditor")
    assert 'id="action-kind"' not in browser.client.get(PAGE).text
    assert _record(browser, GREEN_HOST, "blocked").status_code == 403  # type: ignore[attr-defined]
    allowed = [e for e in audit.entries(web_world.store, action="record-action")
               if e.outcome == "allow"]  # fmt: skip
    assert allowed == []


def test_the_form_speaks_french_and_arabic(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    fr = browser.client.get(PAGE, headers={"accept-language": "fr"}).text
    assert "Ce qui a été fait" in fr and "Enregistrer l'action" in fr
    ar = browser.client.get(PAGE, headers={"accept-language": "ar"}).text
    assert "سجّل الإجراء" in ar


def test_tokens_show_their_last_use(browser: Browser, web_world: WebWorld) -> None:
    secret, row = identity.create_token(web_world.store, "fiji.officer", label="script")
    browser.sign_in("fiji.officer")
    listed = browser.client.get("/admin/tokens", params={"format": "json"}).json()["tokens"]
    assert [t["last_used_at"] for t in listed if t["id"] == row.id] == [None]
    assert "not yet" in browser.client.get("/admin/tokens").text
    me = browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    listed = browser.client.get("/admin/tokens", params={"format": "json"}).json()["tokens"]
    [used] = [t["last_used_at"] for t in listed if t["id"] == row.id]
    assert used is not None
    page = browser.client.get("/admin/tokens").text
    assert "Last used" in page
    assert re.search(re.escape(used[:10]) + r" \d\d:\d\d", page)
