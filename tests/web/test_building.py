"""Results built in the background (`marsad.store.kept.Kept.ready`): the threat assessment and
the dashboard's top clusters answer at once with the progress of their build, htmx polls
the same address until the result replaces it, one build serves every request of the same
key, each grant gets its own, a failure is shown as a sentence, and a build the data moved
under is never served as fresh."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import update

from marsad.access import audit, stewardship
from marsad.model.errors import MarsadError
from marsad.model.handling import TLP
from marsad.store import kept
from marsad.store.schema import organisations
from marsad.store.store import Store
from marsad.web import dashboard
from marsad.web import products as web_products
from tests.web.building import BUSY, POLL, shown
from tests.web.conftest import FIJI, PG, Browser, WebWorld
from tests.web.test_dashboard import plant_clusters
from tests.web.test_products_pages import FJ_HIDDEN, FJ_VISIBLE, plant_fijian

PATH = "/reports/assessment"


def _asked() -> dict[str, str]:
    return {"region": "asia-south-pacific", "period": dt.date.today().strftime("%Y-%m")}


class Gate:
    """Wraps a module's function: counts its calls and holds each until opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls: list[str] = []
        self.open = threading.Event()
        self.entered = threading.Event()
        real = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(str(kwargs.get("as_org", "")))
            self.entered.set()
            assert self.open.wait(60), "the gate was never opened"
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, held)


def _poll(client: Any, path: str, params: dict[str, str] | None = None) -> str:
    """Poll like htmx until the fragment holds no progress indicator; the last fragment."""
    end = time.monotonic() + 120
    while True:
        text = client.get(path, params=params, headers=POLL).text
        if BUSY not in text:
            return text
        assert time.monotonic() < end, "still building"
        time.sleep(0.05)


