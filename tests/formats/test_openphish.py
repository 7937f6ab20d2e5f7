"""OpenPhish feed.txt: phishing URLs, only when named (a URL list says nothing about itself)."""

from __future__ import annotations

from marsad.formats import openphish, plain
from marsad.formats.registry import detect_format, get_format
from marsad.ingest.pipeline import ingest
from marsad.model.records import AssertionRecord, ParseMeta, Rejected, ThreatType
from marsad.store.store import Store
from tests.conftest import DATA, NOW
from tests.formats.accounting import assert_accounted

FEED = DATA / "intelmq" / "openphish" / "feed.txt"
URLS = b"https://secure-login.example.com/verify\nhttp://203.0.113.7/paypal/\n\nnot a url\n"


def test_never_detected_so_plain_lists_stay_plain() -> None:
    assert not openphish.sniff(URLS) and not openphish.sniff(FEED.read_bytes())
    assert detect_format(URLS).name == "list"
    assert get_format("openphish").parse is openphish.parse


def test_urls_are_phishing_whatever_the_default_threat_type() -> None:
    meta = ParseMeta(default_threat_type=ThreatType.MALWARE_DISTRIBUTION)
    records = list(openphish.parse(URLS, meta))
    urls = [r for r in records if isinstance(r, AssertionRecord)]
    assert [r.observable.value for r in urls] == [
        "https://secure-login.example.com/verify",
        "http://203.0.113.7/paypal/",
    ]
    assert {r.threat_type for r in urls} == {ThreatType.PHISHING}
    [bad] = [r for r in records if isinstance(r, Rejected)]
    assert bad.location == "line 4" and bad.raw == "not a url"
    # the same bytes as a plain list take the threat type they are given
    as_list = [r for r in plain.parse(URLS, meta) if isinstance(r, AssertionRecord)]
    assert {r.threat_type for r in as_list} == {ThreatType.MALWARE_DISTRIBUTION}


def test_feed_ingests_with_every_line_accounted_for(orgs: Store) -> None:
    raw = FEED.read_bytes()
    report = ingest(orgs, raw, source="PhishGuard", fmt="openphish", now=NOW)
    assert report.format == "openphish" and report.rejected == 2  # 'www..example.com'
    assert_accounted(orgs, report, list(openphish.parse(raw, ParseMeta())))
    good = ingest(orgs, URLS, source="PhishGuard", fmt="openphish", now=NOW)
    assert good.accepted == 2 and good.rejected == 1
