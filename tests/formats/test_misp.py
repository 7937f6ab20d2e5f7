"""MISP event JSON import on the real PyMISP, misp-stix and feed fixtures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from marsad.formats import misp
from marsad.formats.registry import detect_format
from marsad.ingest.pipeline import ingest
from marsad.model.handling import PAP, TLP
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as O
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
from marsad.store.store import Store
from tests.conftest import DATA, NOW

FIXTURES = sorted((DATA / "misp").rglob("*.json"))


def parse(path: Path) -> list[Record]:
    return list(misp.parse(path.read_bytes(), ParseMeta()))


def attribute_paths(node: Any, path: str = "$") -> set[str]:
    """JSON paths of every MISP attribute in a document."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Attribute" and isinstance(value, list):
                found |= {f"{path}.Attribute[{i}]" for i in range(len(value))}
                for i, attr in enumerate(value):
                    found |= attribute_paths(attr, f"{path}.Attribute[{i}]")
            elif key != "ShadowAttribute":
                found |= attribute_paths(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found |= attribute_paths(item, f"{path}[{i}]")
    return found


def test_fixtures_are_here() -> None:
    assert len(FIXTURES) == 21


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_attribute_is_accounted_for(path: Path) -> None:
    doc = orjson.loads(path.read_bytes())
    if isinstance(doc, dict) and "response" in doc:
        doc = {"response": doc["response"]}
    records = parse(path)
    located = {r.location for r in records}
    wanted = {
        p.replace("$.response.Attribute", "$.response.Attribute") for p in attribute_paths(doc)
    }
    missing = {
        p for p in wanted if p not in located and not any(loc.startswith(p) for loc in located)
    }
    assert not missing, sorted(missing)[:5]
    assert all(r.reason for r in records if isinstance(r, Rejected))


def test_detected_by_content() -> None:
    for path in FIXTURES:
        assert detect_format(path.read_bytes()).name == "misp", path.name


def test_osint_event_maps_types_ids_and_context() -> None:
    records = parse(DATA / "misp/pymisp/to_delete1.json")
    assertions = [r for r in records if isinstance(r, AssertionRecord)]
    kinds = Counter(a.observable.type for a in assertions)
    assert kinds[O.SHA256] > 0 and kinds[O.DOMAIN] > 0
    # text and link attributes are context of the report, not indicators
    [report] = [r for r in records if isinstance(r, EntityRecord) and r.kind == "report"]
    assert "SunOrcal" in report.name
    assert {c["type"] for c in report.attributes["context"]} >= {"comment", "link", "regkey"}
    assert sum(isinstance(r, Consumed) for r in records) == len(report.attributes["context"])
    # every indicator is linked to its event
    edges = {(r.source_ref, r.target_ref) for r in records if isinstance(r, RelationshipRecord)}
    assert all((report.ref, a.observable.ref) in edges for a in assertions)


def test_to_ids_gives_detection_grade_threat_and_tags_give_handling() -> None:
    records = parse(DATA / "misp/feed/5721c2e4-05ec-4af3-9264-411b950d210f.json")
    assertions = [r for r in records if isinstance(r, AssertionRecord)]
    threats = Counter(a.threat_type for a in assertions)
    # every indicator here is to_ids; the event's tags say malware (the first keyword wins)
    assert set(threats) == {ThreatType.MALWARE}
    tlps = {a.handling.tlp for a in assertions if a.handling is not None}
    assert tlps == {TLP.CLEAR}  # the event is tagged tlp:white
    # filename|sha256 keeps the hash, not the file name
    assert any(a.observable.type is O.SHA256 for a in assertions)


def test_galaxies_objects_and_references() -> None:
    records = parse(DATA / "misp/pymisp/mainly_objects_1.json")
    objects = [
        r for r in records if isinstance(r, EntityRecord) and r.kind.startswith("misp-object:")
    ]
    assert len(objects) == 17
    contains = [r for r in records if isinstance(r, RelationshipRecord) and r.type == "contains"]
    assert {c.source_ref for c in contains} <= {o.ref for o in objects}
    referenced = [
        r
        for r in records
        if isinstance(r, RelationshipRecord) and r.type not in ("contains", "refers-to")
    ]
    assert referenced  # ObjectReference edges keep their MISP relationship type
    galaxy = parse(DATA / "misp/pymisp/galaxy_1.json")
    clusters = [
        r
        for r in galaxy
        if isinstance(r, EntityRecord) and r.ref.startswith("misp-galaxy-cluster--")
    ]
    assert clusters and all(c.kind != "report" for c in clusters)


def test_sightings_proposals_and_non_events() -> None:
    sighted = [
        r for r in parse(DATA / "misp/pymisp/sighting_1.json") if isinstance(r, AssertionRecord)
    ]
    assert sighted and all(a.sightings == 1 for a in sighted)  # false positives do not count
    event = {"Event": {"uuid": "e", "info": "x", "Attribute": [
        {"type": "domain", "value": "seen.example.com", "to_ids": False,
         "Sighting": [{"type": "0"}, {"type": "0"}, {"type": "0"}, {"type": "1"}]}]}}  # fmt: skip
    [seen] = [
        r for r in misp.parse(orjson.dumps(event), ParseMeta()) if isinstance(r, AssertionRecord)
    ]
    assert seen.sightings == 3
    assert seen.threat_type is ThreatType.UNKNOWN  # not to_ids: not detection-grade
    proposals = parse(DATA / "misp/pymisp/proposals.json")
    assert any(isinstance(r, Consumed) and "proposal" in r.what for r in proposals)
    groups = parse(DATA / "misp/pymisp/sharing_groups.json")
    assert groups and all(
        isinstance(r, Rejected) and r.reason == "not a MISP event" for r in groups
    )


def test_tags_and_distribution_set_handling() -> None:
    event = {"Event": {"uuid": "u1", "info": "phishing wave", "distribution": "4",
        "SharingGroup": {"SharingGroupOrg": [{"Organisation": {"name": "Fiji CCU"}}]},
        "Tag": [{"name": "tlp:amber"}, {"name": "PAP:GREEN"}, {"name": "tlp:amber"}],
        "Attribute": [
            {"type": "url", "value": "hxxp://login[.]example.com/a", "to_ids": True, "uuid": "a1"},
            {"type": "ip-dst", "value": "203.0.113.9", "to_ids": True, "uuid": "a2",
             "Tag": [{"name": "tlp:red"}]},
            {"type": "domain", "value": "not a domain", "to_ids": True, "uuid": "a3"},
        ]}}  # fmt: skip
    records = list(misp.parse(orjson.dumps(event), ParseMeta()))
    by_value = {r.observable: r for r in records if isinstance(r, AssertionRecord)}
    url = by_value[Observable(O.URL, "http://login.example.com/a")]
    ip = by_value[Observable(O.IPV4, "203.0.113.9")]
    assert url.threat_type is ThreatType.PHISHING  # from the event title
    assert url.handling is not None and (url.handling.tlp, url.handling.pap) == (
        TLP.AMBER,
        PAP.GREEN,
    )
    assert url.handling.releasable_to.organisations == ("Fiji CCU",)
    assert ip.handling is not None and ip.handling.tlp is TLP.RED  # its own tag marks it
    assert ip.handling.pap is PAP.GREEN  # the rest comes from the event
    [bad] = [r for r in records if isinstance(r, Rejected)]
    assert bad.location == "$.Event.Attribute[2]" and "domain" in bad.reason


def test_misp_event_ingests_into_the_store(orgs: Store) -> None:
    raw = (DATA / "misp/pymisp/to_delete1.json").read_bytes()
    report = ingest(orgs, raw, source="PhishGuard", now=NOW)
    assert (report.status, report.format) == ("ingested", "misp")
    assert report.accepted == len(
        {
            (r.observable, r.threat_type)
            for r in parse(DATA / "misp/pymisp/to_delete1.json")
            if isinstance(r, AssertionRecord)
        }
    )
    assert report.entities == 1 and report.rejected == 0


def test_unknown_tlp_tags_never_loosen() -> None:
    event = {"Event": {"uuid": "e", "info": "x", "Tag": [{"name": "tlp:ex:chr"}],
             "Attribute": [{"type": "domain", "value": "a.example.com", "to_ids": True}]}}  # fmt: skip
    [a] = [
        r for r in misp.parse(orjson.dumps(event), ParseMeta()) if isinstance(r, AssertionRecord)
    ]
    assert a.handling is not None and a.handling.tlp is TLP.RED
