"""API tokens, the sharing agreement and the watchlist in a real browser (Playwright, Chromium).

Its own server over the HTTP tests' world plus an administrator of Fiji CCU; the browser,
the tab and sign-in come from `test_browser`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from marsad.access import identity
from marsad.access.policy import Role
from marsad.store.store import Store
from tests.web.conftest import FIJI, PASSWORD
from tests.web.test_browser import (  # noqa: F401
    assert_labelled,
    chromium,
    page,
    serve_planted,
    sign_in,
)

PAGES = ("/admin/tokens", "/admin/agreements", "/admin/watchlists")


def _fiji_admin(store: Store) -> None:
    identity.add_user(store, "fiji.admin", FIJI, Role.ADMINISTRATOR, PASSWORD)


@pytest.fixture(scope="module")
def admin_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("browser-admin") / "marsad.db"
    shutil.copy(sqlite_template, path)
    yield from serve_planted(path, _fiji_admin)


def test_an_administrator_creates_and_revokes_a_token_and_keeps_the_watchlist(
    page: Any,  # noqa: F811
    admin_server: str,
) -> None:
    base = admin_server
    sign_in(page, base, "fiji.admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/admin/tokens")
    page.get_by_label("Role (at most the user's own)").select_option("read-only")
    page.get_by_label("Label (what it is for)").fill("browser test")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("The token's secret").input_value()
    assert re.fullmatch(r"msd_[A-Za-z0-9_-]{40,}", secret)
    page.get_by_role("link", name="Back to the tokens").click()
    assert secret not in page.content()
    page.get_by_role("button", name=re.compile(f"Revoke token {secret[:12]}")).click()
    assert page.get_by_role("status").inner_text().startswith(f"Token {secret[:12]} is revoked")

    page.get_by_role("link", name="Watchlist", exact=True).click()
    page.get_by_label("Kind").select_option("asn")
    page.get_by_label("Entry").fill("ASX")
    page.get_by_role("button", name="Add to the watchlist").click()
    field = page.get_by_label("Entry")
    assert field.get_attribute("aria-invalid") == "true"
    assert "a number, like AS64500" in page.locator("#err-value").inner_text()
    field.fill("AS64500")
    page.get_by_role("button", name="Add to the watchlist").click()
    page.get_by_role("button", name="Stop watching 64500").wait_for()

    for path in PAGES:  # every field labelled, every header scoped
        page.goto(base + path)
        assert_labelled(page, path)
    page.goto(f"{base}/lang/ar?next=/admin/agreements")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", level=1).inner_text() == f"اتفاق المشاركة الخاص بـ {FIJI}"
