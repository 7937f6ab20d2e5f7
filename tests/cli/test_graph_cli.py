"""`marsad analyse`, `cluster list|show` and `link` on a small demo world."""

from __future__ import annotations

from pathlib import Path

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


def test_ingest_updates_the_clusters_incrementally_and_a_full_run_agrees(
    demo: Marsad, tmp_path: Path
) -> None:
    idle = demo.json("analyse")  # `marsad demo` analysed the world at its end
    assert idle["mode"] == "unchanged" and idle["clusters"] > 5 and idle["hubs_pruned"]
    top = demo.json("cluster", "list", "--limit", "1")[0]
    members = demo.json("cluster", "show", str(top["id"]))["cluster"]["members"]
    host = next(m for m in members if m.startswith("domain:"))[len("domain:") :]
    feed = tmp_path / "one.txt"
    feed.write_text(f"http://{host}/fresh-login\n")
    source = ("--source", "PhishGuard Labs", "--threat-type", "phishing")
    done = demo.run("ingest", str(feed), *source)
    assert "analysis incremental" in done.stdout and "1 changed" in done.stdout, done.stdout
    grown = demo.json("cluster", "show", str(top["id"]))["cluster"]["members"]
    assert set(grown) == set(members) | {f"url:http://{host}/fresh-login"}
    later = tmp_path / "two.txt"
    later.write_text(f"http://{host}/second-login\n")
    done = demo.run("ingest", str(later), *source, "--no-analyse")
    assert "analysis" not in done.stdout
    full = demo.json("analyse", "--full")
    assert (full["mode"], full["created"], full["changed"], full["removed"]) == ("full", 0, 1, 0)
    again = demo.json("analyse", "--full")
    assert (again["created"], again["changed"], again["removed"]) == (0, 0, 0)
    assert again["unchanged"] == again["clusters"] == full["clusters"]
