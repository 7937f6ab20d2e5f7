"""The alerts inbox and the reports page in a real browser (Playwright driving Chromium).

Its own server, over a store planted like the HTTP tests' world plus alerts and Fijian
values; the browser, the tab and sign-in come from `test_browser`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser import (  # noqa: F401
    assert_labelled,
    chromium,
    page,
    serve_planted,
    sign_in,
)
from tests.web.test_products_pages import FJ_HIDDEN, FJ_VISIBLE, plant_fijian, raise_alerts


@pytest.fixture(scope="module")
def products_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The application on a loopback port, with alerts raised and Fijian values planted."""
    path = tmp_path_factory.mktemp("browser-products") / "marsad.db"
    shutil.copy(sqlite_template, path)
    yield from serve_planted(path, plant_fijian, raise_alerts)


def test_download_an_activity_report_pdf(page: Any, products_server: str) -> None:  # noqa: F811
    base = products_server
    sign_in(page, base, "fiji.officer")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/reports")
    assert page.get_by_label("Country (ISO code)").input_value() == "FJ"
    page.get_by_label("Period").fill(dt.date.today().strftime("%Y-%m"))
    page.get_by_role("button", name="Produce the report").click()
    page.locator("#report-items").wait_for()
    items = page.locator("#report-items").inner_text()
    assert FJ_VISIBLE in items and FJ_HIDDEN not in items
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")


def test_acknowledge_an_alert_in_the_inbox(page: Any, products_server: str) -> None:  # noqa: F811
    base = products_server
    sign_in(page, base, "fiji.officer")
    page.get_by_role("link", name="Alerts", exact=True).click()
    page.wait_for_url("**/alerts")
    rows = page.locator("#alerts tbody tr[id^='alert-']")
    before = rows.count()
    assert before > 0
    first = rows.first.get_attribute("id")
    rows.first.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    page.locator("#alerts").wait_for()
    assert page.locator(f"#{first}").count() == 0 and rows.count() == before - 1
    page.get_by_label("Show").select_option("all")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/alerts?show=all")
    assert "fiji.officer" in page.locator(f"#{first}").inner_text()


def test_the_new_pages_label_every_field(page: Any, products_server: str) -> None:  # noqa: F811
    sign_in(page, products_server, "fiji.officer")
    for path in ("/alerts?show=all", "/reports?country=FJ&period=2026"):
        page.goto(products_server + path)
        assert_labelled(page, path)


def test_the_assessment_shows_its_progress_then_itself(page: Any, products_server: str) -> None:  # noqa: F811
    """Opened cold, the page answers with the progress of the build (a live region, busy),
    and htmx polls the assessment into it without a reload, downloads and all."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    sign_in(page, products_server, "fiji.officer")
    month = dt.date.today().strftime("%Y-%m")
    page.goto(f"{products_server}/reports/assessment?region=asia-south-pacific&period={month}")
    region = page.locator("#product-build")
    assert region.get_attribute("aria-live") == "polite"
    status = region.get_by_role("status")
    assert status.count() == 1 and "Building the threat assessment" in status.inner_text()
    assert "elapsed" in status.inner_text() and region.locator("progress").count() == 1
    assert page.get_by_role("link", name="Download PDF").count() == 0  # not before it exists
    url = page.url
    page.locator("#product-title").wait_for(timeout=60_000)
    assert page.url == url  # swapped in, not reloaded
    assert region.get_attribute("aria-busy") == "false" and status.count() == 0
    assert FJ_VISIBLE in region.inner_text() and FJ_HIDDEN not in region.inner_text()
    assert page.get_by_role("link", name="Download PDF").count() == 1
    assert refused == []
