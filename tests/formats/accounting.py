"""Shared check: a submission's records are all in the store, or rejected with a reason."""

from __future__ import annotations

from sqlalchemy import func, select

from marsad.ingest.pipeline import ParseReport
from marsad.model.records import (
    AssertionRecord,
    Consumed,
    EntityRecord,
    Record,
    Rejected,
    RelationshipRecord,
)
from marsad.store.schema import rejections
from marsad.store.store import Store


def assert_accounted(store: Store, report: ParseReport, records: list[Record]) -> None:
    """The report and the store hold exactly what the parser produced, merged by identity."""
    assert report.status == "ingested", report.error
    assert report.records == len(records)
    keys = {(r.observable, r.threat_type) for r in records if isinstance(r, AssertionRecord)}
    assert report.accepted + report.merged == len(keys)
    assert report.entities == len({r.ref for r in records if isinstance(r, EntityRecord)})
    assert report.relationships == len(
        {(r.source_ref, r.type, r.target_ref) for r in records if isinstance(r, RelationshipRecord)}
    )
    assert report.rejected == sum(isinstance(r, Rejected) for r in records)
    assert report.consumed == sum(isinstance(r, Consumed) for r in records)
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).where(rejections.c.submission_id == report.submission_id)
        ).scalar_one()
    assert stored == report.rejected
    assert all(r.reason and r.raw for r in store.rejections(report.submission_id))


def data_lines(text: str, *, header: bool) -> set[str]:
    """``line N`` for every non-blank, non-comment line of a CSV (after its header row)."""
    numbers = [n for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and ln[0] != "#"]
    return {f"line {n}" for n in numbers[1 if header else 0 :]}


def located(records: list[Record]) -> set[str]:
    """The row each record came from (``line 3, column url`` -> ``line 3``)."""
    return {r.location.split(",")[0] for r in records if isinstance(r, AssertionRecord | Rejected)}
