"""Sign-in throttling: five failures for a user name (or twenty from an address) refuse a while."""

from __future__ import annotations

import datetime as dt

from marsad.access import audit
from marsad.web import throttle
from tests.web.conftest import Browser, WebWorld


def test_five_failures_lock_the_user_name_even_with_the_right_password(
    browser: Browser, web_world: WebWorld
) -> None:
    for _ in range(throttle.PER_USER):
        assert browser.sign_in("desk.analyst", "wrong guess").status_code == 401
    refused = browser.sign_in("desk.analyst")  # the right password, too late
    assert refused.status_code == 429 and "Too many failed sign-in attempts" in refused.text
    assert "marsad_session=" not in refused.headers.get("set-cookie", "")
    [latest, *_] = audit.entries(web_world.store, action="login", outcome="deny")
    assert (
        latest.target == "desk.analyst" and latest.details["reason"] == "too many failed attempts"
    )
    assert browser.sign_in("fiji.officer").status_code == 303  # another user name is not locked


def test_the_lock_lifts_once_the_failures_are_older_than_the_window(
    browser: Browser, web_world: WebWorld
) -> None:
    for _ in range(throttle.PER_USER):
        browser.sign_in("desk.analyst", "wrong guess")
    assert browser.sign_in("desk.analyst").status_code == 429
    later = dt.datetime.now(dt.UTC) + throttle.WINDOW + dt.timedelta(minutes=1)
    assert throttle.locked(web_world.store, "desk.analyst", "testclient")
    assert not throttle.locked(web_world.store, "desk.analyst", "testclient", now=later)


def test_failures_from_one_address_lock_every_user_name_from_it(
    browser: Browser, web_world: WebWorld
) -> None:
    for n in range(throttle.PER_ADDRESS):
        assert browser.sign_in(f"guess-{n}", "x").status_code in (401, 429)
    assert browser.sign_in("fiji.officer").status_code == 429
    assert not throttle.locked(web_world.store, "fiji.officer", "192.0.2.1")
    assert throttle.locked(web_world.store, "fiji.officer", "testclient")
    assert not throttle.locked(web_world.store, "x_%", "192.0.2.%")  # no wildcard matching
