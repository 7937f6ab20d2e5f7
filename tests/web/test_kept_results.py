"""Kept results (a viewer's clusters, the dashboard's ranking, the threat assessment) are
served again only while the store has not changed: a marking tightened after a view is in
the very next answer, and an unchanged store is not read twice."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import update

from marsad.access import stewardship
from marsad.access.policy import EVERYTHING
from marsad.analysis.clusters import save as save_clusters
from marsad.analysis.infrastructure import clusters_of, load_graph
from marsad.model.handling import TLP
from marsad.model.records import ThreatType
from marsad.store import kept
from marsad.store.schema import organisations
from marsad.store.store import Store
from marsad.web import dashboard
from marsad.web import products as web_products
from tests.web.building import shown
from tests.web.conftest import FIJI, PG, Browser, WebWorld, _submit
from tests.web.test_dashboard import _bundle
from tests.web.test_products_pages import FJ_VISIBLE, plant_fijian

PG_FJ = ("pg-shop1.example.com.fj", "pg-shop2.example.com.fj")


def _counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_tightened_marking_is_in_the_next_assessment(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_fijian(web_world.store)
    builds = _counted(monkeypatch, web_products, "assessment")
    asked = {"region": "asia-south-pacific", "period": dt.date.today().strftime("%Y-%m")}
    browser.sign_in("desk.analyst")
    assert FJ_VISIBLE in shown(browser.client, "/reports/assessment", asked).text
    html = browser.client.get("/reports/assessment.html", params=asked)
    assert FJ_VISIBLE in html.text and len(builds) == 1  # view, then download: one build
    fiji = web_world.store.viewer(FIJI)
    assert stewardship.tighten(web_world.store, fiji, submission_id=None, tlp=TLP.RED) > 0
    again = shown(browser.client, "/reports/assessment", asked)
    assert again.status_code == 200 and FJ_VISIBLE not in again.text and len(builds) == 2
    html = browser.client.get("/reports/assessment.html", params=asked)
    assert FJ_VISIBLE not in html.text and len(builds) == 2


def test_a_tightened_marking_is_in_the_next_dashboard_ranking(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = web_world.store
    sub = _submit(store, _bundle(PG_FJ, "198.51.100.99"), PG, TLP.GREEN, [], ThreatType.C2,
                  "pg-fj.json", "stix21")  # fmt: skip
    graph = load_graph(store, EVERYTHING)
    save_clusters(store, graph, clusters_of(graph))
    scored = _counted(monkeypatch, dashboard, "observable_scores")
    browser.sign_in("fiji.officer")
    first = browser.client.get("/dashboard/clusters", params={"format": "json"}).json()
    before = browser.client.get("/dashboard/clusters", params={"format": "json"}).json()
    assert first == before and len(before["clusters"]) == 2  # Fiji's own and PhishGuard's
    assert len(scored) == 1  # kept: the second view did not score again
    stewardship.tighten(store, store.viewer(PG), submission_id=sub, tlp=TLP.RED)
    after = browser.client.get("/dashboard/clusters", params={"format": "json"}).json()
    assert len(scored) == 2 and len(after["clusters"]) == 1  # PhishGuard's .fj network left
    assert after["clusters"][0]["id"] in {c["id"] for c in before["clusters"]}


def test_a_change_recomputes_at_once_and_only_what_ages_is_refreshed_after_its_ttl(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    clock = [1000.0]
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock[0])
    fixed, aging = kept.Kept[int](ttl=None), kept.Kept[int](ttl=10.0)
    assert fixed.get(orgs, "k", compute) == 1 and fixed.get(orgs, "k", compute) == 1
    clock[0] += 3600
    assert fixed.get(orgs, "k", compute) == 1  # made from the data alone: kept however old
    with orgs.engine.begin() as conn:
        conn.execute(update(organisations).where(organisations.c.name == FIJI)
                     .values(region="oceania"))  # fmt: skip
    assert fixed.get(orgs, "k", compute) == 2  # the store changed: computed now, not later
    assert aging.get(orgs, "k", compute) == 3
    clock[0] += 11
    assert aging.get(orgs, "k", compute) == 3  # aged: served once more while recomputed
    for _ in range(200):
        if len(computed) == 4 and aging.get(orgs, "k", compute) == 4:
            break
        time.sleep(0.05)
    assert aging.get(orgs, "k", compute) == 4 and len(computed) == 4
