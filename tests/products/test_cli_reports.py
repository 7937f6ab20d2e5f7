"""`marsad report …` as a user runs it: files, table, --json, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marsad.store.engine import sqlite_url
from marsad.store.store import Store
from tests.products.world import FJ_PHISH, WS_PHISH, build_fixed


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("cli") / "marsad.db")
    store = Store.open(url, create=True)
    build_fixed(store)
    store.close()
    return url


def marsad(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "marsad", *args], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def test_activity_one_country(db: str, tmp_path: Path) -> None:
    done = marsad("report", "activity", "--country", "FJ", "--period", "2026-10", "--format",
                  "html,csv,stix", "--out", str(tmp_path), "--db", db)  # fmt: skip
    assert "Fiji CCU" in done.stdout and "TLP:AMBER" in done.stdout
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["activity-FJ-2026-10.csv", "activity-FJ-2026-10.html",
                     "activity-FJ-2026-10.stix.json"]  # fmt: skip
    assert FJ_PHISH in (tmp_path / "activity-FJ-2026-10.html").read_text()


def test_activity_all_countries_json(db: str, tmp_path: Path) -> None:
    done = marsad("report", "activity", "--all-countries", "--period", "2026-10",
                  "--format", "csv", "--out", str(tmp_path), "--db", db, "--json")  # fmt: skip
    rows = json.loads(done.stdout)["reports"]
    assert [(r["subject"], r["recipient"]) for r in rows] == [
        ("FJ 2026-10", "Fiji CCU"), ("FR 2026-10", "France OFAC"),  # France reported FJ_SECRET
        ("WS 2026-10", "Samoa CCU")]  # fmt: skip
    assert WS_PHISH in (tmp_path / "activity-WS-2026-10.csv").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "FJ", "--period", "2026-13"], "no month 13"),
        (["--country", "FJ", "--period", "2026-10", "--format", "docx"], "--format 'docx'"),
        (["--period", "2026-10"], "either --country CODE or --all-countries"),
        (["--country", "SG", "--period", "2026-10"], "no national cyber unit"),
        (["--country", "FJ", "--period", "2026-10", "--as", "Nobody"], "no organisation named"),
    ],
)
def test_activity_errors_are_one_sentence(db: str, args: list[str], message: str) -> None:
    done = marsad("report", "activity", *args, "--db", db, ok=False)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_assessment_html_and_json(db: str, tmp_path: Path) -> None:
    done = marsad("report", "assessment", "--region", "asia-south-pacific", "--period",
                  "2026-Q4", "--format", "html,json", "--out", str(tmp_path), "--db", db,
                  "--json")  # fmt: skip
    row = json.loads(done.stdout)["reports"][0]
    assert (row["recipient"], row["tlp"]) == ("ASP Desk", "TLP:AMBER")
    data = json.loads((tmp_path / "assessment-asia-south-pacific-2026-Q4.json").read_text())
    assert data["chapters"][0]["threat"] == "phishing"
    assert (
        "Executive summary" in (tmp_path / "assessment-asia-south-pacific-2026-Q4.html").read_text()
    )


def test_advisory_pdf(db: str, tmp_path: Path) -> None:
    done = marsad("report", "advisory", "--threat", "investment-scam", "--format", "html,pdf",
                  "--out", str(tmp_path), "--db", db, "--json")  # fmt: skip
    row = json.loads(done.stdout)["reports"][0]
    assert (row["recipient"], row["tlp"], row["items"]) == ("public", "TLP:CLEAR", 1)
    assert (tmp_path / "advisory-investment-scam.pdf").read_bytes().startswith(b"%PDF")


def test_notice_from_yaml_with_stix(db: str, tmp_path: Path) -> None:
    prose = tmp_path / "notice.yaml"
    prose.write_text("method: Cloned bank portals.\ntargets: Pacific bank customers.\n"
                     "countermeasures: [Block the addresses.]\ntlp: amber\n")  # fmt: skip
    clusters = Store.open(db)
    from sqlalchemy import select

    from marsad.store.schema import clusters as table

    with clusters.engine.connect() as conn:
        cluster = conn.execute(select(table.c.id)).scalar_one()
    clusters.close()
    done = marsad("report", "notice", "--cluster", str(cluster), "--as", "Fiji CCU",
                  "--from-file", str(prose), "--format", "html,stix", "--out", str(tmp_path),
                  "--db", db)  # fmt: skip
    assert "TLP:AMBER" in done.stdout
    bundle = json.loads((tmp_path / f"notice-{cluster}.stix.json").read_text())
    assert {"report", "note", "indicator"} <= {o["type"] for o in bundle["objects"]}
    missing = marsad("report", "notice", "--cluster", "424242", "--as", "Fiji CCU", "--db", db,
                     ok=False)  # fmt: skip
    assert missing.returncode == 1 and "no cluster 424242" in missing.stderr
