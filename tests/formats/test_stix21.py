"""STIX 2.1 parser: every object of every fixture is accounted for, and the records are right."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from marsad.formats import stix21
from marsad.model.errors import FormatError
from marsad.model.handling import TLP, Handling
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import (
    AssertionRecord,
    Consumed,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "stix21"
FIXTURES = sorted(p.name for p in DATA.glob("*.json"))
META = ParseMeta()
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
_BASE = re.compile(r"^(\$(?:\.objects)?\[\d+\]|\$)")


def _parse(doc: Any, meta: ParseMeta = META) -> list[Record]:
    return list(stix21.parse(orjson.dumps(doc), meta))


def _fixture(name: str) -> list[Record]:
    return list(stix21.parse((DATA / name).read_bytes(), META))


def _of(records: list[Record], kind: type[Any]) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


def _indicator(pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-02T03:04:05Z",
        **extra,
    }


def test_fixtures_are_all_here() -> None:
    assert len(FIXTURES) == 18


@pytest.mark.parametrize("name", FIXTURES)
def test_every_object_is_accounted_for(name: str) -> None:
    doc = orjson.loads((DATA / name).read_bytes())
    objects = doc if isinstance(doc, list) else doc["objects"]
    prefix = "$" if isinstance(doc, list) else "$.objects"
    expected = {f"{prefix}[{i}]" for i in range(len(objects))}
    records = _fixture(name)
    seen = set()
    for rec in records:
        m = _BASE.match(rec.location)
        assert m is not None, rec.location
        seen.add(m.group(1))
    assert seen == expected
    # stored-kind records grouped by location + rejected + consumed covers every object
    stored = {
        _BASE.match(r.location).group(1) for r in records if not isinstance(r, Rejected | Consumed)
    }  # type: ignore[union-attr]
    others = {
        _BASE.match(r.location).group(1) for r in records if isinstance(r, Rejected | Consumed)
    }  # type: ignore[union-attr]
    assert len(stored | others) == len(objects)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_are_sniffed(name: str) -> None:
    assert stix21.sniff((DATA / name).read_bytes())


def test_c2_ip_indicator() -> None:
    (rec,) = _fixture("indicator-for-c2-ip-address.json")
    assert isinstance(rec, AssertionRecord)
    assert rec.observable == Observable(ObservableType.IPV4, "10.0.0.0")
    assert rec.threat_type is ThreatType.C2  # "known C2 channel" in the name
    assert rec.stix_id == "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"
    assert rec.name == "IP Address for known C2 channel"
    assert rec.first_seen == dt.datetime(2014, 5, 8, 9, 0, tzinfo=dt.UTC)
    assert rec.handling is None
    assert rec.location == "$.objects[0] (indicator--33fe3b22-0201-47cf-85d0-97c02164528d)"


def test_apt1_relationships_resolve_to_observables() -> None:
    records = _fixture("apt1.json")
    assertions = _of(records, AssertionRecord)
    refs = {a.observable.ref for a in assertions}
    assert "domain:hugesoft.org" in refs
    assert {a.observable.type for a in assertions} == {
        ObservableType.CIDR,
        ObservableType.DOMAIN,
        ObservableType.MD5,
    }
    indicator_ids = {a.stix_id for a in assertions}
    rels = _of(records, RelationshipRecord)
    assert not any(r.source_ref in indicator_ids or r.target_ref in indicator_ids for r in rels)
    indicates = [r for r in rels if r.type == "indicates"]
    assert {r.source_ref for r in indicates} >= {"domain:hugesoft.org"}
    # the two x509 AND patterns are kept whole
    complex_ = [e for e in _of(records, EntityRecord) if e.kind == "indicator"]
    assert len(complex_) == 2
    assert all("AND" in e.attributes["pattern"] for e in complex_)
    report = [e for e in _of(records, EntityRecord) if e.kind == "report"]
    assert len(report) == 1
    refers = [r for r in rels if r.type == "refers-to"]
    assert len(refers) >= len(report[0].attributes["object_refs"])


def test_indicates_malware_gives_malware_threat() -> None:
    records = _fixture("malware-indicator-for-file-hash.json")
    (a,) = _of(records, AssertionRecord)
    assert a.observable.type is ObservableType.SHA256
    assert a.threat_type is ThreatType.MALWARE
    (rel,) = _of(records, RelationshipRecord)
    assert rel.source_ref == a.observable.ref


def test_sighting_of_observed_data() -> None:
    records = _fixture("sighting-of-observed-data.json")
    (sighting,) = [r for r in _of(records, RelationshipRecord) if r.type == "sighting-of"]
    assert sighting.source_ref == "identity--987eeee1-413a-44ac-96cc-0a8acdcc2f2c"
    assert sighting.target_ref == "malware--ae560258-a5cb-4be8-8f05-013d6712295f"
    assert sighting.attributes["count"] == 1
    observed = [r for r in _of(records, RelationshipRecord) if r.type == "observed"]
    assert {r.target_ref.split(":")[0] for r in observed} >= {"md5", "sha1"}
    (rejected,) = _of(records, Rejected)
    assert rejected.reason == "unsupported observable type windows-registry-key"
    assert '"windows-registry-key"' in rejected.raw


def test_sco_examples_map_and_reject() -> None:
    records = _fixture("sco-examples-bundle.json")
    types = {a.observable.type for a in _of(records, AssertionRecord)}
    assert {
        ObservableType.IPV4,
        ObservableType.ASN,
        ObservableType.EMAIL,
        ObservableType.URL,
    } <= types
    assert all(a.threat_type is ThreatType.UNKNOWN for a in _of(records, AssertionRecord))
    reasons = {r.reason for r in _of(records, Rejected)}
    assert "unsupported observable type mac-addr" in reasons
    assert "unsupported observable type process" in reasons


def test_bare_sco_takes_the_default_threat_type() -> None:
    sco = {
        "type": "domain-name",
        "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
        "value": "Example.COM",
    }
    (rec,) = _parse(sco, ParseMeta(default_threat_type=ThreatType.PHISHING))
    assert isinstance(rec, AssertionRecord)
    assert rec.threat_type is ThreatType.PHISHING
    assert rec.location == "$ (domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5)"


def test_sco_already_asserted_by_an_indicator_is_consumed() -> None:
    sco = {
        "type": "ipv4-addr",
        "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
        "value": "198.51.100.3",
    }
    rel = {
        "type": "relationship",
        "id": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",
        "relationship_type": "based-on",
        "source_ref": _indicator("")["id"],
        "target_ref": sco["id"],
    }
    records = _parse([_indicator("[ipv4-addr:value = '198.51.100.3']"), sco, rel])
    assert [type(r) for r in records] == [AssertionRecord, Consumed, RelationshipRecord]
    assert records[2].source_ref == records[2].target_ref == "ipv4:198.51.100.3"  # type: ignore[union-attr]


def test_tlp_markings_become_handling() -> None:
    red = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_RED,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:RED",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "red",
            }
        },
    }
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f",
        "created": "2017-04-14T13:07:49.812Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2017, Example Corp"},
    }
    objects = [
        _indicator("[domain-name:value = 'red.example']", object_marking_refs=[TLP2_RED]),
        _indicator("[domain-name:value = 'green.example']", object_marking_refs=[TLP1_GREEN]),
        _indicator(
            "[domain-name:value = 'both.example']",
            object_marking_refs=[TLP1_GREEN, TLP2_RED, statement["id"]],
        ),
        _indicator("[domain-name:value = 'none.example']", object_marking_refs=[statement["id"]]),
        red,
        statement,
    ]
    records = _parse({"type": "bundle", "id": "bundle--0", "objects": objects})
    handling = {a.observable.value: a.handling for a in _of(records, AssertionRecord)}
    assert handling == {
        "red.example": Handling(tlp=TLP.RED),
        "green.example": Handling(tlp=TLP.GREEN),
        "both.example": Handling(tlp=TLP.RED),
        "none.example": None,
    }
    (consumed,) = _of(records, Consumed)
    assert consumed.what == "TLP:RED marking-definition"
    (entity,) = _of(records, EntityRecord)
    assert entity.kind == "marking-definition"
    assert entity.name == "statement"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"labels": ["phishing"], "indicator_types": ["malicious-activity"]}, ThreatType.PHISHING),
        ({"indicator_types": ["benign"], "name": "phishing training"}, ThreatType.BENIGN),
        ({"indicator_types": ["malicious-activity"], "name": "Emotet C2 server"}, ThreatType.C2),
        ({"indicator_types": ["anonymization"]}, ThreatType.ANONYMIZATION),
        ({"indicator_types": ["malicious-activity"]}, ThreatType.MALICIOUS_ACTIVITY),
        ({"indicator_types": ["anomalous-activity"]}, ThreatType.UNKNOWN),
        (
            {
                "kill_chain_phases": [
                    {
                        "kill_chain_name": "lockheed-martin-cyber-kill-chain",
                        "phase_name": "command-and-control",
                    }
                ]
            },
            ThreatType.C2,
        ),
        ({}, ThreatType.UNKNOWN),
    ],
)
def test_indicator_threat_type(extra: dict[str, Any], expected: ThreatType) -> None:
    (rec,) = _parse(_indicator("[ipv4-addr:value = '192.0.2.1']", **extra))
    assert isinstance(rec, AssertionRecord)
    assert rec.threat_type is expected


def test_indicates_ransomware() -> None:
    ind = _indicator("[ipv4-addr:value = '192.0.2.1']", indicator_types=["malicious-activity"])
    malware = {
        "type": "malware",
        "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
        "name": "Locky",
        "is_family": True,
        "malware_types": ["ransomware"],
    }
    rel = {
        "type": "relationship",
        "id": "relationship--6ce78886-1c3b-4e0a-9f2a-d1bdb1a1b9f3",
        "relationship_type": "indicates",
        "source_ref": ind["id"],
        "target_ref": malware["id"],
    }
    records = _parse([rel, malware, ind])
    (a,) = _of(records, AssertionRecord)
    assert a.threat_type is ThreatType.RANSOMWARE
    (r,) = _of(records, RelationshipRecord)
    assert (r.source_ref, r.type, r.target_ref) == ("ipv4:192.0.2.1", "indicates", malware["id"])


def test_or_pattern_gives_one_assertion_per_observable() -> None:
    records = _parse(
        _indicator("[url:value = 'http://evil.example/x'] OR [domain-name:value = 'evil.example']")
    )
    assert [a.observable.type for a in _of(records, AssertionRecord)] == [
        ObservableType.URL,
        ObservableType.DOMAIN,
    ]


def test_complex_and_unmapped_patterns_keep_the_indicator() -> None:
    (entity,) = _parse(
        _indicator("[file:name = 'x.exe'] FOLLOWEDBY [url:value = 'http://a.example']")
    )
    assert isinstance(entity, EntityRecord)
    assert entity.kind == "indicator"
    assert entity.attributes["pattern"].startswith("[file:name")
    records = _parse(_indicator("[file:name = 'x.exe'] OR [domain-name:value = 'a.example']"))
    assert [type(r) for r in records] == [AssertionRecord, EntityRecord]
    (yara,) = _parse(_indicator("rule x { condition: true }", pattern_type="yara"))
    assert isinstance(yara, EntityRecord)


def test_invalid_value_is_rejected_with_the_reason() -> None:
    records = _parse(
        _indicator("[ipv4-addr:value = '300.1.2.3'] OR [domain-name:value = 'ok.example']")
    )
    assert [type(r) for r in records] == [Rejected, AssertionRecord]
    rejected = records[0]
    assert isinstance(rejected, Rejected)
    assert rejected.reason.startswith("ipv4-addr:value '300.1.2.3': ")
    assert orjson.loads(rejected.raw)["type"] == "indicator"


def test_cidr_onion_and_hashes() -> None:
    file_sco = {
        "type": "file",
        "id": "file--1",
        "hashes": {
            "MD5": "D41D8CD98F00B204E9800998ECF8427E",
            "SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "SHA3-256": "ignored",
        },
    }
    objects = [
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.0/24"},
        {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:db8::/32"},
        {
            "type": "domain-name",
            "id": "domain-name--1",
            "value": "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
        },
        file_sco,
        {"type": "autonomous-system", "id": "autonomous-system--1", "number": 15169},
        {
            "type": "x509-certificate",
            "id": "x509-certificate--1",
            "hashes": {
                "SHA-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            },
        },
        {"type": "file", "id": "file--2", "name": "only-a-name.exe"},
    ]
    records = _parse(objects)
    types = [r.observable.type for r in _of(records, AssertionRecord)]
    assert types == [
        ObservableType.CIDR,
        ObservableType.CIDR,
        ObservableType.ONION,
        ObservableType.MD5,
        ObservableType.SHA256,
        ObservableType.ASN,
        ObservableType.TLS_SHA256,
    ]
    (rejected,) = _of(records, Rejected)
    assert rejected.location.startswith("$[6]")


def test_relationship_with_sco_endpoints_and_resolves_to() -> None:
    objects = [
        {
            "type": "domain-name",
            "id": "domain-name--1",
            "value": "a.example",
            "resolves_to_refs": ["ipv4-addr--1"],
        },
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.7"},
        {"type": "infrastructure", "id": "infrastructure--1", "name": "botnet"},
        {
            "type": "relationship",
            "id": "relationship--1",
            "relationship_type": "consists-of",
            "source_ref": "infrastructure--1",
            "target_ref": "domain-name--1",
        },
    ]
    rels = _of(_parse(objects), RelationshipRecord)
    assert {(r.source_ref, r.type, r.target_ref) for r in rels} == {
        ("domain:a.example", "resolves-to", "ipv4:192.0.2.7"),
        ("infrastructure--1", "consists-of", "domain:a.example"),
    }


def test_malformed_objects_are_rejected_not_fatal() -> None:
    objects = [
        "not an object",
        {"no": "type"},
        {"type": "relationship", "id": "relationship--1"},
        {"type": "campaign"},
        {
            "type": "indicator",
            "id": "indicator--1",
            "pattern": "[ipv4-addr:value = '192.0.2.1']",
            "object_marking_refs": [],
            "confidence": "high",
            "valid_from": "yesterday",
        },
    ]
    records = sorted(_parse(objects), key=lambda r: r.location)
    assert [type(r) for r in records] == [Rejected, Rejected, Rejected, Rejected, AssertionRecord]
    a = records[4]
    assert isinstance(a, AssertionRecord)
    assert a.confidence is None and a.first_seen is None


def test_stix20_is_read_leniently() -> None:
    bundle = {
        "type": "bundle",
        "id": "bundle--1",
        "spec_version": "2.0",
        "objects": [
            {
                "type": "indicator",
                "id": "indicator--1",
                "labels": ["malicious-activity"],
                "pattern": "[url:value = 'http://bad.example/']",
                "valid_from": "2017-01-01T00:00:00Z",
            },
            {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Collection"},
        ],
    }
    records = _parse(bundle)
    assert [type(r) for r in records] == [AssertionRecord, EntityRecord]
    assert records[0].threat_type is ThreatType.MALICIOUS_ACTIVITY  # type: ignore[union-attr]


def test_invalid_json_names_the_position() -> None:
    with pytest.raises(FormatError, match=r"line 2, column \d+"):
        list(stix21.parse(b'{"type": "bundle",\n "objects": [}', META))
    with pytest.raises(FormatError):
        list(stix21.parse(b'"just a string"', META))


def test_sniff() -> None:
    assert stix21.sniff(b'  {"type": "bundle", "id": "bundle--1", "objects": []}')
    assert not stix21.sniff(b"value,type\n1.2.3.4,ipv4\n")
    assert not stix21.sniff(b'{"Event": {"Attribute": [{"type": "ip-dst"}]}}')
