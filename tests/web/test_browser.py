"""The web application in a real browser: Playwright driving Debian's Chromium.

Skipped, with the reason, when /usr/bin/chromium is missing (`make test` installs it),
unless $MARSAD_REQUIRE_SERVICES is set, as in CI. The server is uvicorn on a free
loopback port over a SQLite store planted like the HTTP tests' world.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from marsad.exchange.app import create_app
from marsad.model.organisation import make_organisation
from marsad.store.engine import sqlite_url
from marsad.store.store import Store
from tests.conftest import DATA
from tests.web.conftest import DESK, FIJI, GREEN_HOST, PASSWORD, PG, STRICT_VALUE, plant

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
MISP = DATA / "misp/feed/5721c2e4-05ec-4af3-9264-411b950d210f.json"

if not Path(CHROMIUM).exists() and not os.environ.get("MARSAD_REQUIRE_SERVICES"):
    pytest.skip(f"{CHROMIUM} is not installed (make test installs it)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_planted(path: Path, *extra: Callable[[Store], object]) -> Iterator[str]:
    """uvicorn on a free loopback port over a copy of the template planted like the HTTP
    tests' world (then ``extra`` steps); yields the base URL, stops it afterwards."""
    import uvicorn

    store = Store.open(sqlite_url(path))
    store.add_org(make_organisation(PG, "private-partner", "AU", "asia-south-pacific"))
    store.add_org(make_organisation(FIJI, "national-cyber-unit", "FJ", "asia-south-pacific"))
    store.add_org(make_organisation(DESK, "regional-desk", "SG", "asia-south-pacific"))
    plant(store)
    for step in extra:
        step(store)
    port = _free_port()
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application on a loopback port, over a planted SQLite store."""
    path = tmp_path_factory.mktemp("browser") / "marsad.db"
    shutil.copy(sqlite_template, path)
    yield from serve_planted(path)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="en-GB")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, errors  # no script failed (a CSP violation of our own would show here)


def assert_labelled(page: Any, path: str) -> None:
    """Every field of the open page has a label for screen readers; every header a scope."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
             .map(e => e.name || e.id)"""
    )
    assert unlabelled == [], (path, unlabelled)
    unscoped = page.evaluate("() => document.querySelectorAll('th:not([scope])').length")
    assert unscoped == 0, path


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_upload_search_cluster_and_arabic(page: Any, server: str) -> None:
    sign_in(page, server, "fiji.officer")
    assert page.get_by_role("heading", level=1).inner_text() == f"Dashboard: {FIJI}"
    page.get_by_role("link", name="Submissions").click()
    page.get_by_label("File (MISP, STIX 2.1, CSV, a list, a report…)").set_input_files(str(MISP))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/submissions/*")
    report = page.locator("#parse-report")
    assert "misp" in report.inner_text()
    assert page.get_by_role("heading", name="Rejected records").is_visible()
    page.get_by_role("link", name="Search").click()
    page.get_by_label("One value as typed").fill("hxxps://GREEN-SHOP[.]example[.]net/login")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=GREEN_HOST).first.wait_for()
    assert "TLP:GREEN" in page.locator("table").first.inner_text()
    page.get_by_role("link", name=GREEN_HOST).first.click()
    page.locator("dl.facts a[href^='/clusters/']").click()
    page.wait_for_url("**/clusters/*")
    page.locator("#graph canvas").first.wait_for()  # Cytoscape drew the graph
    assert "ipv4:203.0.113.77" in page.locator("main").inner_text()
    page.get_by_role("link", name="العربية").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    start = page.locator("header nav").bounding_box()
    assert start is not None and start["x"] > 0  # the navigation sits at the right in Arabic


def test_a_partner_cannot_reach_a_restricted_record_by_url(page: Any, server: str) -> None:
    sign_in(page, server, "pg.user")
    response = page.goto(f"{server}/observables/domain/{STRICT_VALUE}")
    assert response is not None and response.status == 404
    main = page.locator("main").inner_text()
    assert STRICT_VALUE not in main and FIJI not in main
    page.goto(f"{server}/search?q={STRICT_VALUE}")
    assert "0 assertions" in page.locator("main").inner_text()


def test_sign_out_and_keyboard_skip_link(page: Any, server: str) -> None:
    sign_in(page, server, "desk.analyst")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(f"{server}/")
    assert "/login" in page.url


def test_every_form_field_has_a_label_and_tables_have_scoped_headers(
    page: Any, server: str
) -> None:
    sign_in(page, server, "fiji.officer")
    for path in (
        "/",
        "/search?q=green-shop.example.net",
        "/submissions",
        f"/observables/domain/{GREEN_HOST}",
    ):
        page.goto(server + path)
        assert_labelled(page, path)


def test_cluster_explorer_expands_shows_evidence_and_exports_stix(page: Any, server: str) -> None:
    sign_in(page, server, "fiji.officer")
    page.goto(f"{server}/observables/domain/{GREEN_HOST}")
    page.locator("dl.facts a[href^='/clusters/']").click()
    page.locator("#graph[data-state='ready']").wait_for()
    shop2 = "domain:green-shop2.example.net"
    page.evaluate(f"void marsadGraph.cy.getElementById('{shop2}').remove()")  # out of the view
    page.evaluate("void marsadGraph.cy.getElementById('ipv4:203.0.113.77').emit('tap')")
    detail = page.locator("#graph-detail")
    detail.get_by_role("row", name=FIJI).wait_for()  # the address's evidence, fetched
    detail.get_by_role("button", name="Show its neighbours").click()
    page.get_by_role("status").filter(has_text="Neighbours added: 1.").wait_for()
    assert page.evaluate(f"marsadGraph.cy.getElementById('{shop2}').length") == 1
    page.evaluate("void marsadGraph.cy.edges().first().emit('tap')")
    assert "resolves-to" in detail.inner_text() and "TLP:GREEN" in detail.inner_text()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export the view as STIX 2.1").click()
    bundle = json.loads(Path(download.value.path()).read_bytes())
    patterns = " ".join(o.get("pattern", "") for o in bundle["objects"])
    assert GREEN_HOST in patterns and "green-shop2.example.net" in patterns
    assert sum(o["type"] == "relationship" for o in bundle["objects"]) == 2


def test_a_partner_records_an_action_from_the_value_page(page: Any, server: str) -> None:
    sign_in(page, server, "pg.user")
    page.goto(f"{server}/observables/domain/{GREEN_HOST}")
    page.get_by_label("What was done").select_option("taken-down")
    page.get_by_label("Note (optional)").fill("registrar suspended it")
    page.get_by_role("button", name="Record the action").click()
    page.wait_for_url(f"**/observables/domain/{GREEN_HOST}#actions")
    row = page.locator("#actions tbody tr").first.inner_text()
    assert "Taken down" in row and "PhishGuard (pg.user)" in row and "registrar suspended it" in row


def test_cluster_explorer_filter_hides_only_other_links_and_expand_keeps_the_view(
    page: Any, server: str
) -> None:
    sign_in(page, server, "fiji.officer")
    page.goto(f"{server}/observables/domain/{GREEN_HOST}")
    page.locator("dl.facts a[href^='/clusters/']").click()
    page.locator("#graph[data-state='ready']").wait_for()
    # style() first: it applies a restyle still pending from the toggle; visible() and
    # interactive() answer from a cache that only a style read or the next frame refreshes
    count = """kind => { const cy = marsadGraph.cy; return {
        nodes: cy.nodes().length, hidden: cy.edges('.off').length,
        drawn: cy.edges('.off').filter(e => e.style('visibility') !== 'hidden' || e.interactive()).length,
        shown: cy.edges().not('.off').map(e => e.data('label')),
        other: cy.edges().filter(e => e.data('label') !== kind).length }; }"""
    types = page.evaluate(
        "[...document.getElementById('edge-type').options].map(o => o.value).filter(v => v)"
    )
    assert "resolves-to" in types, types
    if "url-host" not in types:  # this cluster has no URL: offer the type so that it hides all
        page.evaluate("""() => { const o = document.createElement('option');
            o.value = o.textContent = 'url-host'; document.getElementById('edge-type').append(o); }""")
        types.append("url-host")
    before = page.evaluate(count, "")
    select = page.locator("#edge-type")
    for kind in [*types, "", types[0]]:
        select.select_option(kind)
        now = page.evaluate(count, kind)
        assert now["nodes"] == before["nodes"]  # a filter hides links, never nodes
        assert now["hidden"] == (now["other"] if kind else 0)
        assert now["drawn"] == 0  # a hidden link is neither drawn nor tappable
        assert set(now["shown"]) <= ({kind} if kind else set(types))
    # expand with the filter on: the neighbour comes back beside its hub, nothing else moves,
    # and its link of another type arrives hidden
    kind = "url-host"  # shop2's link (resolves-to) must arrive hidden
    select.select_option(kind)
    hub, shop2 = "ipv4:203.0.113.77", "domain:green-shop2.example.net"
    page.evaluate(f"void marsadGraph.cy.getElementById('{shop2}').remove()")
    where = "() => Object.fromEntries(marsadGraph.cy.nodes().map(n => [n.id(), n.position()]))"
    kept = page.evaluate(where)
    found = page.evaluate(f"marsadGraph.expand('{hub}').then(f => f && f.shown)")
    assert found and found >= 1
    after = page.evaluate(where)
    assert {k: after[k] for k in kept} == kept  # no layout ran over the view
    centre, placed = after[hub], after[shop2]
    assert abs(placed["x"] - centre["x"]) <= 60 and abs(placed["y"] - centre["y"]) <= 60
    link = page.evaluate(
        f"marsadGraph.cy.getElementById('{shop2}').connectedEdges()"
        ".map(e => [e.data('label'), e.hasClass('off')])"
    )
    assert link and all(label == "resolves-to" and off for label, off in link)
