"""Generic CSV/TSV/JSON lines with a column mapping, from --map or a saved profile."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marsad.cli import profiles
from marsad.cli.profiles import ProfileError
from marsad.formats import mapped
from marsad.ingest.pipeline import ingest
from marsad.model.errors import FormatError
from marsad.model.handling import TLP
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import AssertionRecord, ParseMeta, Rejected, ThreatType
from marsad.store.store import Store
from tests.conftest import NOW
from tests.formats.accounting import assert_accounted

SPEC = "value=indicator,type=kind,first_seen=date,threat_type=category,tlp=marking"
CSV = (
    b"indicator,kind,date,category,marking,comment\n"
    b"203.0.113.5,ip,2026-01-02,c2,,seen twice\n"
    b"evil.example.com,domain,2026-01-03T10:00:00Z,phishing,red,\n"
    b"bad..example.com,domain,2026-01-03,phishing,,\n"
    b"198.51.100.1,,last tuesday,c2,,\n"
    b"198.51.100.2,,1700000000,botnet_cc,,\n"
    b"198.51.100.3,,2026-01-04,not-a-threat,,\n"
)


def records(raw: bytes, spec: str = SPEC) -> list[AssertionRecord | Rejected]:
    meta = ParseMeta(column_map=mapped.parse_mapping(spec))
    return [r for r in mapped.parse(raw, meta) if isinstance(r, AssertionRecord | Rejected)]


def test_csv_columns_map_to_fields_and_bad_cells_name_their_column() -> None:
    got = records(CSV)
    ok = {r.location: r for r in got if isinstance(r, AssertionRecord)}
    assert ok["line 2"].observable == Observable(O.IPV4, "203.0.113.5")
    assert ok["line 2"].threat_type is ThreatType.C2
    assert ok["line 2"].first_seen == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert ok["line 3"].threat_type is ThreatType.PHISHING
    assert ok["line 3"].handling is not None and ok["line 3"].handling.tlp is TLP.RED
    assert ok["line 6"].first_seen == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    assert ok["line 6"].threat_type is ThreatType.C2  # ThreatFox's botnet_cc
    rejected = {r.location: r.reason for r in got if isinstance(r, Rejected)}
    assert rejected == {
        "line 4, column indicator": "value: empty label (two dots in a row)",
        "line 5, column date": "first_seen: 'last tuesday' is not a date",
        "line 7, column category": "threat_type: unknown threat type 'not-a-threat'",
    }


def test_tsv_and_positions_for_a_file_without_header() -> None:
    tsv = b"url\tfirst\nhttps://a.example.net/x\t2026-02-01\n"
    [rec] = records(tsv, "value=url,first_seen=first")
    assert isinstance(rec, AssertionRecord) and rec.observable.type is O.URL
    headless = b"# exported 2026-02-02\n2026-02-01;198.51.100.9\n2026-02-02;198.51.100.10\n"
    got = records(headless, "value=2,first_seen=1")
    assert [r.observable.value for r in got if isinstance(r, AssertionRecord)] == [
        "198.51.100.9",
        "198.51.100.10",
    ]
    assert [r.location for r in got] == ["line 2", "line 3"]


def test_json_lines_with_nested_keys() -> None:
    raw = (
        b'{"source": {"ip": "203.0.113.9"}, "cls": "scanner", "ts": "2026-01-01 00:00:00"}\n'
        b"not json\n"
        b"[1, 2]\n"
        b'{"source": {"ip": "x"}, "cls": "scanner"}\n'
    )
    got = records(raw, "value=source.ip,threat_type=cls,first_seen=ts")
    first = got[0]
    assert isinstance(first, AssertionRecord) and first.threat_type is ThreatType.SCANNING
    rejected = {r.location: r.reason for r in got if isinstance(r, Rejected)}
    assert set(rejected) == {"line 2", "line 3", "line 4, column source.ip"}
    assert rejected["line 3"] == "not a JSON object"
    array = b'[{"v": "203.0.113.10"}, {"v": "evil.example.org"}]'
    assert [r.location for r in records(array, "value=v")] == ["$[0]", "$[1]"]


def test_unknown_columns_are_one_error_naming_them_and_the_columns_present() -> None:
    meta = ParseMeta(column_map={"value": "ioc", "type": "kind", "first_seen": "when"})
    with pytest.raises(FormatError) as caught:
        list(mapped.parse(CSV, meta))
    assert str(caught.value) == (
        "columns 'ioc' (for value), 'when' (for first_seen) are not in the file; "
        "columns present: indicator, kind, date, category, marking, comment"
    )
    with pytest.raises(FormatError, match=r"column 'ip' \(for value\) is not in the file"):
        list(mapped.parse(b'{"source.ip": "203.0.113.1"}\n', ParseMeta(column_map={"value": "ip"})))
    with pytest.raises(FormatError, match="needs a column mapping"):
        list(mapped.parse(CSV, ParseMeta()))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("type=kind", "which column holds the value"),
        ("value=a,colour=b", "unknown field 'colour'"),
        ("value", "FIELD=COLUMN"),
    ],
)
def test_bad_mapping_specs(spec: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        mapped.parse_mapping(spec)


def test_a_mapping_chooses_the_mapped_format_in_the_pipeline(orgs: Store) -> None:
    mapping = mapped.parse_mapping(SPEC)
    report = ingest(orgs, CSV, source="PhishGuard", column_map=mapping, now=NOW)
    assert report.format == "mapped" and report.accepted == 3 and report.rejected == 3
    assert_accounted(orgs, report, list(mapped.parse(CSV, ParseMeta(column_map=mapping))))
    wrong = ingest(orgs, CSV + b"\n", source="PhishGuard", column_map={"value": "ioc"}, now=NOW)
    assert wrong.status == "rejected" and "'ioc' (for value)" in (wrong.error or "")


class Marsad:
    """The command as a user runs it, in its own instance home."""

    def __init__(self, home: Path) -> None:
        self.env = {**os.environ, "MARSAD_HOME": str(home), "COLUMNS": "200"}
        self.env.pop("MARSAD_DB", None)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "marsad", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )


def test_cli_map_save_profile_and_profile(tmp_path: Path) -> None:
    cli = Marsad(tmp_path / "home")
    assert cli.run("init").returncode == 0
    assert cli.run("org", "add", "PhishGuard", "--kind", "private-partner").returncode == 0
    first = tmp_path / "first.csv"
    first.write_bytes(CSV)
    done = cli.run(
        "ingest", str(first), "--source", "PhishGuard", "--map", SPEC,
        "--save-profile", "partner-list", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["format"] == "mapped" and report["accepted"] == 3 and report["rejected"] == 3
    saved = json.loads((tmp_path / "home" / "profiles.json").read_text())
    assert saved["partner-list"]["value"] == "indicator"
    second = tmp_path / "second.csv"
    second.write_bytes(b"indicator,kind,date,category,marking\n192.0.2.77,ip,2026-03-01,c2,\n")
    again = cli.run("ingest", str(second), "--source", "PhishGuard", "--profile", "partner-list")
    assert again.returncode == 0, again.stderr
    assert "ingested" in again.stdout and "(mapped," in again.stdout
    other = tmp_path / "other.csv"
    other.write_bytes(b"ip,seen\n192.0.2.78,2026-03-02\n")
    bad = cli.run("ingest", str(other), "--source", "PhishGuard", "--profile", "partner-list")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "columns present: ip, seen" in bad.stderr


def test_profiles_are_checked_and_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARSAD_HOME", str(tmp_path))
    assert profiles.resolve(None, None, None) is None
    profiles.save("abuse-list", {"value": "ioc", "first_seen": "date"})
    with pytest.raises(
        ProfileError, match=r"no column-mapping profile 'nope' \(profiles: abuse-list\)"
    ):
        profiles.load("nope")
    with pytest.raises(ProfileError, match="profile names"):
        profiles.save("../etc", {"value": "ioc"})
    with pytest.raises(ProfileError, match="needs a mapping"):
        profiles.resolve(None, None, "empty")
    # --map on top of a profile overrides its columns and may leave value out
    assert profiles.resolve("first_seen=seen", "abuse-list", None) == {
        "value": "ioc",
        "first_seen": "seen",
    }
