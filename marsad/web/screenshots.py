"""Screenshots of the main pages for the README: ``python -m marsad.web.screenshots``.

Serves the configured instance (the demo world after `make demo SERVE=0`) on a loopback
port, signs in as a demo account in Debian's Chromium through Playwright and saves one PNG
per page under docs/screenshots/.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _serve(db: str | None) -> tuple[str, Any]:
    import uvicorn

    from marsad.cli import instance
    from marsad.exchange.app import create_app

    store = instance.open_store(db)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _first_link(page: Any, selector: str) -> str | None:
    link = page.locator(selector).first
    return link.get_attribute("href") if link.count() else None


def main() -> None:
    """Take the screenshots."""
    from playwright.sync_api import sync_playwright

    from marsad.demo.accounts import PASSWORD

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--user", default="hub.analyst")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument("--unit-user", default="fiji.officer")
    parser.add_argument("--period", default="2026-10", help="Of the activity report shown.")
    parser.add_argument("--search", default="")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base, server = _serve(args.db)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        def shot(name: str) -> None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(out / f"{name}.png")

        page.goto(f"{base}/login")
        shot("sign-in")
        page.fill("#username", args.user)
        page.fill("#password", args.password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.locator("#top-clusters-table").wait_for(timeout=120_000)  # loaded after the page
        shot("dashboard")
        listed = page.request.get(f"{base}/clusters?format=json").json()["clusters"]
        sized = [c for c in listed if 12 <= c["size"] <= 80] or listed
        if sized:  # a network small enough to read in the picture
            page.goto(f"{base}/clusters/{sized[0]['id']}")
        page.wait_for_timeout(2500)
        page.locator("#graph").scroll_into_view_if_needed()
        shot("cluster")
        member = _first_link(page, "main table a[href^='/observables/']")
        value = args.search or (member.rsplit("/", 1)[1] if member else "example.com")
        page.goto(f"{base}/search?q={value}")
        shot("search")
        if member:
            page.goto(base + member)
            shot("observable")
        page.goto(f"{base}/submissions")
        shot("submissions")
        page.goto(f"{base}/lang/ar?next=/")
        page.locator("#top-clusters-table").wait_for(timeout=120_000)
        shot("dashboard-ar")
        page.goto(f"{base}/lang/en?next=/")
        unit = browser.new_page(viewport={"width": 1400, "height": 900})  # a national unit
        unit.goto(f"{base}/login")
        unit.fill("#username", args.unit_user)
        unit.fill("#password", args.password)
        unit.click("button[type=submit]")
        unit.wait_for_url(f"{base}/")
        for name, path in (("alerts", "/alerts"), ("reports", f"/reports?period={args.period}")):
            unit.goto(base + path)
            unit.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(out / f"{name}.png")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
