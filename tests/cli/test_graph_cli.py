"""`marsad analyse`, `cluster list|show` and `link` on a small demo world."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import Marsad


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("home"))
    m.run("demo", "--scale", "0.05")
    return m


def test_analyse_list_show_and_link(demo: Marsad) -> None:
    done = demo.json("analyse")
    assert done["clusters"] > 5 and "ipv4:198.51.100.10" in done["hubs_pruned"]
    top = demo.json("cluster", "list", "--limit", "3")
    assert len(top) == 3 and top[0]["size"] >= top[1]["size"] >= top[2]["size"]
    shown = demo.json("cluster", "show", str(top[0]["id"]))
    view = shown["cluster"]
    assert view["size"] == top[0]["size"] and view["threat_types"] and view["sources"]
    assert shown["evidence"] and all(e["reported_by"] for e in shown["evidence"])
    a, b = view["members"][0], view["members"][-1]
    path = demo.json("link", a, b)["path"]
    assert path and path[0]["source"] in (a, path[0]["source"])
    users = {u["name"]: u["memberships"] for u in demo.json("user", "list")}
    assert users["fiji.officer"] == {"Fiji Police Cybercrime Unit": "officer"}
    assert len(users) == 7  # one per role and kind of organisation, printed by `demo`
    missing = demo.run("cluster", "show", "999999999", ok=False)
    assert missing.returncode == 1 and "no cluster 999999999" in missing.stderr


def test_the_demo_units_watch_their_country_and_see_its_alerts(demo: Marsad) -> None:
    fiji = "Fiji Police Cybercrime Unit"
    entries = demo.json("watch", "list", "--org", fiji)
    assert {(e["kind"], e["value"]) for e in entries} == {("country", "FJ"), ("cctld", "fj")}
    alerts = demo.json("alerts", "list", "--as", fiji)
    assert alerts, "the demo world has infrastructure in Fiji"
    for alert in alerts:
        assert alert["org"] == fiji
        assert set(alert["reasons"]) <= {"country:FJ", "cctld:fj"}, alert
        assert alert["evidence"]
