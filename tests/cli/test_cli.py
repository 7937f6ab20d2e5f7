"""The `marsad` command end to end, as a user runs it: tables, --json, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Marsad:
    def __init__(self, home: Path) -> None:
        self.env = {**os.environ, "MARSAD_HOME": str(home), "COLUMNS": "200"}
        self.env.pop("MARSAD_DB", None)

    def run(
        self, *args: str, stdin: bytes | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "marsad", *args],
            env=self.env,
            capture_output=True,
            input=stdin.decode() if stdin else None,
            text=True,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture(scope="module")
def marsad(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("home"))
    m.run("init")
    m.run("org", "add", "PhishGuard", "--kind", "private-partner", "--country", "AU")
    m.run(
        "org",
        "add",
        "Fiji CCU",
        "--kind",
        "national-cyber-unit",
        "--country",
        "FJI",
        "--region",
        "asia-south-pacific",
    )
    return m


def test_org_list_json_and_table(marsad: Marsad) -> None:
    orgs = marsad.json("org", "list")
    assert {(o["name"], o["country"]) for o in orgs} == {("PhishGuard", "AU"), ("Fiji CCU", "FJ")}
    assert "Fiji CCU" in marsad.run("org", "list").stdout


def test_ingest_search_submissions_export(marsad: Marsad, tmp_path: Path) -> None:
    feed = tmp_path / "feed.txt"
    feed.write_bytes(b"hxxps://Evil[.]Example.COM:443/a\n198.51.100.23\nnot a value at all\n")
    report = marsad.json(
        "ingest",
        str(feed),
        "--source",
        "PhishGuard",
        "--tlp",
        "green",
        "--reliability",
        "B",
        "--credibility",
        "2",
        "--threat-type",
        "phishing",
    )
    assert (report["status"], report["accepted"], report["rejected"]) == ("ingested", 2, 1)
    assert report["rejections"][0]["location"] == "line 3"
    table = marsad.run("ingest", str(feed), "--source", "PhishGuard").stdout
    assert "duplicate of submission" in table

    found = marsad.json("search", "hxxps://Evil[.]Example.COM:443/a")
    assert [n["value"] for n in found["normalised"]] == [
        "https://evil.example.com/a",
        "evil.example.com",
        "example.com",
    ]
    [hit] = found["assertions"]
    assert (hit["tlp"], hit["grading"], hit["threat_type"]) == ("TLP:GREEN", "B2", "phishing")

    subs = marsad.json("submissions", "list")
    assert subs[0]["filename"] == "feed.txt"
    shown = marsad.json("submissions", "show", str(subs[0]["id"]))
    assert shown["rejections"][0]["raw"] == "not a value at all"
    raw = marsad.run("submissions", "show", str(subs[0]["id"]), "--raw").stdout
    assert raw == feed.read_text()

    out = tmp_path / "export.json"
    marsad.run("export", "--format", "stix21", "--output", str(out), "--threat-type", "phishing")
    bundle = json.loads(out.read_bytes())
    patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert "[url:value = 'https://evil.example.com/a']" in patterns
    event = json.loads(marsad.run("export", "--format", "misp", "--threat-type", "phishing").stdout)
    values = {a["value"]: a["type"] for a in event["Event"]["Attribute"]}
    assert values == {"https://evil.example.com/a": "url", "198.51.100.23": "ip-dst"}
    lines = marsad.run(
        "export", "--format", "intelmq", "--threat-type", "phishing"
    ).stdout.splitlines()
    assert {json.loads(x).get("source.url") for x in lines} >= {"https://evil.example.com/a"}


def test_stdin_ingest(marsad: Marsad) -> None:
    report = json.loads(
        marsad.run("ingest", "-", "--source", "Fiji CCU", "--json", stdin=b"203.0.113.99\n").stdout
    )
    assert report["accepted"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "/nonexistent/file", "--source", "PhishGuard"), "no such file"),
        (("ingest", "-", "--source", "Nobody"), "no organisation named 'Nobody'"),
        (("ingest", "-", "--source", "PhishGuard", "--tlp", "purple"), "unknown TLP 'purple'"),
        (("ingest", "-", "--source", "PhishGuard", "--reliability", "Z"), "source reliability"),
        (("org", "add", "X", "--kind", "hub", "--country", "QQ"), "unknown country 'QQ'"),
        (("org", "add", "PhishGuard", "--kind", "hub"), "already exists"),
        (("search", "%%%"), "not a value Marsad recognises"),
        (("submissions", "show", "9999"), "no submission with id 9999"),
    ],
)
def test_errors_are_one_clear_sentence_without_traceback(
    marsad: Marsad, args: tuple[str, ...], message: str
) -> None:
    done = marsad.run(*args, ok=False)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_commands_need_an_instance(tmp_path: Path) -> None:
    done = Marsad(tmp_path / "empty").run("org", "list", ok=False)
    assert done.returncode == 1
    assert "run `marsad init` first" in done.stderr


def test_cli_reference_is_in_step_with_the_commands() -> None:
    from marsad.cli.reference import render

    assert (ROOT / "docs" / "cli.md").read_text() == render() + "\n", "run `make docs`"


def test_misp_feed_directory_is_ingested_event_by_event(marsad: Marsad) -> None:
    feed = ROOT / "tests" / "data" / "misp" / "feed"
    reports = marsad.json("ingest", str(feed), "--source", "PhishGuard")
    assert [r["filename"] for r in reports] == [
        "5721c2e4-05ec-4af3-9264-411b950d210f.json",
        "57e27c3d-17a8-4c3b-8195-493e950d210f.json",
    ]
    assert all(r["status"] == "ingested" and r["format"] == "misp" for r in reports)
    assert reports[0]["accepted"] > 100
