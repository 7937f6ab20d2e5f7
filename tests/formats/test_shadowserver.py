"""Shadowserver report CSVs (IntelMQ's anonymised samples): report type, threat type, context."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from marsad.formats import shadowserver
from marsad.formats.feedutil import malware_ref
from marsad.formats.registry import detect_format
from marsad.ingest.pipeline import ingest
from marsad.model.observable import ObservableType as O
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
)
from marsad.model.records import ThreatType as T
from marsad.store.store import Store
from tests.conftest import DATA, NOW
from tests.formats.accounting import assert_accounted, data_lines, located

REPORTS = DATA / "intelmq" / "shadowserver"
FIXTURES = sorted(REPORTS.glob("*.csv"))
# report -> (threat type of the subject, subject type, number of rows)
EXPECTED = {
    "blocklist": (T.MALICIOUS_ACTIVITY, O.IPV4, 3),
    "compromised_website": (T.COMPROMISED, O.IPV4, 3),
    "device_id": (T.VULNERABLE, O.IPV4, 3),
    "event4_honeypot_brute_force": (T.BRUTE_FORCE, O.IPV4, 6),
    "event4_microsoft_sinkhole": (T.BOTNET, O.IPV4, 6),
    "event4_sinkhole_dns": (T.BOTNET, O.IPV4, 3),
    "event4_sinkhole_http": (T.BOTNET, O.IPV4, 5),
    "malware_url": (T.MALWARE_DISTRIBUTION, O.URL, 3),
    "phish_url": (T.PHISHING, O.URL, 3),
    "sandbox_url": (T.MALICIOUS_ACTIVITY, O.URL, 3),
    "scan_dns": (T.VULNERABLE, O.IPV4, 100),
    "scan_rdp": (T.VULNERABLE, O.IPV4, 2),
    "scan_smb": (T.VULNERABLE, O.IPV4, 3),
    "scan_ssh": (T.VULNERABLE, O.IPV4, 3),
    "scan_telnet": (T.VULNERABLE, O.IPV4, 2),
}


def parse(path: Path, filename: str | None = None) -> list[Record]:
    return list(shadowserver.parse(path.read_bytes(), ParseMeta(filename=filename)))


def subjects(records: list[Record]) -> list[AssertionRecord]:
    """The row assertions (secondary values carry 'of <subject>' in their description)."""
    return [
        r for r in records if isinstance(r, AssertionRecord) and " of " not in (r.description or "")
    ]


def test_every_report_has_an_expectation() -> None:
    assert {p.stem for p in FIXTURES} == set(EXPECTED)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_report_maps_to_its_threat_type_with_first_seen(path: Path) -> None:
    assert detect_format(path.read_bytes()).name == "shadowserver"
    threat, kind, rows = EXPECTED[path.stem]
    records = parse(path, path.name)
    rows_seen = subjects(records)
    assert len(rows_seen) == rows
    assert {(r.threat_type, r.observable.type) for r in rows_seen} <= {
        (threat, kind),
        (threat, O.CIDR),
    }
    assert all(r.first_seen is not None and r.first_seen.tzinfo for r in rows_seen)
    assert all((r.description or "").startswith(f"Shadowserver {path.stem}") for r in rows_seen)
    assert located(records) == data_lines(path.read_text(), header=True)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_the_header_alone_gives_the_same_threat_types(path: Path) -> None:
    by_name = [(r.observable, r.threat_type) for r in subjects(parse(path, path.name))]
    by_header = [(r.observable, r.threat_type) for r in subjects(parse(path))]  # stdin
    assert by_header == by_name


def test_scan_context_and_dates() -> None:
    first = subjects(parse(REPORTS / "scan_dns.csv", "2018-04-14-scan_dns-at.csv"))[0]
    assert first.observable.value == "198.51.100.179"
    assert first.first_seen == dt.datetime(2018, 4, 14, 0, 14, 34, tzinfo=dt.UTC)
    assert first.description == (
        "Shadowserver scan_dns: protocol udp, port 53, tag openresolver, "
        "dns_version dnsmasq-2.66, min_amplification 4.6190"
    )
    rdp = subjects(parse(REPORTS / "scan_rdp.csv", "scan_rdp.csv"))[0]
    assert "bluekeep_vulnerable N" in (rdp.description or "")


def test_sinkhole_hits_name_the_malware_family() -> None:
    records = parse(REPORTS / "event4_microsoft_sinkhole.csv", "event4_microsoft_sinkhole.csv")
    [family] = [r for r in records if isinstance(r, EntityRecord)]
    assert family.name == "zeroaccess" and family.ref == malware_ref("ZeroAccess")
    edges = [r for r in records if isinstance(r, RelationshipRecord)]
    assert len(edges) == 6 and {e.type for e in edges} == {"infected-with"}
    assert "infection b68-zeroaccess-2-32bit" in (subjects(records)[0].description or "")
    dns = parse(REPORTS / "event4_sinkhole_dns.csv", "event4_sinkhole_dns.csv")
    assert {r.name for r in dns if isinstance(r, EntityRecord)} == {"calypso", "orcus"}
    assert "query YolkIsh.COM" in (subjects(dns)[0].description or "")


def test_url_reports_add_hosting_ips_payloads_and_samples() -> None:
    phish = parse(REPORTS / "phish_url.csv", "phish_url.csv")
    edges = {
        (r.source_ref, r.type, r.target_ref) for r in phish if isinstance(r, RelationshipRecord)
    }
    assert (
        "url:https://priceless-pare.example.net/Postal-/acec6/",
        "hosted-on",
        "ipv4:172.245.0.0",
    ) in edges
    ips = [r for r in phish if isinstance(r, AssertionRecord) and r.observable.type is O.IPV4]
    assert len(ips) == 3 and {r.threat_type for r in ips} == {T.PHISHING}
    malware = parse(REPORTS / "malware_url.csv", "malware_url.csv")
    payload = [
        r for r in malware if isinstance(r, AssertionRecord) and r.observable.type is O.SHA256
    ]
    assert len(payload) == 1 and payload[0].threat_type is T.MALWARE
    assert any(
        isinstance(r, RelationshipRecord)
        and r.type == "delivers"
        and r.target_ref == payload[0].observable.ref
        for r in malware
    )
    sandbox = parse(REPORTS / "sandbox_url.csv", "sandbox_url.csv")
    assert (
        "md5:37514b54e679a5313334e830ad780ec7",
        "communicates-with",
        "url:http://www.msftncsi.com/ncsi.txt",
    ) in {
        (r.source_ref, r.type, r.target_ref) for r in sandbox if isinstance(r, RelationshipRecord)
    }


def test_blocklist_keeps_cidrs_and_compromised_sites_their_host() -> None:
    block = subjects(parse(REPORTS / "blocklist.csv", "blocklist.csv"))
    assert [r.observable.value for r in block][-1] == "198.123.245.0/24"
    assert (
        block[0].description
        == "Shadowserver blocklist: reason Malicious Host AA, source Alien Vault"
    )
    site = parse(REPORTS / "compromised_website.csv", "compromised_website.csv")
    assert ("domain:example.com", "resolves-to", "ipv4:203.0.113.1") in {
        (r.source_ref, r.type, r.target_ref) for r in site if isinstance(r, RelationshipRecord)
    }


def test_bad_cells_are_rejected_with_line_and_column_and_the_rest_kept() -> None:
    raw = (
        b'"timestamp","url","host","ip","asn","geo","region","city","naics","sector","source"\n'
        b'"2022-02-01 08:00:07","https://ok.example.net/a","ok.example.net","999.1.2.3",1,"US",,,,,"x"\n'
        b'"2022-02-01 08:00:07","not a url","x",,1,"US",,,,,"x"\n'
        b'"2022-02-01 08:00:07","https://ok.example.net/b","ok.example.net","203.0.113.8",1,"US",,,,,"x"\n'
    )
    records = list(shadowserver.parse(raw, ParseMeta(filename="2022-02-01-phish_url-asn.csv")))
    rejected = {r.location: r.reason for r in records if isinstance(r, Rejected)}
    assert set(rejected) == {"line 2, column ip", "line 3, column url"}
    urls = [r.observable.value for r in subjects(records)]
    assert urls == ["https://ok.example.net/a", "https://ok.example.net/b"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_report_ingests_with_every_record_accounted_for(orgs: Store, path: Path) -> None:
    raw = path.read_bytes()
    report = ingest(orgs, raw, source="PhishGuard", filename=path.name, now=NOW)
    assert report.format == "shadowserver"
    assert_accounted(orgs, report, list(shadowserver.parse(raw, ParseMeta(filename=path.name))))
