"""MISP export: PyMISP reads it back with the same attributes, and so does our importer."""

from __future__ import annotations

import datetime as dt

import orjson
from pymisp import MISPEvent

from marsad.formats import misp
from marsad.formats.misp_export import export_event
from marsad.model.handling import PAP, TLP, Handling
from marsad.model.normalize import observable
from marsad.model.observable import ObservableType as O
from marsad.model.records import AssertionRecord, AssertionView, ParseMeta, ThreatType

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
VALUES = [
    (O.IPV4, "203.0.113.7", ThreatType.C2, TLP.AMBER),
    (O.DOMAIN, "login-verify.example.net", ThreatType.PHISHING, TLP.GREEN),
    (O.URL, "https://pay.example.org/checkout", ThreatType.INVESTMENT_SCAM, TLP.CLEAR),
    (O.SHA256, "a" * 64, ThreatType.MALWARE, TLP.RED),
    (
        O.ETH_WALLET,
        "0x52908400098527886E0F7030069857D2E4169EE7",
        ThreatType.ROMANCE_SCAM,
        TLP.AMBER,
    ),
    (O.TRACKING_ID, "UA-1234567-1", ThreatType.PIRACY, TLP.GREEN),
    (
        O.ONION,
        "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion",
        ThreatType.UNKNOWN,
        TLP.AMBER,
    ),
]


def views() -> list[AssertionView]:
    return [
        AssertionView(
            observable=observable(kind, value), threat_type=threat,
            handling=Handling(tlp=tlp, pap=PAP.GREEN), source="PhishGuard",
            first_seen=NOW - dt.timedelta(days=3), last_seen=NOW, description=f"{threat} seen",
        )
        for kind, value, threat, tlp in VALUES
    ]  # fmt: skip


def test_pymisp_reads_the_export_back() -> None:
    raw = export_event(views(), info="Marsad export", now=NOW)
    event = MISPEvent()
    event.load(raw.decode())
    assert event.info == "Marsad export"
    got = {(a.type, a.value, a.to_ids) for a in event.attributes}
    assert ("ip-dst", "203.0.113.7", True) in got
    assert ("sha256", "a" * 64, True) in got
    assert ("text", "UA-1234567-1", True) in got
    assert ("domain", VALUES[-1][1], False) in got  # unknown threat: not for detection
    assert len(event.attributes) == len(VALUES)
    tags = {t.name for t in event.tags}
    assert tags == {"tlp:red"}  # the event carries its most restrictive content
    by_value = {a.value: {t.name for t in a.tags} for a in event.attributes}
    assert {"tlp:green", "PAP:GREEN", 'marsad:threat-type="phishing"'} <= by_value[
        "login-verify.example.net"
    ]


def test_export_reimports_to_the_same_assertions() -> None:
    raw = export_event(views(), info="Marsad export", now=NOW)
    back = [r for r in misp.parse(raw, ParseMeta()) if isinstance(r, AssertionRecord)]
    got = {(r.observable, r.threat_type, r.handling.tlp if r.handling else None) for r in back}
    want = {(v.observable, v.threat_type, v.handling.tlp) for v in views()}
    assert got == want
    assert all(r.first_seen == NOW - dt.timedelta(days=3) and r.last_seen == NOW for r in back)
    assert (
        orjson.loads(raw)["Event"]["Attribute"][0]["uuid"]
        == orjson.loads(export_event(views(), info="Marsad export", now=NOW))["Event"]["Attribute"][
            0
        ]["uuid"]
    )  # deterministic: a re-export updates, never duplicates
