"""ThreatFox: export JSON, API JSON and CSV export, mapped to threat types and malware families."""

from __future__ import annotations

import datetime as dt

import pytest

from marsad.formats import threatfox
from marsad.formats.feedutil import malware_ref
from marsad.formats.registry import detect_format
from marsad.ingest.pipeline import ingest
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)
from marsad.store.store import Store
from tests.conftest import DATA, NOW
from tests.formats.accounting import assert_accounted, data_lines, located

FIXTURES = ("export_recent.csv", "export_recent.json", "api_get_iocs.json")


def parse(name: str) -> list[Record]:
    return list(threatfox.parse((DATA / "threatfox" / name).read_bytes(), ParseMeta()))


@pytest.mark.parametrize("name", FIXTURES)
def test_detected_by_content(name: str) -> None:
    assert detect_format((DATA / "threatfox" / name).read_bytes()).name == "threatfox"


def test_csv_export_maps_every_ioc_type_and_threat_type() -> None:
    records = parse("export_recent.csv")
    by_value = {r.observable.value: r for r in records if isinstance(r, AssertionRecord)}
    c2 = by_value["198.51.100.23"]  # ip:port keeps the IP, the port goes to the description
    assert c2.observable.type is O.IPV4 and c2.threat_type is ThreatType.C2
    assert c2.first_seen == dt.datetime(2026, 10, 30, 6, 10, 11, tzinfo=dt.UTC)
    assert c2.last_seen == dt.datetime(2026, 10, 30, 6, 12, 40, tzinfo=dt.UTC)
    assert c2.confidence == 100 and c2.location == "line 10" and c2.name == "ThreatFox 1891401"
    assert c2.description == "Cobalt Strike botnet_cc; port 8443; tags c2,CobaltStrike"
    assert by_value["login-update.example.com"].observable.type is O.DOMAIN
    url = by_value["http://203.0.113.77/bins/x86"]
    assert url.observable.type is O.URL and url.threat_type is ThreatType.MALWARE_DISTRIBUTION
    md5 = by_value["44d88612fea8a8f36de82e1278abb02f"]
    assert md5.observable.type is O.MD5 and md5.threat_type is ThreatType.MALWARE
    skimmer = by_value["shop.example.org"]
    assert skimmer.threat_type is ThreatType.FRAUD and "compromised host" in (
        skimmer.description or ""
    )
    assert "None" not in (by_value["login-update.example.com"].description or "")
    rejected = {r.location: r.reason for r in records if isinstance(r, Rejected)}
    assert rejected == {
        "line 16": "ioc_value: octet 999 is above 255",
        "line 17": "ioc_type 'sha3_384_hash' is not tracked",
    }
    text = (DATA / "threatfox/export_recent.csv").read_text()
    assert located(records) == data_lines(text, header=False)  # every row accounted for


def test_malware_families_become_entities_with_edges() -> None:
    records = parse("export_recent.csv")
    families = {r.ref: r for r in records if isinstance(r, EntityRecord)}
    tesla = families[malware_ref("Agent Tesla")]
    assert tesla.kind == "malware" and tesla.attributes["aliases"] == [
        "AgenTesla",
        "AgentTesla",
        "Negasteal",
    ]
    edges = {
        (r.source_ref, r.type, r.target_ref) for r in records if isinstance(r, RelationshipRecord)
    }
    assert ("ipv4:198.51.100.23", "c2-of", malware_ref("cobalt strike")) in edges
    assert ("url:http://203.0.113.77/bins/x86", "delivers", malware_ref("Mirai")) in edges
    assert ("md5:44d88612fea8a8f36de82e1278abb02f", "sample-of", tesla.ref) in edges
    assert all(e[2] in families for e in edges)


def test_json_export_and_api_answer_give_the_same_records_as_csv() -> None:
    csv_keys = {
        (r.observable, r.threat_type, r.first_seen, r.description)
        for r in parse("export_recent.csv")
        if isinstance(r, AssertionRecord)
    }
    json_records = parse("export_recent.json")
    json_keys = {
        (r.observable, r.threat_type, r.first_seen, r.description)
        for r in json_records
        if isinstance(r, AssertionRecord)
    }
    assert json_keys and json_keys <= csv_keys
    rejected = {r.location: r.reason for r in json_records if isinstance(r, Rejected)}
    assert set(rejected) == {'$["1891388"][1]', '$["1891379"]'}
    api = parse("api_get_iocs.json")
    got = {r.location: r for r in api if isinstance(r, AssertionRecord)}
    assert got["$.data[0]"].observable == Observable(O.DOMAIN, "gaga.example.com")
    assert got["$.data[0]"].first_seen == dt.datetime(2020, 12, 8, 13, 36, 27, tzinfo=dt.UTC)
    assert got["$.data[0]"].description == "Dridex botnet_cc; tags exe,test"
    assert got["$.data[2]"].observable == Observable(O.IPV6, "2001:db8::5")  # [v6]:port
    assert got["$.data[3]"].observable == Observable(O.IPV4, "203.0.113.10")  # no port


def test_an_api_error_answer_is_one_clear_error() -> None:
    from marsad.model.errors import FormatError

    with pytest.raises(FormatError, match="no_result"):
        list(threatfox.parse(b'{"query_status": "no_result", "data": "x"}', ParseMeta()))


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_ingests_with_every_record_accounted_for(orgs: Store, name: str) -> None:
    raw = (DATA / "threatfox" / name).read_bytes()
    report = ingest(orgs, raw, source="PhishGuard", filename=name, now=NOW)
    assert report.format == "threatfox"
    assert_accounted(orgs, report, list(threatfox.parse(raw, ParseMeta(filename=name))))
