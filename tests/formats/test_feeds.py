"""Public feeds on the IntelMQ parser test inputs: detected by content, mapped with dates."""

from __future__ import annotations

import datetime as dt

import pytest

from marsad.formats import feodo, phishtank, spamhaus, urlhaus
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

FEEDS = DATA / "intelmq"


def parse(module: object, name: str) -> list[Record]:
    return list(module.parse((FEEDS / name).read_bytes(), ParseMeta()))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("abusech/urlhaus.txt", "urlhaus"),
        ("abusech/test_parser_feodotracker.INPUT.json", "feodo"),
        ("spamhaus/drop.txt", "spamhaus"),
        ("spamhaus/asndrop.txt", "spamhaus"),
        ("phishtank/test_parser.INPUT.json", "phishtank"),
        ("openphish/feed.txt", "list"),
    ],
)
def test_feeds_are_detected_by_content(name: str, fmt: str) -> None:
    assert detect_format((FEEDS / name).read_bytes()).name == fmt


def test_urlhaus() -> None:
    [rec, second] = parse(urlhaus, "abusech/urlhaus.txt")  # the trailing '# of entries' is skipped
    assert isinstance(rec, AssertionRecord) and isinstance(second, AssertionRecord)
    assert second.description == "URLhaus: online"
    assert rec.observable == Observable(O.URL, "http://marconuenlist.ch/verif.accounts.docs.net/")
    assert rec.threat_type is ThreatType.MALWARE_DISTRIBUTION
    assert rec.first_seen == dt.datetime(2019, 2, 13, 0, 34, 42, tzinfo=dt.UTC)
    assert rec.location == "line 12"


def test_feodo_tracker() -> None:
    records = parse(feodo, "abusech/test_parser_feodotracker.INPUT.json")
    c2 = [r for r in records if isinstance(r, AssertionRecord)]
    assert len(c2) == 4 and all(r.threat_type is ThreatType.C2 for r in c2)
    first = c2[0]
    assert first.observable == Observable(O.IPV4, "51.178.161.32")
    assert first.first_seen == dt.datetime(2021, 1, 17, 7, 44, 46, tzinfo=dt.UTC)
    assert (
        first.description is not None
        and "Dridex" in first.description
        and "4643" in first.description
    )
    families = {r.name for r in records if isinstance(r, EntityRecord)}
    edges = {(r.source_ref, r.type) for r in records if isinstance(r, RelationshipRecord)}
    assert "Dridex" in families and (first.observable.ref, "c2-of") in edges


def test_spamhaus_drop_and_asn_drop() -> None:
    drop = parse(spamhaus, "spamhaus/drop.txt")
    assert [r.observable.value for r in drop if isinstance(r, AssertionRecord)] == [
        "1.4.0.0/17",
        "2a06:e480::/29",
    ]
    assert all(
        r.first_seen == dt.datetime(2015, 9, 14, 4, 39, 22, tzinfo=dt.UTC)
        for r in drop
        if isinstance(r, AssertionRecord)
    )
    asns = parse(spamhaus, "spamhaus/asndrop.txt")
    assert [r.observable.value for r in asns if isinstance(r, AssertionRecord)] == [
        "AS260",
        "AS10516",
    ]
    assert (
        isinstance(asns[0], AssertionRecord)
        and asns[0].description == "AE | XCONNECT24 - Xconnect24 Inc., US"
    )


def test_phishtank() -> None:
    records = parse(phishtank, "phishtank/test_parser.INPUT.json")
    urls = [r for r in records if isinstance(r, AssertionRecord) and r.observable.type is O.URL]
    assert urls[0].observable.value == "https://ardentig.top/"
    assert (
        urls[0].threat_type is ThreatType.PHISHING and urls[0].description == "phishing AEON Card"
    )
    hosted = [r for r in records if isinstance(r, RelationshipRecord)]
    assert (urls[0].observable.ref, "ipv4:204.152.210.139") in {
        (r.source_ref, r.target_ref) for r in hosted
    }


def test_openphish_bad_lines_are_rejected_with_reasons(orgs: Store) -> None:
    raw = (FEEDS / "openphish/feed.txt").read_bytes()
    report = ingest(orgs, raw, source="PhishGuard", threat_type=ThreatType.PHISHING, now=NOW)
    assert report.status == "ingested" and report.rejected == 2  # 'www..example.com': empty label
    assert [r.location for r in report.rejections] == ["line 1", "line 2"]


def test_bad_entries_are_rejected_not_fatal() -> None:
    raw = b'[{"ip_address": "999.1.1.1", "malware": "Emotet"}, {"ip_address": "203.0.113.1", "malware": "Emotet"}]'
    records = list(feodo.parse(raw, ParseMeta()))
    [bad] = [r for r in records if isinstance(r, Rejected)]
    assert bad.location == "$[0]" and "ip_address" in bad.reason
    assert sum(isinstance(r, AssertionRecord) for r in records) == 1
