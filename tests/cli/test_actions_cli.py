"""`marsad action record|list|kinds` end to end: record as one organisation on what it may see,
read the feedback as the source; bad input is one sentence naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import Marsad

FIJI, SAMOA = "Fiji CCU", "Samoa CERT"


@pytest.fixture(scope="module")
def marsad(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("actions-home"))
    m.run("init")
    m.run("org", "add", "PhishGuard", "--kind", "private-partner", "--country", "AU")
    for name, country in ((FIJI, "FJ"), (SAMOA, "WS")):
        m.run("org", "add", name, "--kind", "national-cyber-unit", "--country", country,
              "--region", "asia-south-pacific")  # fmt: skip
    return m


def test_record_and_read_back_as_feedback(marsad: Marsad, tmp_path: Path) -> None:
    feed = tmp_path / "a.txt"
    feed.write_text("evil.example.com\nsecret.example.net\n")
    marsad.run("ingest", str(feed), "--source", "PhishGuard", "--tlp", "amber", "--releasable-to",
               f"org:{FIJI}", "--threat-type", "phishing", "--no-analyse")  # fmt: skip
    assert "victim-notified" in marsad.run("action", "kinds").stdout
    made = marsad.json("action", "record", "taken-down", "Evil[.]example[.]com",
                       "--type", "domain", "--note", "registrar suspended it", "--as", FIJI)  # fmt: skip
    assert [(x["org"], x["kind"], x["value"], x["user"]) for x in made] == [
        (FIJI, "taken-down", "evil.example.com", "local-operator")
    ]
    feedback = marsad.json("action", "list", "--scope", "on-own", "--as", "PhishGuard")
    assert [(x["org"], x["kind"], x["note"], x["user"]) for x in feedback] == [
        (FIJI, "taken-down", "registrar suspended it", None)
    ]
    assert marsad.json("action", "list", "--as", SAMOA) == []
    hidden = marsad.run("action", "record", "blocked", "evil.example.com", "--as", SAMOA, ok=False)
    assert hidden.returncode == 1 and "nothing known about domain:evil.example.com" in hidden.stderr
    bad = marsad.run("action", "record", "nuked", "evil.example.com", "--as", FIJI, ok=False)
    assert bad.returncode == 1 and "kind: 'nuked' is not an action kind" in bad.stderr
    assert "Traceback" not in bad.stderr
    nobody = marsad.run("action", "record", "blocked", "evil.example.com", ok=False)
    assert nobody.returncode == 1 and "--as ORG" in nobody.stderr
    audited = marsad.json("audit", "list", "--action", "record-action")
    assert [e["org"] for e in audited if e["outcome"] == "allow"] == [FIJI]
