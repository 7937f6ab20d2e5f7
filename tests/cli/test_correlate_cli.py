"""`marsad correlate`, `handling disclose` and `marsad match` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import Marsad


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Marsad:
    m = Marsad(tmp_path_factory.mktemp("home"))
    m.run("init")
    for name, kind, country in (("PhishGuard", "private-partner", "AU"),
                                ("Fiji CCU", "national-cyber-unit", "FJ"),
                                ("ASP Desk", "regional-desk", "SG")):  # fmt: skip
        m.run("org", "add", name, "--kind", kind, "--country", country,
              "--region", "asia-south-pacific")  # fmt: skip
    green = ("--tlp", "green", "--threat-type", "phishing")
    m.run("ingest", "-", "--source", "PhishGuard", *green,
          stdin=b"198.51.100.7\nlogin-verify.evil.com\n8.8.8.8\n")  # fmt: skip
    m.run("ingest", "-", "--source", "Fiji CCU", *green, stdin=b"198.51.100.7\n")
    m.run("ingest", "-", "--source", "ASP Desk", "--tlp", "red", "--threat-type", "c2",
          stdin=b"secret.evil.com\n198.51.100.7\n")  # fmt: skip
    return m


def test_correlate_a_value_and_the_top_list(pool: Marsad) -> None:
    done = pool.json("correlate", "198[.]51.100.7")
    [c] = done["correlations"]
    assert c["counts"]["sources"] == 3 and c["counts"]["countries"] == 3
    fiji = pool.json("correlate", "198.51.100.7", "--as", "Fiji CCU")["correlations"][0]
    assert fiji["counts"]["sources"] == 2 and fiji["ask_owner"] == []
    assert {s["source"] for s in fiji["said"]} == {"PhishGuard", "Fiji CCU"}
    top = pool.json("correlate", "--top", "5", "--as", "Fiji CCU")
    assert [(r["value"], r["counts"]["sources"]) for r in top] == [("198.51.100.7", 2)]
    table = pool.run("correlate", "198.51.100.7").stdout
    assert "3 sources" in table and "ASP Desk" in table
    bad = pool.run("correlate", "not a value", ok=False)
    assert bad.returncode == 1 and "not a value Marsad recognises" in bad.stderr
    both = pool.run("correlate", "1.2.3.4", "--top", "3", ok=False)
    assert both.returncode == 1 and "either a VALUE or --top" in both.stderr


def test_disclose_lets_others_learn_only_that_a_record_exists(pool: Marsad) -> None:
    assert pool.json("correlate", "secret.evil.com", "--as", "Fiji CCU")["correlations"] == []
    said = pool.json("correlate", "secret.evil.com")["correlations"][0]["said"][0]
    refused = pool.run(
        "handling", "disclose", str(said["assertion_id"]), "--as", "Fiji CCU", ok=False
    )
    assert refused.returncode == 1 and "not a record owned by Fiji CCU" in refused.stderr
    pool.run("handling", "disclose", str(said["assertion_id"]), "--as", "ASP Desk")
    shown = pool.run("correlate", "secret.evil.com", "--as", "Fiji CCU")
    assert "a record exists: ask ASP Desk" in shown.stdout and "c2" not in shown.stdout
    [c] = pool.json("correlate", "secret.evil.com", "--as", "Fiji CCU")["correlations"]
    assert c["said"] == [] and c["ask_owner"][0]["owner"] == "ASP Desk"
    log = pool.json("audit", "list", "--action", "disclose")
    assert {e["outcome"] for e in log} == {"allow", "deny"}
    pool.run("handling", "disclose", str(said["assertion_id"]), "--off", "--as", "ASP Desk")
    assert pool.json("correlate", "secret.evil.com", "--as", "Fiji CCU")["correlations"] == []


def _write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def test_match_outputs_hits_and_records_sightings(pool: Marsad, tmp_path: Path) -> None:
    logs = _write(tmp_path, "fw.log", "198.51.100.7\n# comment\n10.9.9.9\nnot a value !!\n"
                  "198.51.100.7\nhxxps://login-verify[.]evil[.]com/a\n8.8.8.8\n")  # fmt: skip
    csv_out, stix_out = tmp_path / "hits.csv", tmp_path / "hits.json"
    done = pool.json("match", logs, "--as", "Fiji CCU", "--csv", str(csv_out),
                     "--stix", str(stix_out))  # fmt: skip
    assert done["values"] == 5 and done["distinct"] == 4 and done["unparseable"] == 1
    assert done["bad_lines"][0]["line"] == 4
    hit_values = {(h["value"], h["source"]) for h in done["hits"]}
    assert hit_values == {("198.51.100.7", "PhishGuard"), ("198.51.100.7", "Fiji CCU"),
                          ("login-verify.evil.com", "PhishGuard"), ("8.8.8.8", "PhishGuard")}  # fmt: skip
    assert all(h["tlp"] == "TLP:GREEN" for h in done["hits"])
    listed = {h["value"] for h in done["hits"] if h["warninglists"]}
    assert listed == {"8.8.8.8"}  # a public resolver: flagged, not dropped
    assert csv_out.read_text().splitlines()[0].startswith("line,")
    bundle = json.loads(stix_out.read_text())
    assert sum(o["type"] == "sighting" for o in bundle["objects"]) == 4
    seen = pool.json("sightings", "--as", "PhishGuard")
    assert {(s["value"], s["seen_by"], s["count"]) for s in seen} >= {
        ("198.51.100.7", "Fiji CCU", 2)
    }
    csv_in = _write(tmp_path, "case.csv", "when,addr\n2026-01-01,198.51.100.7\n2026-01-02,oops\n")
    by_col = pool.json("match", csv_in, "--column", "addr", "--no-record-sightings")
    assert (
        by_col["values"] == 1 and by_col["unparseable"] == 1 and by_col["bad_lines"][0]["line"] == 3
    )
    missing = pool.run("match", csv_in, "--column", "nope", ok=False)
    assert missing.returncode == 1 and "no column 'nope'" in missing.stderr
