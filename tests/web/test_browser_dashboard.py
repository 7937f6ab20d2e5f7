"""The dashboard and the new product pages in a real browser (Playwright driving Chromium):
the top clusters arrive through htmx under the strict content security policy, and every
field of the product forms has a label."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from marsad.store import kept
from tests.web.test_browser import (  # noqa: F401
    assert_labelled,
    chromium,
    page,
    serve_planted,
    sign_in,
)
from tests.web.test_dashboard import RED_LINK, plant_clusters


@pytest.fixture(scope="module")
def dashboard_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The application on a loopback port, with PhishGuard's clusters planted beside Fiji's."""
    path = tmp_path_factory.mktemp("browser-dashboard") / "marsad.db"
    shutil.copy(sqlite_template, path)
    yield from serve_planted(path, plant_clusters)


def test_the_top_clusters_load_into_the_dashboard(page: Any, dashboard_server: str) -> None:  # noqa: F811
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, dashboard_server, "fiji.officer")
    page.goto(dashboard_server + "/")
    table = page.locator("#top-clusters-table")
    table.wait_for()
    text = table.inner_text()
    assert "#" in text and RED_LINK not in text and "red-a" not in text
    assert table.locator("a[href^='/clusters/']").count() == 1
    assert page.locator("#threat-types svg.spark rect").count() > 0
    assert refused == []
    table.get_by_role("link", name="Modus-operandi notice").click()
    page.wait_for_url("**/reports/notice?cluster=*")
    page.locator("#notice-indicators").wait_for()
    assert RED_LINK not in page.locator("#notice-indicators").inner_text()


def test_the_product_forms_label_every_field(page: Any, dashboard_server: str) -> None:  # noqa: F811
    sign_in(page, dashboard_server, "fiji.officer")
    for path in ("/", "/reports/assessment", "/reports/advisory", "/reports/notice"):
        page.goto(dashboard_server + path)
        assert_labelled(page, path)


def test_the_top_clusters_show_their_progress_first(page: Any, dashboard_server: str) -> None:  # noqa: F811
    """Nothing kept: the dashboard's clusters region holds the progress of the ranking's
    build (busy, a status), then the ranking replaces it without a reload."""
    sign_in(page, dashboard_server, "fiji.officer")  # lands on the dashboard: built once
    page.locator("#top-clusters-table").wait_for()
    kept.forget_all()  # as after a change: nothing kept (the server runs in this process)
    page.goto(dashboard_server + "/")
    region = page.locator("#top-clusters")
    status = region.locator(".building[role=status]")
    status.wait_for()
    assert region.get_attribute("aria-busy") == "true" and region.locator("progress").count() == 1
    assert "Ranking the clusters that concern you" in status.inner_text()
    region.locator("#top-clusters-table").wait_for()
    assert region.get_attribute("aria-busy") == "false" and status.count() == 0
