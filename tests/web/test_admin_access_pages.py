"""API tokens, the sharing agreement and the watchlist in the browser, on both engines.

Each page for the roles that may use it and refused to the others; a token's secret shown
once and a revoked token refused by the API; the agreement's validation next to its fields
and no way to set another organisation's; watchlist entries that the alert evaluator uses.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marsad.access import audit, identity, stewardship
from marsad.access.agreements import AgreementViolation
from marsad.access.policy import Role
from marsad.ingest.batch import submission_defaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling
from marsad.model.organisation import make_organisation
from marsad.products import alert_store, alerting
from marsad.store.schema import api_tokens
from tests.web.conftest import DESK, FIJI, PASSWORD, PG, Browser, WebWorld

SECRET = re.compile(r"msd_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def admins(web_world: WebWorld) -> WebWorld:
    """An administrator for Fiji CCU and one for PhishGuard, besides the planted users."""
    identity.add_user(web_world.store, "fiji.admin", FIJI, Role.ADMINISTRATOR, PASSWORD)
    identity.add_user(web_world.store, "pg.admin", PG, Role.ADMINISTRATOR, PASSWORD)
    identity.add_user(web_world.store, "fiji.feed", FIJI, Role.ANALYST, None)  # a script's user
    return web_world


def _as(browser: Browser, user: str) -> str:
    browser.client.cookies.clear()
    assert browser.sign_in(user).status_code == 303
    return browser.csrf("/admin/tokens")


def _main(text: str) -> str:
    return text.split('<main id="main"', 1)[1]


def _me(browser: Browser, secret: str) -> int:
    return browser.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
    ).status_code


# -- tokens ---------------------------------------------------------------------------------


def test_a_token_secret_is_shown_once_and_a_revoked_token_stops_working(
    browser: Browser, admins: WebWorld
) -> None:
    csrf = _as(browser, "fiji.officer")
    made = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "user": "fiji.officer",
                               "role": "read-only", "days": "30", "label": "nightly pull"})  # fmt: skip
    assert made.status_code == 201, made.text[:300]
    [secret] = SECRET.findall(made.text)
    assert made.headers["cache-control"] == "no-store"
    me = browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert (me["user"], me["organisation"], me["role"]) == ("fiji.officer", FIJI, "read-only")

    listing = browser.client.get("/admin/tokens")
    assert secret not in listing.text and secret[:12] in listing.text
    assert "nightly pull" in listing.text and "read-only" in _main(listing.text)
    with admins.store.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash, api_tokens.c.prefix)).all()
    assert all(secret not in (h, p) for h, p in stored)
    assert not [e for e in audit.entries(admins.store) if secret in str(e.details) + e.target]

    [row] = [t for t in identity.list_tokens(admins.store, "fiji.officer")]
    assert browser.client.post(f"/admin/tokens/{row.id}/revoke").status_code == 403  # no CSRF
    assert _me(browser, secret) == 200
    done = browser.client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 200 and done.url.path == "/admin/tokens"
    assert f"Token {row.prefix} is revoked" in done.text
    assert _me(browser, secret) == 401
    again = browser.client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert again.status_code == 404
    actions = [e.action for e in audit.entries(admins.store, actor="fiji.officer")]
    assert "token-create" in actions and "token-revoke" in actions


def test_a_token_never_has_more_than_its_users_role(browser: Browser, admins: WebWorld) -> None:
    csrf = _as(browser, "fiji.officer")
    form = browser.client.get("/admin/tokens").text
    offered = re.findall(
        r'<option value="([a-z-]+)"', form.split('id="t-role"', 1)[1].split("</select>")[0]
    )
    assert offered == ["analyst", "officer", "partner-submitter", "read-only"]  # no more actions
    forged = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "role": "administrator",
                                                        "days": "30"})  # fmt: skip
    assert forged.status_code == 422
    assert 'aria-describedby="err-role"' in forged.text and "would allow more" in forged.text
    bad_days = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "role": "officer",
                                                          "days": "100000"})  # fmt: skip
    assert bad_days.status_code == 422 and 'id="err-days"' in bad_days.text
    for_other = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "user": "fiji.auditor",
                                                           "role": "auditor", "days": "30"})  # fmt: skip
    assert for_other.status_code == 403
    assert not identity.list_tokens(admins.store, "fiji.auditor")


def test_administrators_manage_their_organisations_tokens_only(
    browser: Browser, admins: WebWorld
) -> None:
    store = admins.store
    _, officer = identity.create_token(store, "fiji.officer")
    _, desk_own = identity.create_token(store, "desk.analyst", DESK)
    _, desk_in_fiji = identity.create_token(store, "desk.analyst", FIJI)
    csrf = _as(browser, "fiji.admin")
    made = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "user": "fiji.feed",
                               "role": "analyst", "days": "365"})  # fmt: skip
    assert made.status_code == 201 and "fiji.feed" in made.text
    [feed] = identity.list_tokens(store, "fiji.feed")
    assert (feed.org, feed.role) == (FIJI, Role.ANALYST)
    outsider = browser.client.post("/admin/tokens", data={"csrf_token": csrf, "user": "pg.user",
                                   "role": "read-only", "days": "30"})  # fmt: skip
    assert outsider.status_code == 422 and 'id="err-user"' in outsider.text
    listing = _main(browser.client.get("/admin/tokens").text)
    assert officer.prefix in listing and desk_in_fiji.prefix in listing and feed.prefix in listing
    assert desk_own.prefix not in listing  # desk.analyst's token for ASP Desk is not Fiji's

    csrf = _as(browser, "hub.admin")  # ASP Desk's administrator
    listing = _main(browser.client.get("/admin/tokens").text)
    assert desk_own.prefix in listing and officer.prefix not in listing
    refused = browser.client.post(f"/admin/tokens/{officer.id}/revoke", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert [t.revoked_at for t in identity.list_tokens(store, "fiji.officer")] == [None]
    denied = audit.entries(store, actor="hub.admin", action="token-revoke", outcome="deny")
    assert len(denied) == 1


def test_tokens_are_created_by_people_not_by_tokens(browser: Browser, admins: WebWorld) -> None:
    secret, _ = identity.create_token(admins.store, "fiji.admin")
    bearer = {"Authorization": f"Bearer {secret}"}
    listing = browser.client.get("/admin/tokens", params={"format": "json"}, headers=bearer)
    assert listing.status_code == 200 and listing.json()["may_create"] is False
    minted = browser.client.post("/admin/tokens", data={"role": "administrator", "days": "365"},
                                 headers=bearer)  # fmt: skip
    assert minted.status_code == 403 and len(identity.list_tokens(admins.store, "fiji.admin")) == 1


# -- sharing agreements -----------------------------------------------------------------------

AGREEMENT = {"org": PG, "tlp": "amber", "pap": "green", "members": "1",
             "organisations": FIJI, "reliability": "B", "credibility": "2",
             "purpose": "threat-analysis", "retain_until": ""}  # fmt: skip


def test_members_see_the_agreement_and_only_its_administrator_sets_it(
    browser: Browser, admins: WebWorld
) -> None:
    store = admins.store
    csrf = _as(browser, "pg.user")
    shown = browser.client.get("/admin/agreements")
    assert (
        shown.status_code == 200
        and "None yet" in shown.text
        and '<form method="post" action="/admin/agreements"' not in shown.text
    )
    assert (
        browser.client.post("/admin/agreements", data={**AGREEMENT, "csrf_token": csrf}).status_code
        == 403
    )

    csrf = _as(browser, "pg.admin")
    saved = browser.client.post("/admin/agreements", data={**AGREEMENT, "csrf_token": csrf})
    assert saved.status_code == 200 and saved.url.path == "/admin/agreements"
    assert "The agreement is saved" in saved.text and "org:Fiji CCU" in saved.text
    agreement = stewardship.agreement_of(store, store.org(PG).id)
    assert agreement is not None
    assert (agreement.tlp.value, agreement.pap.value, agreement.grading) == ("amber", "green", "B2")
    assert agreement.releasable_to.tokens() == [f"org:{FIJI}", "members"]
    [entry] = audit.entries(store, action="agreement-set")
    assert (entry.actor, entry.org, entry.target) == ("pg.admin", PG, PG)
    # the agreement now governs PhishGuard's submissions: no release beyond it
    with pytest.raises(AgreementViolation):
        ingest(store, b"beyond.example.org\n", source=PG, fmt="list",
               defaults=submission_defaults(releasable_to=f"org:{DESK}"))  # fmt: skip


def test_agreement_errors_are_shown_next_to_their_fields(
    browser: Browser, admins: WebWorld
) -> None:
    csrf = _as(browser, "pg.admin")
    bad = {**AGREEMENT, "csrf_token": csrf, "organisations": "Nowhere Unit", "tlp": "purple",
           "retain_until": "2020-01-01", "regions": "atlantis"}  # fmt: skip
    answer = browser.client.post("/admin/agreements", data=bad)
    assert answer.status_code == 422
    main = _main(answer.text)
    assert 'role="alert"' in main
    for field, message in (("organisations", "Unknown organisation: Nowhere Unit."),
                           ("tlp", "Choose a TLP label from the list."),
                           ("retain_until", "Give a date after today"),
                           ("regions", "Unknown region: atlantis.")):  # fmt: skip
        assert re.search(rf'<span class="error" id="err-{field}">{re.escape(message)}', main), field
    assert 'aria-describedby="err-organisations"' in main and "Nowhere Unit</textarea>" in main
    assert stewardship.agreement_of(admins.store, admins.store.org(PG).id) is None
    browser.client.cookies.set("marsad_lang", "fr")
    french = browser.client.post("/admin/agreements", data=bad)
    assert "Organisation inconnue : Nowhere Unit." in french.text


def test_nobody_sets_another_organisations_agreement_even_by_forging_the_form(
    browser: Browser, admins: WebWorld
) -> None:
    store = admins.store
    stewardship.set_agreement(store, PG, Handling(), store.viewer(PG))
    csrf = _as(browser, "fiji.admin")
    forged = browser.client.post("/admin/agreements", data={**AGREEMENT, "csrf_token": csrf,
                                                            "tlp": "clear", "org": PG})  # fmt: skip
    assert forged.status_code == 403
    assert stewardship.agreement_of(store, store.org(PG).id) == Handling()
    assert audit.entries(store, actor="fiji.admin", action="agreement-set", outcome="deny")
    own = browser.client.post("/admin/agreements", data={**AGREEMENT, "csrf_token": csrf,
                                                         "org": FIJI, "organisations": ""})  # fmt: skip
    assert own.status_code == 200  # its own, yes
    assert stewardship.agreement_of(store, store.org(FIJI).id) is not None


def test_the_hubs_administrators_see_every_agreement_others_only_their_own(
    browser: Browser, admins: WebWorld
) -> None:
    store = admins.store
    store.add_org(make_organisation("Global Hub", "hub", None, None))
    identity.add_user(store, "global.admin", "Global Hub", Role.ADMINISTRATOR, PASSWORD)
    stewardship.set_agreement(store, PG, Handling(tlp=TLP.RED), store.viewer(PG))
    _as(browser, "global.admin")
    overview = browser.client.get("/admin/agreements", params={"format": "json"}).json()
    assert [(o["org"], o["agreement"]["tlp"]) for o in overview["overview"]] == [(PG, "red")]
    assert "Agreements of every organisation" in browser.client.get("/admin/agreements").text
    _as(browser, "hub.admin")  # ASP Desk's administrator: a desk, not the hub
    mine = browser.client.get("/admin/agreements", params={"format": "json"}).json()
    assert mine["overview"] is None and mine["org"] == DESK and mine["agreement"] is None


# -- watchlists -------------------------------------------------------------------------------


def test_the_watchlist_feeds_the_alerts_and_entries_are_removed(
    browser: Browser, admins: WebWorld
) -> None:
    store = admins.store
    csrf = _as(browser, "fiji.officer")
    assert browser.client.get("/admin/watchlists").status_code == 200
    refused = browser.client.post("/admin/watchlists", data={"csrf_token": csrf, "kind": "country",
                                                             "value": "FJ"})  # fmt: skip
    assert refused.status_code == 403

    csrf = _as(browser, "fiji.admin")
    added = browser.client.post("/admin/watchlists", data={"csrf_token": csrf, "kind": "keyword",
                                                           "value": "Green-Shop"})  # fmt: skip
    assert added.status_code == 200 and added.url.path == "/admin/watchlists"
    assert ">green-shop</th>" in added.text
    for kind, value, message in (("asn", "ASX", "An autonomous system is a number"),
                                 ("keyword", "green-shop", "already watches this"),
                                 ("country", "x" * 600, "At most 500 characters"),
                                 ("planet", "mars", "Choose a kind of entry")):  # fmt: skip
        answer = browser.client.post("/admin/watchlists",
                                     data={"csrf_token": csrf, "kind": kind, "value": value})  # fmt: skip
        assert answer.status_code == 422 and message in answer.text, (kind, value)
    [entry] = alert_store.list_entries(store, FIJI)
    assert (entry.kind, entry.value) == ("keyword", "green-shop")

    alerting.run(store, context=alerting.Context(deliver=False))
    inbox = browser.client.get("/alerts", params={"format": "json"}).json()
    assert any("keyword:green-shop" in str(a) for a in inbox["alerts"])

    csrf = _as(browser, "hub.admin")  # ASP Desk's administrator cannot remove Fiji's entry
    assert entry.value not in _main(browser.client.get("/admin/watchlists").text)
    gone = browser.client.post(f"/admin/watchlists/{entry.id}/remove", data={"csrf_token": csrf})
    assert gone.status_code == 404 and alert_store.list_entries(store, FIJI) == [entry]

    csrf = _as(browser, "fiji.admin")
    removed = browser.client.post(f"/admin/watchlists/{entry.id}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 200 and alert_store.list_entries(store, FIJI) == []
    assert {e.action for e in audit.entries(store, actor="fiji.admin")} >= {
        "watch-add",
        "watch-remove",
    }


# -- navigation -------------------------------------------------------------------------------


def test_the_navigation_offers_each_role_what_it_may_use(
    browser: Browser, admins: WebWorld
) -> None:
    _as(browser, "fiji.auditor")
    page = browser.client.get("/admin/agreements").text
    assert 'href="/admin/tokens"' in page and 'href="/admin/users"' not in page
    assert ">Settings</a>" in page and ">Administration</a>" not in page
    for path in ("/admin/tokens", "/admin/agreements", "/admin/watchlists"):
        assert browser.client.get(path).status_code == 200, path
    _as(browser, "fiji.admin")
    page = browser.client.get("/admin/watchlists").text
    assert ">Administration</a>" in page and 'href="/admin/users"' in page
    assert 'id="w-value"' in page and '<label for="w-value">' in page
