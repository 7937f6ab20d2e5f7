"""The dashboard over HTTP: new alerts, threat types with their weekly trend, top clusters,
every number only from what the signed-in organisation may see."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from marsad.access.policy import EVERYTHING
from marsad.analysis.clusters import save as save_clusters
from marsad.analysis.infrastructure import clusters_of, load_graph
from marsad.model.handling import TLP
from marsad.model.normalize import detect
from marsad.model.records import ThreatType
from marsad.store.schema import assertions
from marsad.store.store import Store
from marsad.web import dashboard
from tests.web.conftest import GREEN_HOST, PG, STRICT_VALUE, Browser, WebWorld, _submit
from tests.web.test_products_pages import raise_alerts

RED_FJ = ("red-a.example.com.fj", "red-b.example.com.fj")
RED_LINK = "red-c.example.com.fj"  # resolves to the GREEN cluster's address: hidden link
AU_SHOPS = ("au-shop1.example.com.au", "au-shop2.example.com.au")


def _bundle(hosts: tuple[str, ...], ip: str, extra: tuple[str, str] | None = None) -> bytes:
    ids = [f"domain-name--{i:08d}-1c7e-5a53-9d1e-2f6f1f0a1b0{i % 10}" for i in range(len(hosts))]
    addr = "ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1c01"
    objects = [f'{{"type": "ipv4-addr", "spec_version": "2.1", "id": "{addr}", "value": "{ip}"}}']
    objects += [
        f'{{"type": "domain-name", "spec_version": "2.1", "id": "{i}", "value": "{h}", '
        f'"resolves_to_refs": ["{addr}"]}}'
        for i, h in zip(ids, hosts, strict=True)
    ]
    if extra:
        other = "ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1c02"
        objects += [
            f'{{"type": "ipv4-addr", "spec_version": "2.1", "id": "{other}", "value": "{extra[1]}"}}',
            f'{{"type": "domain-name", "spec_version": "2.1", '
            f'"id": "domain-name--99999999-1c7e-5a53-9d1e-2f6f1f0a1b09", "value": "{extra[0]}", '
            f'"resolves_to_refs": ["{other}"]}}',
        ]
    return (
        '{"type": "bundle", "id": "bundle--6f1c8a52-47a3-4bd0-9f3e-3f4f2b0c9d12", "objects": ['
        + ",".join(objects)
        + "]}"
    ).encode()


def plant_clusters(store: Store) -> None:
    """A RED cluster of PhishGuard's under .fj (and a RED link into Fiji's GREEN cluster),
    and a GREEN cluster PhishGuard reported under .au; the desk's analysis stored."""
    _submit(store, _bundle(RED_FJ, "198.51.100.66", (RED_LINK, "203.0.113.77")), PG, TLP.RED,
            [f"org:{PG}"], ThreatType.C2, "red-net.json", "stix21")  # fmt: skip
    _submit(store, _bundle(AU_SHOPS, "198.51.100.7"), PG, TLP.GREEN, [], ThreatType.PHISHING,
            "au-shops.json", "stix21")  # fmt: skip
    graph = load_graph(store, EVERYTHING)
    save_clusters(store, graph, clusters_of(graph))


