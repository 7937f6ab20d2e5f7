"""Acting as an organisation from the CLI: what each sees, users, tokens, the audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_cli import Marsad

STIX = b"""{"type": "bundle", "id": "bundle--1", "objects": []}"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("home"))
    m.run("init")
    for args in (
        ("PhishGuard", "--kind", "private-partner", "--country", "AU"),
        ("Fiji CCU", "--kind", "national-cyber-unit", "--country", "FJ", "--region",
         "asia-south-pacific"),
        ("Suva Cyber Desk", "--kind", "national-cyber-unit", "--country", "FJ", "--region",
         "asia-south-pacific", "--parent", "Fiji CCU"),
        ("France OFAC", "--kind", "national-cyber-unit", "--country", "FR", "--region", "europe"),
    ):  # fmt: skip
        m.run("org", "add", *args)
    m.run("ingest", "-", "--source", "PhishGuard", "--tlp", "red", "--threat-type", "phishing",
          stdin=b"203.0.113.66\n")  # fmt: skip
    m.run("ingest", "-", "--source", "PhishGuard", "--tlp", "amber", "--releasable-to",
          "org:Fiji CCU", "--threat-type", "c2", stdin=b"203.0.113.66\n198.51.100.7\n")  # fmt: skip
    m.run("ingest", "-", "--source", "France OFAC", "--tlp", "green", "--threat-type",
          "malware-distribution", stdin=b"203.0.113.66\n")  # fmt: skip
    return m


def sources(m: Marsad, *who: str) -> list[tuple[str, str]]:
    found = m.json("search", "203.0.113.66", *who)["assertions"]
    return sorted((a["source"], a["tlp"]) for a in found)


def test_each_organisation_sees_what_the_policy_allows(world: Marsad) -> None:
    everything = [("France OFAC", "TLP:GREEN"), ("PhishGuard", "TLP:AMBER"),
                  ("PhishGuard", "TLP:RED")]  # fmt: skip
    assert sources(world) == everything  # the local operator
    assert sources(world, "--as", "PhishGuard") == everything  # the owner
    fiji = [("France OFAC", "TLP:GREEN"), ("PhishGuard", "TLP:AMBER")]
    assert sources(world, "--as", "Fiji CCU") == fiji
    assert sources(world, "--as", "Suva Cyber Desk") == fiji  # AMBER reaches sub-units
    assert sources(world, "--as", "France OFAC") == [("France OFAC", "TLP:GREEN")]
    exported = world.run("export", "--format", "intelmq", "--as", "France OFAC").stdout
    assert "198.51.100.7" not in exported and "203.0.113.66" in exported
    assert "198.51.100.7" in world.run("export", "--format", "intelmq", "--as", "Fiji CCU").stdout


def test_submissions_are_private_to_their_source(world: Marsad) -> None:
    mine = world.json("submissions", "list", "--as", "France OFAC")
    assert {s["source"] for s in mine} == {"France OFAC"}
    other = world.json("submissions", "list", "--as", "PhishGuard")[0]["id"]
    denied = world.run("submissions", "show", str(other), "--as", "France OFAC", ok=False)
    assert denied.returncode == 1 and "no submission with id" in denied.stderr
    assert "Traceback" not in denied.stderr


def test_users_tokens_and_audit(world: Marsad, tmp_path: Path) -> None:
    world.env["MARSAD_PASSWORD"] = "correct horse battery"
    world.run("user", "add", "ana", "--org", "Fiji CCU", "--role", "analyst", "--password")
    world.run("user", "add", "ana", "--org", "France OFAC", "--role", "read-only")
    [ana] = [u for u in world.json("user", "list") if u["name"] == "ana"]
    assert ana["memberships"] == {"Fiji CCU": "analyst", "France OFAC": "read-only"}
    several = world.run("token", "create", "ana", ok=False)
    assert "several organisations" in several.stderr
    token = world.json("token", "create", "ana", "--org", "Fiji CCU", "--days", "30")
    assert token["token"].startswith("msd_") and token["role"] == "analyst"
    world.run("token", "revoke", token["prefix"])
    assert world.json("token", "list", "--user", "ana")[0]["revoked_at"] is not None
    world.env["MARSAD_PASSWORD"] = "short"
    weak = world.run("user", "add", "bob", "--org", "Fiji CCU", "--password", ok=False)
    assert "at least 12 characters" in weak.stderr

    denied = world.run("submissions", "show", "1", "--as", "France OFAC", ok=False)
    assert denied.returncode == 1
    entries = world.json("audit", "list", "--denied")
    assert entries and entries[0]["org"] == "France OFAC"
    assert entries[0]["action"] == "read-submission"
    sources(world, "--as", "Fiji CCU")
    searches = world.json("audit", "list", "--action", "search", "--org", "Fiji CCU")
    assert searches and all(e["details"]["count"] == 2 for e in searches)
    assert world.json("audit", "verify")["ok"] is True

    # tamper with an entry behind the database's back: verify names it
    db = sqlite3.connect(Path(world.env["MARSAD_HOME"]) / "marsad.db")
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET org = 'Nobody' WHERE id = 3")
    db.commit()
    broken = world.run("audit", "verify", ok=False)
    assert broken.returncode == 1 and "entry 3 was altered" in broken.stderr
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute("UPDATE audit_log SET org = NULL WHERE id = 3")  # no way back: still broken
    db.execute("DELETE FROM audit_log WHERE id = 2")
    db.commit()
    assert "entry 2 is missing" in world.run("audit", "verify", ok=False).stderr


def test_owner_commands(world: Marsad) -> None:
    shown = world.json("agreement", "set", "France OFAC", "--tlp", "green", "--reliability", "A")
    assert (shown["tlp"], shown["reliability"]) == ("green", "A")
    assert world.json("agreement", "show", "France OFAC")["tlp"] == "green"
    assert world.json("handling", "tighten", "--as", "France OFAC", "--tlp", "amber") == {
        "assertions": 1
    }
    assert sources(world, "--as", "Fiji CCU") == [("PhishGuard", "TLP:AMBER")]
    no_owner = world.run("handling", "tighten", "--tlp", "red", ok=False)
    assert "use --as ORG" in no_owner.stderr
    unconfirmed = world.run("retention", "purge", "--as", "France OFAC", "--reason", "x", ok=False)
    assert "--yes" in unconfirmed.stderr
