"""Streamed ingest: chunks merged while the rest is parsed end in the store one batch makes.

The same submission goes in twice on the same store, from two sources: streamed in tiny
chunks (so that keys merge again after their row was written) and whole (``--strict``
writes one batch); what each source ends up with must be the same, row for row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text

from marsad.formats import stix21
from marsad.formats import stix_vocab as V
from marsad.ingest import batch as batch_module
from marsad.ingest.batch import BatchBuilder, SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.errors import FormatError
from marsad.model.handling import TLP, Handling
from marsad.model.records import ParseMeta, Record
from marsad.store import writer
from marsad.store.schema import assertions, observables
from marsad.store.store import Store
from tests.conftest import NOW

VALUES = [
    "203.0.113.7",
    "198.51.100.1",
    "Example.COM",
    "example.com",  # the same domain as above once normalised
    "evil-bank.example.net",
    "hxxps://Login-Secure[.]Example.COM:443/a",
    "https://login-secure.example.com/a",  # the same URL once refanged and normalised
    "d41d8cd98f00b204e9800998ecf8427e",
]
PATTERNS = {
    "203": "ipv4-addr:value",
    "198": "ipv4-addr:value",
    "d41": "file:hashes.MD5",
    "htt": "url:value",
    "hxx": "url:value",
}
MARKS = [[], [V.TLP2_MARKING_IDS[TLP.GREEN]], [V.TLP2_MARKING_IDS[TLP.RED]]]


def _bundle(seed: int) -> bytes:
    """Indicators over a few values (so they merge), with varying grading and handling."""
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = [V.tlp2_marking(TLP.GREEN), V.tlp2_marking(TLP.RED)]
    for i in range(40):
        value = rng.choice(VALUES)
        path = PATTERNS.get(value[:3], "domain-name:value")
        indicator: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-{seed:04d}{i:08d}",
            "pattern": f"[{path} = '{value}']",
            "pattern_type": "stix",
            "valid_from": f"2024-0{rng.randint(1, 9)}-01T00:00:00Z",
            "labels": [rng.choice(["phishing", "c2", "phishing"])],
            "object_marking_refs": rng.choice(MARKS),
        }
        if rng.random() < 0.7:
            indicator["confidence"] = rng.randint(0, 100)
        if rng.random() < 0.3:
            indicator["extensions"] = {
                V.MARSAD_EXTENSION_ID: {"sightings": rng.randint(1, 5), "pap": "green"}
            }
        objects.append(indicator)
    objects.append({"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.44"})
    objects.append({"type": "domain-name", "id": "domain-name--2", "value": "example.com"})
    return orjson.dumps({"type": "bundle", "id": f"bundle--{seed}", "objects": objects})


def _state(store: Store, source: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a source has in the store, without ids (streaming numbers rows its way)."""
    org = store.org(source).id
    with store.engine.connect() as conn:
        subs = dict(
            conn.execute(
                text("SELECT id, row_number() OVER (ORDER BY id) FROM submissions"
                     " WHERE source_org_id = :o"), {"o": org}
            ).all()
        )  # fmt: skip
        kept = conn.execute(
            text(
                "SELECT o.type, o.value, o.registered_domain, a.threat_type, a.first_seen,"
                " a.last_seen, a.sightings, a.confidence, a.tlp, a.pap, a.releasable_to,"
                " a.reliability, a.credibility, a.purpose, a.location, a.stix_id, a.name,"
                " a.first_submission_id, a.last_submission_id"
                " FROM assertions a JOIN observables o ON o.id = a.observable_id"
                " WHERE a.source_org_id = :o"
            ),
            {"o": org},
        ).all()
        provenance = conn.execute(
            text(
                "SELECT o.type, o.value, a.threat_type, s.submission_id, s.location, s.sightings"
                " FROM assertion_sources s JOIN assertions a ON a.id = s.assertion_id"
                " JOIN observables o ON o.id = a.observable_id WHERE a.source_org_id = :o"
            ),
            {"o": org},
        ).all()
        counts = conn.execute(
            text(
                "SELECT records, accepted, merged, rejected, entities, relationships, status"
                " FROM submissions WHERE source_org_id = :o ORDER BY id"
            ),
            {"o": org},
        ).all()
    rows = [(*r[:-2], subs[r[-2]], subs[r[-1]]) for r in kept]
    sources = [(*r[:3], subs[r[3]], *r[4:]) for r in provenance]
    return {
        "assertions": sorted(rows, key=repr),
        "sources": sorted(sources, key=repr),
        "submissions": [tuple(c) for c in counts],
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streamed_chunks_end_as_one_batch(
    orgs: Store, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    earlier, this = _bundle(seed), _bundle(seed + 100)
    for source in ("PhishGuard", "Fiji CCU"):  # both already hold some of the values
        assert ingest(orgs, earlier, source=source, strict=True, now=NOW).status == "ingested"
    late: list[int] = []
    real_finish = writer.StreamWriter.finish

    def finish(self: writer.StreamWriter, batch: batch_module.Batch) -> writer.WriteCounts:
        late.append(len(batch.late))
        return real_finish(self, batch)

    monkeypatch.setattr(writer.StreamWriter, "finish", finish)
    monkeypatch.setattr(writer, "STREAM_CHUNK", 3)
    later = NOW + dt.timedelta(days=1)
    streamed = ingest(orgs, this, source="PhishGuard", now=later)
    whole = ingest(orgs, this, source="Fiji CCU", strict=True, now=later)
    assert late[0] > 0  # keys did merge again after their rows were written
    assert late[1] == 0
    assert streamed.status == whole.status == "ingested"
    assert (streamed.accepted, streamed.merged, streamed.consumed) == (
        whole.accepted,
        whole.merged,
        whole.consumed,
    )
    assert _state(orgs, "PhishGuard") == _state(orgs, "Fiji CCU")


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_failing_chunk_rolls_the_whole_submission_back(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _bundle(7)
    calls: list[int] = []
    real_merge = writer.StreamWriter._merge

    def merge(self: writer.StreamWriter, n: int, presorted: bool = False) -> None:
        calls.append(n)
        if len(calls) == 3:  # on the worker thread, with earlier chunks already merged
            raise RuntimeError("disk full")
        real_merge(self, n, presorted)

    monkeypatch.setattr(writer, "STREAM_CHUNK", 3)
    monkeypatch.setattr(writer.StreamWriter, "_merge", merge)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(orgs, raw, source="PhishGuard", now=NOW)
    assert _count(orgs, assertions) == 0
    assert _count(orgs, observables) == 0
    [sub] = orgs.list_submissions()
    assert sub.status == "pending"  # the raw bytes kept, no records
    monkeypatch.setattr(writer.StreamWriter, "_merge", real_merge)
    report = ingest(orgs, raw, source="PhishGuard", now=NOW)
    assert report.status == "ingested"
    assert report.accepted > 0


def test_a_format_error_half_way_leaves_nothing(orgs: Store) -> None:
    raw = _bundle(8)
    org = orgs.org("PhishGuard")
    sub = orgs.receive(
        source_org_id=org.id,
        raw=raw,
        sha256="f" * 64,
        filename=None,
        defaults=Handling(),
        received_at=NOW,
        existing=None,
    )

    def records() -> Iterator[Record]:
        yield from itertools.islice(stix21.parse(raw, ParseMeta()), 20)
        raise FormatError("the file ends half way through an object")

    d = orgs.dialect
    builder = BatchBuilder(SubmissionDefaults(), NOW, time=d.time, date=d.date)
    with pytest.raises(FormatError), orgs.engine.begin() as conn:
        writer.write_stream(
            conn, d, records(), builder, submission_id=sub, source_org_id=org.id, chunk=4
        )
    assert builder.taken > 0  # rows had been written before the error
    assert _count(orgs, assertions) == 0
    assert _count(orgs, observables) == 0
