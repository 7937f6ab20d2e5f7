"""STIX 2.0 input: the MITRE ATT&CK for ICS bundle ingests with every object accounted for."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from marsad.ingest.pipeline import ingest
from marsad.store.schema import entities, relationships
from marsad.store.store import Store
from tests.conftest import DATA, NOW


def test_attack_ics_bundle(orgs: Store) -> None:
    raw = (DATA / "attack" / "ics-attack.json").read_bytes()
    doc = orjson.loads(raw)
    assert doc["spec_version"] == "2.0"
    report = ingest(orgs, raw, source="ASP Desk", now=NOW)
    assert (report.status, report.format, report.rejected) == ("ingested", "stix21", 0)
    # every SDO is an entity (custom x-mitre-* types keep their own kind), every SRO an edge
    assert report.entities + report.relationships + report.consumed == len(doc["objects"])
    with orgs.engine.connect() as conn:
        kinds = dict(
            conn.execute(select(entities.c.kind, func.count()).group_by(entities.c.kind)).all()
        )
        edges = conn.execute(select(func.count()).select_from(relationships)).scalar_one()
    assert kinds["attack-pattern"] == sum(o["type"] == "attack-pattern" for o in doc["objects"])
    assert kinds["x-mitre-tactic"] > 0 and kinds["intrusion-set"] > 0
    assert edges == report.relationships > 1000
