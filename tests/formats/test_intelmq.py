"""IntelMQ events in and out: harmonised JSON lines round-trip."""

from __future__ import annotations

import datetime as dt

import orjson

from marsad.formats import intelmq
from marsad.formats.registry import detect_format
from marsad.model.handling import Handling
from marsad.model.records import AssertionRecord, AssertionView, ParseMeta, Rejected, ThreatType

EVENTS = [
    {"feed.name": "Feodo Tracker", "classification.type": "c2-server", "source.ip": "51.178.161.32",
     "source.asn": 16276, "malware.name": "dridex", "time.source": "2021-01-17T07:44:46+00:00",
     "time.observation": "2021-01-18T00:00:00+00:00", "classification.taxonomy": "malicious-code"},
    {"feed.name": "PhishTank", "classification.type": "phishing", "source.url": "https://ardentig.top/",
     "source.fqdn": "ardentig.top", "time.source": "2022-11-16T14:08:44+00:00"},
    {"feed.name": "Spamhaus", "classification.type": "spam", "source.ip": "999.1.2.3"},
    {"feed.name": "Empty", "classification.type": "spam"},
]  # fmt: skip
RAW = b"\n".join(orjson.dumps(e) for e in EVENTS) + b"\nnot json\n"


def test_events_in() -> None:
    assert detect_format(RAW).name == "intelmq"
    records = list(intelmq.parse(RAW, ParseMeta()))
    got = {(r.observable.ref, r.threat_type) for r in records if isinstance(r, AssertionRecord)}
    assert got == {
        ("ipv4:51.178.161.32", ThreatType.C2), ("asn:AS16276", ThreatType.C2),
        ("url:https://ardentig.top/", ThreatType.PHISHING), ("domain:ardentig.top", ThreatType.PHISHING),
    }  # fmt: skip
    first = next(r for r in records if isinstance(r, AssertionRecord))
    assert first.first_seen == dt.datetime(2021, 1, 17, 7, 44, 46, tzinfo=dt.UTC)
    assert first.description == "Feodo Tracker dridex"
    rejected = {r.location: r.reason for r in records if isinstance(r, Rejected)}
    assert set(rejected) == {"line 3, source.ip", "line 4", "line 5, column 1"}


def test_events_round_trip() -> None:
    records = [r for r in intelmq.parse(RAW, ParseMeta()) if isinstance(r, AssertionRecord)]
    views = [
        AssertionView(observable=r.observable, threat_type=r.threat_type, handling=Handling(),
                      source="Feodo Tracker" if r.threat_type is ThreatType.C2 else "PhishTank",
                      first_seen=r.first_seen, last_seen=r.last_seen)
        for r in records
    ]  # fmt: skip
    out = [orjson.loads(line) for line in intelmq.export_events(views).splitlines()]
    assert {"source.ip": "51.178.161.32", "classification.type": "c2-server", "feed.name": "Feodo Tracker",
            "time.source": "2021-01-17T07:44:46+00:00", "time.observation": "2021-01-18T00:00:00+00:00"} in out  # fmt: skip
    assert {"source.asn": 16276}.items() <= next(e for e in out if "source.asn" in e).items()
    again = [
        r
        for r in intelmq.parse(intelmq.export_events(views), ParseMeta())
        if isinstance(r, AssertionRecord)
    ]
    key = lambda r: (r.observable, r.threat_type, r.first_seen, r.last_seen)  # noqa: E731
    assert sorted(map(key, again), key=str) == sorted(map(key, records), key=str)
