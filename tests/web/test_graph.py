"""The cluster explorer's routes over HTTP, on both stores: neighbours and the STIX export.

Beside the web world's GREEN cluster (two shops resolving to one address), PhishGuard
states a TLP:RED resolution to the same address that only it may see, Fiji CCU lists a
URL on a shop (a URL → host link) and twelve domains resolving to a second address (for
the "N more not shown" cap).
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from stix2validator import ValidationOptions, validate_string

from marsad.access import audit
from marsad.model.handling import TLP
from marsad.model.records import ThreatType
from marsad.web.neighbours import PRESET_ABOVE, Link, flower_layout
from tests.web.conftest import FIJI, GREEN_HOST, PG, Browser, WebWorld, _submit

IP = "ipv4:203.0.113.77"
HIDDEN = "pg-only-shop.example.org"
URL = f"https://{GREEN_HOST}/login"
FARM_IP = "198.51.100.5"


def _resolutions(ip: str, domains: list[str]) -> bytes:
    objects: list[dict[str, Any]] = [
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1c00", "value": ip}
    ]  # fmt: skip
    for n, d in enumerate(domains):
        objects.append({"type": "domain-name", "spec_version": "2.1",
                        "id": f"domain-name--0d3c8b5c-1c7e-5a53-9d1e-2f6f1f0a{n:04x}", "value": d,
                        "resolves_to_refs": [objects[0]["id"]]})  # fmt: skip
    return orjson.dumps({"type": "bundle", "id": "bundle--6f1c8a52-47a3-4bd0-9f3e-3f4f2b0c9d12",
                         "objects": objects})  # fmt: skip


@pytest.fixture
def explorer(web_world: WebWorld) -> WebWorld:
    store = web_world.store
    _submit(store, _resolutions("203.0.113.77", [HIDDEN]), PG, TLP.RED, [f"org:{PG}"],
            ThreatType.PHISHING, "pg.json", "stix21")  # fmt: skip
    _submit(store, f"{URL}\n".encode(), FIJI, TLP.GREEN, [], ThreatType.PHISHING, "u.txt", "list")
    farm = [f"farm{n:02d}.example.com" for n in range(12)]
    _submit(store, _resolutions(FARM_IP, farm), FIJI, TLP.GREEN, [], ThreatType.PHISHING,
            "farm.json", "stix21")  # fmt: skip
    return web_world


def _ids(body: dict[str, Any]) -> tuple[set[str], set[tuple[str, str, str]]]:
    nodes = {e["data"]["id"] for e in body["elements"] if "source" not in e["data"]}
    links = {(e["data"]["source"], e["data"]["label"], e["data"]["target"])
             for e in body["elements"] if "source" in e["data"]}  # fmt: skip
    return nodes, links


def test_neighbours_hold_only_what_the_viewer_may_see(browser: Browser, explorer: WebWorld) -> None:
    browser.sign_in("fiji.officer")
    body = browser.client.get("/graph/neighbours", params={"node": IP}).json()
    nodes, links = _ids(body)
    assert nodes == {f"domain:{GREEN_HOST}", "domain:green-shop2.example.net"}
    assert (f"domain:{GREEN_HOST}", "resolves-to", IP) in links
    assert body["more"] == 0 and HIDDEN not in str(body)
    partner = Browser(explorer)
    partner.sign_in("pg.user")
    nodes, _ = _ids(partner.client.get("/graph/neighbours", params={"node": IP}).json())
    partner.close()
    assert f"domain:{HIDDEN}" in nodes  # its own statement


def test_neighbours_follow_url_host_links_and_are_capped(
    browser: Browser, explorer: WebWorld
) -> None:
    browser.sign_in("fiji.officer")
    body = browser.client.get("/graph/neighbours", params={"node": f"domain:{GREEN_HOST}"}).json()
    nodes, links = _ids(body)
    assert nodes == {IP, f"url:{URL}"}
    assert (f"url:{URL}", "url-host", f"domain:{GREEN_HOST}") in links
    back = browser.client.get("/graph/neighbours", params={"node": f"url:{URL}"}).json()
    assert _ids(back)[0] == {f"domain:{GREEN_HOST}"}
    capped = browser.client.get("/graph/neighbours",
                                params={"node": f"ipv4:{FARM_IP}", "limit": "5"}).json()  # fmt: skip
    assert (capped["shown"], capped["more"]) == (5, 7)
    assert len(_ids(capped)[0]) == 5 and len(_ids(capped)[1]) == 5


def test_a_hidden_node_answers_like_an_unknown_one(browser: Browser, explorer: WebWorld) -> None:
    browser.sign_in("fiji.officer")
    hidden = browser.client.get("/graph/neighbours", params={"node": f"domain:{HIDDEN}"})
    never = browser.client.get("/graph/neighbours", params={"node": "domain:never.example.org"})
    assert hidden.status_code == never.status_code == 404
    assert HIDDEN not in hidden.text.split('<main id="main"', 1)[1]
    assert hidden.text.replace(HIDDEN, "X") == never.text.replace("never.example.org", "X")
    denied = audit.entries(explorer.store, actor="fiji.officer", outcome="deny")
    assert [d.target for d in denied] == [f"domain:{HIDDEN}"]
    bad = browser.client.get("/graph/neighbours", params={"node": IP, "limit": "0"})
    assert bad.status_code == 400 and "limit must be a whole number" in bad.text


def _export(browser: Browser, view: dict[str, Any], token: str | None) -> Any:
    headers = {"Content-Type": "application/json", **({"X-CSRF-Token": token} if token else {})}
    return browser.client.post("/graph/stix", content=orjson.dumps(view), headers=headers)


def test_the_view_exports_as_valid_stix_with_what_the_viewer_may_see(
    browser: Browser, explorer: WebWorld
) -> None:
    browser.sign_in("fiji.officer")
    token = browser.csrf("/search")
    view = {"nodes": [IP, f"domain:{GREEN_HOST}", f"domain:{HIDDEN}", f"url:{URL}", "x:y"]}
    assert _export(browser, view, None).status_code == 403  # no CSRF token: refused
    response = _export(browser, view, token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/stix+json")
    results = validate_string(response.text, ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for e in results.errors]
    objects = response.json()["objects"]
    patterns = " ".join(o["pattern"] for o in objects if o["type"] == "indicator")
    assert GREEN_HOST in patterns and URL in patterns and HIDDEN not in response.text
    assert [o["relationship_type"] for o in objects if o["type"] == "relationship"] == [
        "resolves-to"
    ]
    only = _export(browser, {**view, "edge_types": ["mirror-of"]}, token).json()["objects"]
    assert not [o for o in only if o["type"] == "relationship"]  # the filter hid the links
    entry = audit.entries(explorer.store, actor="fiji.officer", action="export")[-1]
    assert entry.details["nodes"] == 3 and entry.details["asked"] == 5


def test_export_refuses_bad_views_and_roles_that_may_not_export(
    browser: Browser, explorer: WebWorld
) -> None:
    auditor = Browser(explorer)
    auditor.sign_in("fiji.auditor")
    assert _export(auditor, {"nodes": [IP]}, auditor.csrf("/search")).status_code == 403
    auditor.close()
    browser.sign_in("fiji.officer")
    token = browser.csrf("/search")
    for bad, says in ((b"not json", "must be JSON"), (b'{"nodes": "x"}', "$.nodes"),
                      (b'{"nodes": [], "extra": 1}', "extra")):  # fmt: skip
        response = browser.client.post("/graph/stix", content=bad,
                                        headers={"X-CSRF-Token": token})  # fmt: skip
        assert response.status_code == 400 and says in response.text, response.text
    too_many = _export(browser, {"nodes": [f"domain:d{n}.example" for n in range(20_001)]}, token)
    assert too_many.status_code == 400


def test_the_cluster_graph_carries_url_host_links_and_handling(
    browser: Browser, explorer: WebWorld
) -> None:
    browser.sign_in("fiji.officer")
    data = browser.client.get(f"/observables/domain/{GREEN_HOST}", params={"format": "json"}).json()
    body = browser.client.get(f"/clusters/{data['cluster']}/graph").json()
    nodes, links = _ids(body)
    assert f"url:{URL}" in nodes and (f"url:{URL}", "url-host", f"domain:{GREEN_HOST}") in links
    edges = [e["data"] for e in body["elements"] if e["data"].get("label") == "resolves-to"]
    assert {e["tlp"] for e in edges} == {"green"} and {e["reported_by"] for e in edges} == {FIJI}


def test_a_large_cluster_comes_with_positions_each_leaf_beside_its_hub(
    browser: Browser, web_world: WebWorld
) -> None:
    farm = [f"big{n:03d}.example.com" for n in range(PRESET_ABOVE + 10)]
    _submit(web_world.store, _resolutions("198.51.100.77", farm), FIJI, TLP.GREEN, [],
            ThreatType.PHISHING, "big.json", "stix21")  # fmt: skip
    browser.sign_in("fiji.officer")
    hub = "ipv4:198.51.100.77"
    cluster = browser.client.get(f"/observables/ipv4/{hub[5:]}", params={"format": "json"})
    body = browser.client.get(f"/clusters/{cluster.json()['cluster']}/graph").json()
    nodes = [e for e in body["elements"] if "source" not in e["data"]]
    assert len(nodes) == len(farm) + 1 and all("position" in e for e in nodes)
    spots = {(e["position"]["x"], e["position"]["y"]) for e in nodes}
    assert len(spots) == len(nodes)  # no two nodes on one spot


def test_the_layout_puts_leaves_around_their_own_hub() -> None:
    hubs = ["ipv4:192.0.2.1", "ipv4:192.0.2.2", "ipv4:192.0.2.3"]
    links, refs = [], list(hubs)
    for h, hub in enumerate(hubs):
        for n in range(30):
            leaf = f"domain:h{h}-{n}.example"
            refs.append(leaf)
            links.append(Link(id=f"r{len(links)}", source=leaf, type="resolves-to", target=hub))
    links.append(Link(id="r999", source="domain:h0-0.example", type="resolves-to", target=hubs[1]))
    where = flower_layout(refs, links)
    assert set(where) == set(refs) and where == flower_layout(refs, links)
    for h in range(len(hubs)):
        for n in range(1, 30):
            x, y = where[f"domain:h{h}-{n}.example"]
            dist = [math.dist((x, y), where[other]) for other in hubs]
            assert dist.index(min(dist)) == h, (h, n, dist)
