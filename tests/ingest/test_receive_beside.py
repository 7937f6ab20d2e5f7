"""The raw bytes are committed on a thread of their own while the format decodes them.

Whatever happens on either side, the outcome is the one of doing them one after the
other: a failure to keep the raw bytes fails the submission before anything is written,
and a document that fails to decode is still kept, with the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from marsad.formats.registry import Format
from marsad.ingest import pipeline
from marsad.ingest.pipeline import ingest
from marsad.model.errors import FormatError
from marsad.model.records import ParseMeta, Record
from marsad.store.schema import assertions, submissions
from marsad.store.store import Store
from tests.conftest import NOW

BUNDLE = (
    b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator",'
    b' "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000001",'
    b' "pattern": "[ipv4-addr:value = \'203.0.113.9\']", "pattern_type": "stix",'
    b' "valid_from": "2026-01-01T00:00:00Z"}]}'
)


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_failure_to_keep_the_raw_bytes_fails_the_submission(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Store, **kwargs: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(Store, "receive", refuse)
    with pytest.raises(OSError, match="disk full"):
        ingest(orgs, BUNDLE, source="PhishGuard", now=NOW)
    assert _count(orgs, submissions) == 0
    assert _count(orgs, assertions) == 0


def test_the_raw_bytes_are_kept_beside_a_decode_that_fails(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, int] = {}
    real_receive = Store.receive

    def receive(self: Store, **kwargs: Any) -> int:
        threads["receive"] = threading.get_ident()
        return real_receive(self, **kwargs)

    def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
        threads["parse"] = threading.get_ident()
        raise FormatError("the bundle ends half way through an object")

    monkeypatch.setattr(Store, "receive", receive)
    failing = Format("stix21", "STIX that fails to decode", lambda raw: True, parse)
    monkeypatch.setattr(pipeline, "get_format", lambda name: failing)
    report = ingest(orgs, BUNDLE, source="PhishGuard", fmt="stix21", now=NOW)
    assert report.status == "rejected"
    assert report.error == "the bundle ends half way through an object"
    assert orgs.raw(report.submission_id) == BUNDLE
    assert orgs.submission(report.submission_id).status == "rejected"
    assert threads["receive"] != threads["parse"] == threading.get_ident()
