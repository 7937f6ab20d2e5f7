"""Every STIX 2.1 fixture ingests into a real store with every object accounted for."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from marsad.formats import stix21
from marsad.ingest.pipeline import ingest
from marsad.model.records import (
    AssertionRecord,
    Consumed,
    EntityRecord,
    ParseMeta,
    Rejected,
    RelationshipRecord,
)
from marsad.store.schema import entities, rejections, relationships
from marsad.store.store import Store
from tests.conftest import DATA, NOW

FIXTURES = sorted(p for p in (DATA / "stix21").rglob("*.json"))


def _objects(path: Path) -> int:
    doc = orjson.loads(path.read_bytes())
    if isinstance(doc, list):
        return len(doc)
    return len(doc["objects"]) if doc.get("type") == "bundle" else 1


def test_all_fixture_files_are_present() -> None:
    assert len(FIXTURES) == 18 + 31  # the bundles and the FileSystemStore tree


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(DATA)))
def test_fixture_ingests_with_every_object_accounted_for(orgs: Store, path: Path) -> None:
    report = ingest(orgs, path.read_bytes(), source="PhishGuard", filename=path.name, now=NOW)
    assert report.status == "ingested", report.error
    assert report.format == "stix21"
    assert report.records >= _objects(path)  # an object may yield several records
    with orgs.engine.connect() as conn:
        n_rejected = conn.execute(
            select(func.count()).where(rejections.c.submission_id == report.submission_id)
        ).scalar_one()
        n_entities = conn.execute(select(func.count()).select_from(entities)).scalar_one()
        n_rels = conn.execute(select(func.count()).select_from(relationships)).scalar_one()
    assert n_rejected == report.rejected
    assert n_entities == report.entities
    assert n_rels == report.relationships
    # what was not stored is quarantined with its reason and raw text
    assert all(r.reason and r.raw for r in orgs.rejections(report.submission_id))
    # the store holds exactly what the parser said, merged by identity (the format tests
    # check that every input object yields at least one record, by JSON path)
    records = list(stix21.parse(path.read_bytes(), ParseMeta()))
    keys = {(r.observable, r.threat_type) for r in records if isinstance(r, AssertionRecord)}
    assert report.accepted + report.merged == len(keys)
    assert report.entities == len({r.ref for r in records if isinstance(r, EntityRecord)})
    assert report.relationships == len(
        {(r.source_ref, r.type, r.target_ref) for r in records if isinstance(r, RelationshipRecord)}
    )
    assert report.rejected == sum(isinstance(r, Rejected) for r in records)
    assert report.consumed == sum(isinstance(r, Consumed) for r in records)
    assert report.records == len(records)
    # and ingesting the same bytes again changes nothing
    assert ingest(orgs, path.read_bytes(), source="PhishGuard", now=NOW).status == "duplicate"