def test_the_assessment_answers_at_once_with_its_progress_then_polls_it_in(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_fijian(web_world.store)
    gate = Gate(monkeypatch, web_products, "assessment")
    browser.sign_in("fiji.officer")
    first = browser.client.get(PATH, params=_asked())
    assert first.status_code == 200 and BUSY in first.text
    body = first.text
    assert 'role="status"' in body and 'aria-live="polite"' in body and 'aria-busy="true"' in body
    assert 'hx-trigger="load delay:1s"' in body and 'hx-target="#product-build"' in body
    assert f'hx-get="{PATH}?region=asia-south-pacific&amp;period=' in body
    assert "Building the threat assessment" in body and "<progress" in body
    assert "assessment.pdf" not in body and FJ_VISIBLE not in body  # no download before it exists
    assert gate.entered.wait(30)
    polled = browser.client.get(PATH, params=_asked(), headers=POLL).text
    assert "<html" not in polled and BUSY in polled  # a fragment: still building
    assert "Reading the items of" in polled and "s elapsed" in polled
    gate.open.set()
    fragment = _poll(browser.client, PATH, _asked())
    assert "<html" not in fragment and FJ_VISIBLE in fragment and FJ_HIDDEN not in fragment
    assert f"{PATH}.pdf?region=asia-south-pacific" in fragment  # the downloads, now it exists
    page = browser.client.get(PATH, params=_asked()).text  # kept: the product at once
    assert BUSY not in page and FJ_VISIBLE in page and 'aria-busy="false"' in page
    assert len(gate.calls) == 1
    states = [e.details.get("state") for e in audit.entries(
        web_world.store, actor="fiji.officer", action="report-assessment")]  # fmt: skip
    assert (
        "building" in states and states.count(None) >= 2
    )  # every request, the shown ones with ids


def test_one_build_serves_every_request_of_a_key_and_each_grant_gets_its_own(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_fijian(web_world.store)
    gate = Gate(monkeypatch, web_products, "assessment")
    browser.sign_in("fiji.officer")
    with ThreadPoolExecutor(4) as pool:  # four requests at once, one key
        answers = list(pool.map(lambda _: browser.client.get(PATH, params=_asked()), range(4)))
    assert all(BUSY in a.text for a in answers)
    owner = Browser(web_world)  # another organisation polling the very same address
    owner.sign_in("pg.user")
    assert BUSY in owner.client.get(PATH, params=_asked(), headers=POLL).text
    gate.open.set()
    fiji, theirs = _poll(browser.client, PATH, _asked()), _poll(owner.client, PATH, _asked())
    owner.close()
    assert sorted(gate.calls) == sorted([FIJI, PG])  # once per grant
    assert FJ_VISIBLE in fiji and FJ_HIDDEN not in fiji
    assert FJ_HIDDEN in theirs  # its own build, through its own grant


def test_a_failed_build_is_one_sentence_and_a_reload_tries_again(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_fijian(web_world.store)
    real = web_products.assessment
    failures = iter([RuntimeError("boom at line 12"), MarsadError("no period data for you")])

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise next(failures)

    monkeypatch.setattr(web_products, "assessment", failing)
    browser.sign_in("fiji.officer")
    browser.client.get(PATH, params=_asked())  # progress, or the error if it failed already
    fragment = _poll(browser.client, PATH, _asked())
    assert 'role="alert"' in fragment and "unexpected error" in fragment
    assert "boom" not in fragment and "Traceback" not in fragment
    assert _poll(browser.client, PATH, _asked()) == fragment  # polled again: not rebuilt
    browser.client.get(PATH, params=_asked())  # a reload tries again
    fragment = _poll(browser.client, PATH, _asked())
    assert 'role="alert"' in fragment and "no period data for you" in fragment
    denied = audit.entries(web_world.store, actor="fiji.officer", action="report-assessment")
    assert any(e.outcome == "deny" for e in denied)
    monkeypatch.setattr(web_products, "assessment", real)
    assert FJ_VISIBLE in shown(browser.client, PATH, _asked()).text
    with pytest.raises(StopIteration):
        next(failures)  # both failures were met, each once


def test_a_download_waits_for_the_build_the_page_started(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_fijian(web_world.store)
    gate = Gate(monkeypatch, web_products, "assessment")
    browser.sign_in("fiji.officer")
    assert BUSY in browser.client.get(PATH, params=_asked()).text
    threading.Timer(0.5, gate.open.set).start()
    body = browser.client.get(f"{PATH}.json", params=_asked())
    assert body.status_code == 200 and FJ_VISIBLE in body.text and len(gate.calls) == 1


def test_a_build_the_data_moved_under_is_not_served_as_fresh(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = web_world.store
    plant_fijian(store)
    gate = Gate(monkeypatch, web_products, "assessment")
    browser.sign_in("desk.analyst")
    assert BUSY in browser.client.get(PATH, params=_asked()).text
    assert gate.entered.wait(30)  # it read the counter, then the data: now the data changes
    assert stewardship.tighten(store, store.viewer(FIJI), submission_id=None, tlp=TLP.RED) > 0
    gate.open.set()
    polled = browser.client.get(PATH, params=_asked(), headers=POLL).text
    while BUSY in polled and "The data changed" not in polled:
        time.sleep(0.05)
        polled = browser.client.get(PATH, params=_asked(), headers=POLL).text
    assert "The data changed" in polled  # the first build ended: it is built again
    final = _poll(browser.client, PATH, _asked())
    assert "Threat assessment:" in final and FJ_VISIBLE not in final  # RED now: not the desk's
    assert len(gate.calls) == 2


def test_the_top_clusters_answer_at_once_then_poll_the_ranking_in(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant_clusters(web_world.store)
    gate = Gate(monkeypatch, dashboard, "observable_scores")
    browser.sign_in("fiji.officer")
    page = browser.client.get("/").text
    assert 'id="top-clusters"' in page and 'aria-busy="true"' in page
    first = browser.client.get("/dashboard/clusters", headers=POLL)
    assert first.status_code == 200 and "<html" not in first.text and BUSY in first.text
    assert 'role="status"' in first.text and 'hx-get="/dashboard/clusters"' in first.text
    assert 'hx-target="#top-clusters"' in first.text and "top-clusters-table" not in first.text
    assert gate.entered.wait(30)
    again = browser.client.get("/dashboard/clusters", headers=POLL).text
    assert "Scoring everything your organisation may see 1/3" in again
    plain = browser.client.get("/dashboard/clusters").text  # without scripts: a page with a link
    assert BUSY in plain and 'href="/dashboard/clusters"' in plain and "<html" in plain
    gate.open.set()
    fragment = _poll(browser.client, "/dashboard/clusters")
    assert "top-clusters-table" in fragment and 'href="/clusters/' in fragment
    assert len(gate.calls) == 1
    ranked = audit.entries(web_world.store, actor="fiji.officer", action="dashboard-clusters")
    assert {e.details.get("state") for e in ranked} >= {"building", None}


def test_a_failed_ranking_is_shown_as_a_sentence(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = threading.Event()  # held until the first answer is in: it shows progress

    def broken(*args: Any, **kwargs: Any) -> Any:
        assert failing.wait(60), "never let fail"
        raise ValueError("secret internals")

    monkeypatch.setattr(dashboard, "observable_scores", broken)
    browser.sign_in("fiji.officer")
    assert BUSY in browser.client.get("/dashboard/clusters", headers=POLL).text
    failing.set()
    fragment = _poll(browser.client, "/dashboard/clusters")
    assert 'role="alert"' in fragment and "could not be ranked" in fragment
    assert "secret internals" not in fragment


def test_progress_is_in_the_viewers_language(
    browser: Browser, web_world: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch, web_products, "assessment")
    browser.sign_in("fiji.officer")
    for lang, words in (("ar", 'dir="rtl"'), ("fr", 'lang="fr"')):
        browser.client.cookies.set("marsad_lang", lang)
        body = browser.client.get(PATH, params=_asked()).text
        assert BUSY in body and words in body and "Building the threat assessment" not in body
    gate.open.set()
    kept.settle()


def test_one_key_is_built_once_however_many_ask(orgs: Store) -> None:
    cache = kept.Kept[int](ttl=None, what="x")
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def compute(build: kept.Build[int]) -> int:
        runs.append(1)
        build.report("working", 1, 2)
        started.set()
        assert release.wait(30)
        return 42

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: cache.ready(orgs, "k", compute), range(8)))
    assert started.wait(30) and all(g is got[0] for g in got)  # one build, joined by all
    build = got[0]
    assert isinstance(build, kept.Build) and build.stage == "working" and build.done == 1
    release.set()
    assert build.wait(30) == 42 and cache.ready(orgs, "k", compute) == 42 and len(runs) == 1
    assert kept.progress_of(build, cache)["last"] is not None


def test_after_a_change_the_keys_asked_recently_are_built_again_before_they_are_asked(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = kept.Kept[str](ttl=None, what="x", prebuild=2)
    made: list[str] = []

    def maker(name: str) -> Any:
        def compute(build: kept.Build[str]) -> str:
            made.append(name)
            return f"{name}{len(made)}"

        return compute

    def change() -> None:
        with orgs.engine.begin() as conn:
            conn.execute(update(organisations).where(organisations.c.name == FIJI)
                         .values(region=f"r{len(made)}"))  # fmt: skip

    for key in ("a", "b", "c"):  # only the last two are remembered
        assert cache.wait(orgs, key, maker(key)) == f"{key}{len(made)}"
    change()
    assert isinstance(cache.ready(orgs, "c", maker("c")), kept.Build)  # the first visitor
    assert kept.settle(60) and sorted(made) == ["a", "b", "b", "c", "c"]  # b without asking
    warm = cache.ready(orgs, "b", maker("b"))
    assert warm in {"b4", "b5"} and len(made) == 5  # kept from the prebuild: nothing built now
    assert isinstance(cache.ready(orgs, "a", maker("a")), kept.Build)  # forgotten: built on asking
    kept.settle(60)
    monkeypatch.setattr(kept, "RECENT", -1.0)  # asked too long ago: not rebuilt
    change()
    before = len(made)
    assert isinstance(cache.ready(orgs, "a", maker("a")), kept.Build)
    assert kept.settle(60) and made[before:] == ["a"]


def test_a_shared_value_asked_by_two_builds_at_once_is_computed_once(orgs: Store) -> None:
    cache = kept.Kept[int](ttl=None)
    runs: list[int] = []
    inside = threading.Event()

    def compute() -> int:
        runs.append(1)
        inside.set()
        time.sleep(0.3)
        return 7

    def failing() -> int:
        runs.append(1)
        raise RuntimeError("no")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(cache.get, orgs, "shared", compute)
        assert inside.wait(10)
        others = [pool.submit(cache.get, orgs, "shared", compute) for _ in range(3)]
        assert first.result() == 7 and [o.result() for o in others] == [7, 7, 7]
    assert len(runs) == 1
    with pytest.raises(RuntimeError):  # a failure is not kept: the next asker computes again
        cache.get(orgs, "other", failing)
    assert cache.get(orgs, "other", compute) == 7 and len(runs) == 3