def _json(browser: Browser, path: str = "/") -> dict[str, object]:
    response = browser.client.get(path, params={"format": "json"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_two_organisations_see_the_counts_their_grants_allow(
    browser: Browser, web_world: WebWorld
) -> None:
    browser.sign_in("fiji.officer")
    fiji = _json(browser)
    other = Browser(web_world)
    other.sign_in("pg.user")
    pg = _json(other)
    other.close()
    assert fiji["threat_counts"] == {"phishing": 3, "c2": 1}  # GREEN list + its own strict case
    assert pg["threat_counts"] == {"phishing": 4}  # GREEN list + its own RED value
    assert fiji["total"] == 4 and pg["total"] == 4 and fiji["country"] == "FJ"
    page = browser.client.get("/").text
    assert STRICT_VALUE not in page and 'id="threat-types"' in page and 'id="trends"' in page


def test_new_alerts_count_the_unacknowledged_and_drop_when_acknowledged(
    browser: Browser, web_world: WebWorld
) -> None:
    raise_alerts(web_world.store)
    browser.sign_in("fiji.officer")
    inbox = _json(browser, "/alerts")["alerts"]
    assert isinstance(inbox, list) and len(inbox) >= 2
    assert _json(browser)["new_alerts"] == len(inbox)
    assert 'href="/alerts"' in browser.client.get("/").text
    token = browser.csrf("/alerts")
    done = browser.client.post(f"/alerts/{inbox[0]['id']}/ack", data={"csrf_token": token})
    assert done.status_code == 200
    assert _json(browser)["new_alerts"] == len(inbox) - 1
    owner = Browser(web_world)
    owner.sign_in("pg.user")
    theirs = _json(owner, "/alerts")["alerts"]
    assert _json(owner)["new_alerts"] == len(theirs)  # its own inbox, its own count
    owner.close()


def test_trends_bucket_first_seen_by_week(browser: Browser, web_world: WebWorld) -> None:
    today = web_world.app.state.settings.today()
    monday = today - dt.timedelta(days=today.weekday())
    moments = {  # the three GREEN phishing assertions: this week, last week, long ago
        GREEN_HOST: dt.datetime.combine(monday, dt.time(0, 0, 1), dt.UTC),
        "green-shop2.example.net": dt.datetime.combine(monday, dt.time(23), dt.UTC)
        - dt.timedelta(days=1),
        "203.0.113.77": dt.datetime.combine(monday, dt.time(12), dt.UTC) - dt.timedelta(weeks=13),
    }
    store = web_world.store
    for value, when in moments.items():
        [hit] = store.assertions_about([detect(value)], EVERYTHING)  # type: ignore[list-item]
        with store.engine.begin() as conn:
            conn.execute(update(assertions).where(assertions.c.id == hit.id)
                         .values(first_seen=when))  # fmt: skip
    browser.sign_in("fiji.officer")
    data = _json(browser)
    weeks = data["weeks"]
    assert isinstance(weeks, list) and len(weeks) == dashboard.WEEKS
    assert (
        weeks[-1] == monday.isoformat()
        and weeks[0] == (monday - dt.timedelta(weeks=11)).isoformat()
    )
    trend = data["trends"]["phishing"]  # type: ignore[index]
    assert trend[-1] == 1 and trend[-2] == 1 and sum(trend) == 2  # the old one only in the total
    assert data["threat_counts"]["phishing"] == 3  # type: ignore[index]


def test_top_clusters_are_the_visible_ones_concerning_the_country(
    browser: Browser, web_world: WebWorld
) -> None:
    plant_clusters(web_world.store)
    browser.sign_in("fiji.officer")
    cluster = _json(browser, f"/observables/domain/{GREEN_HOST}")["cluster"]
    fiji = _json(browser, "/dashboard/clusters")
    assert fiji["country"] == "FJ"
    assert [c["id"] for c in fiji["clusters"]] == [cluster]  # type: ignore[union-attr, index]
    [row] = fiji["clusters"]  # type: ignore[misc]
    assert row["size"] == 3 and row["concerning"] == 3 and 0 < row["priority"] <= 100
    fragment = browser.client.get("/dashboard/clusters", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and f'href="/clusters/{cluster}"' in fragment
    assert RED_LINK not in fragment and "red-a" not in fragment
    owner = Browser(web_world)
    owner.sign_in("pg.user")  # PhishGuard is Australian: its clusters are the ones it reported
    pg = _json(owner, "/dashboard/clusters")
    owner.close()
    sizes = sorted(c["size"] for c in pg["clusters"])  # type: ignore[union-attr]
    assert pg["country"] == "AU" and sizes == [3, 3, 4]  # .fj RED, .au GREEN, GREEN + RED link
    assert cluster in {c["id"] for c in pg["clusters"]}  # type: ignore[union-attr]


def test_the_dashboard_wears_the_strict_policy_and_no_inline_code(browser: Browser) -> None:
    browser.sign_in("fiji.officer")
    for path in ("/", "/dashboard/clusters"):
        response = browser.client.get(path)
        assert response.status_code == 200
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        body = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), path
        assert "<style" not in body and " style=" not in body, path
    page = browser.client.get("/").text
    assert 'hx-get="/dashboard/clusters"' in page and 'role="img"' in page
