"""Ingest on both real stores: atomic, idempotent, nothing lost, handling never loosened."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from marsad.access.policy import EVERYTHING
from marsad.ingest import pipeline
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import PAP, TLP, Handling, Releasability
from marsad.model.normalize import expand
from marsad.model.observable import Observable, ObservableType
from marsad.model.records import ThreatType
from marsad.store.schema import assertion_sources, assertions, observables, submissions
from marsad.store.store import Store
from tests.conftest import NOW

LIST = b"""# phishing seen by PhishGuard
hxxps://Login-Secure[.]Example.COM:443/a
203.0.113.7
evil-bank.example.net
203.0.113.7
999.1.2.3
"""


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_list_is_ingested_with_every_line_accounted_for(orgs: Store) -> None:
    report = ingest(
        orgs,
        LIST,
        source="PhishGuard",
        threat_type=ThreatType.PHISHING,
        filename="feed.txt",
        now=NOW,
    )
    assert report.status == "ingested"
    assert report.format == "list"
    assert report.records == 5  # comment line skipped, five value lines
    assert report.accepted == 3  # the repeated IP merges inside the submission
    assert report.rejected == 1
    assert report.rejections[0].location == "line 6"
    assert "999.1.2.3" in report.rejections[0].raw
    hits = orgs.assertions_about(expand("203.0.113.7"), EVERYTHING)
    assert len(hits) == 1
    assert hits[0].view.sightings == 2
    assert hits[0].view.threat_type is ThreatType.PHISHING
    assert hits[0].view.handling.tlp is TLP.AMBER  # the safe default
    # the raw bytes are kept verbatim and addressed by their hash
    assert orgs.raw(report.submission_id) == LIST
    assert orgs.submission(report.submission_id).sha256 == hashlib.sha256(LIST).hexdigest()
    assert [r.reason for r in orgs.rejections(report.submission_id)] == [
        report.rejections[0].reason
    ]


def test_search_finds_url_domain_and_registered_domain(orgs: Store) -> None:
    ingest(orgs, b"https://login-secure.example.com/a\nexample.com\n", source="PhishGuard", now=NOW)
    wanted = expand("hxxps://Login-Secure[.]Example.COM:443/a")
    assert Observable(ObservableType.URL, "https://login-secure.example.com/a") in wanted
    assert Observable(ObservableType.DOMAIN, "example.com") in wanted
    found = {
        (a.view.observable.type, a.view.observable.value)
        for a in orgs.assertions_about(wanted, EVERYTHING)
    }
    assert found == {
        (ObservableType.URL, "https://login-secure.example.com/a"),
        (ObservableType.DOMAIN, "example.com"),
    }


def test_same_bytes_twice_is_a_duplicate_and_changes_nothing(orgs: Store) -> None:
    first = ingest(orgs, LIST, source="PhishGuard", now=NOW)
    before = (count(orgs, assertions), count(orgs, observables), count(orgs, submissions))
    again = ingest(orgs, LIST, source="PhishGuard", now=NOW + dt.timedelta(days=1))
    assert again.status == "duplicate"
    assert again.duplicate_of == first.submission_id
    assert (count(orgs, assertions), count(orgs, observables), count(orgs, submissions)) == before
    assert orgs.assertions_about(expand("203.0.113.7"), EVERYTHING)[0].view.sightings == 2


def test_same_assertion_in_two_submissions_merges(orgs: Store) -> None:
    a = b"value,threat_type,first_seen,last_seen\n203.0.113.9,c2,2026-09-01,2026-09-03\n"
    b = b"value,threat_type,first_seen,last_seen\n203.0.113.9,c2,2026-08-20,2026-10-05\n"
    r1 = ingest(orgs, a, source="PhishGuard", now=NOW)
    r2 = ingest(orgs, b, source="PhishGuard", now=NOW)
    assert (r1.accepted, r1.merged) == (1, 0)
    assert (r2.accepted, r2.merged) == (0, 1)
    [hit] = orgs.assertions_about(expand("203.0.113.9"), EVERYTHING)
    assert hit.view.sightings == 2
    assert hit.view.first_seen == dt.datetime(2026, 8, 20, tzinfo=dt.UTC)
    assert hit.view.last_seen == dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    assert (hit.first_submission_id, hit.last_submission_id) == (r1.submission_id, r2.submission_id)
    assert count(orgs, assertions) == 1
    assert count(orgs, assertion_sources) == 2  # provenance: both submissions said it
    # another source saying the same thing is a separate assertion about the same observable
    ingest(orgs, a, source="Fiji CCU", now=NOW)
    assert count(orgs, assertions) == 2
    assert count(orgs, observables) == 1


def test_strict_rejects_everything_but_keeps_raw_and_reasons(orgs: Store) -> None:
    report = ingest(orgs, LIST, source="PhishGuard", strict=True, now=NOW)
    assert report.status == "rejected"
    assert "strict" in (report.error or "")
    assert count(orgs, assertions) == 0
    assert orgs.raw(report.submission_id) == LIST
    assert len(orgs.rejections(report.submission_id)) == 1
    # the same bytes without --strict are taken in place of the rejected attempt
    again = ingest(orgs, LIST, source="PhishGuard", now=NOW)
    assert again.status == "ingested"
    assert again.submission_id == report.submission_id
    assert count(orgs, submissions) == 1


def test_unreadable_content_is_rejected_and_kept(orgs: Store) -> None:
    blob = bytes(range(256)) * 4
    report = ingest(orgs, blob, source="PhishGuard", now=NOW)
    assert report.status == "rejected"
    assert "not in any supported format" in (report.error or "")
    assert orgs.raw(report.submission_id) == blob
    assert orgs.submission(report.submission_id).status == "rejected"


def test_explicit_tlp_is_a_floor_and_merges_never_loosen(orgs: Store) -> None:
    red = SubmissionDefaults(
        handling=Handling(
            tlp=TLP.RED, pap=PAP.RED, releasable_to=Releasability(organisations=("ASP Desk",))
        ),
        tlp_floor=TLP.RED,
        pap_floor=PAP.RED,
    )
    ingest(orgs, b"198.51.100.1\n", source="Fiji CCU", defaults=red, now=NOW)
    green = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN, pap=PAP.GREEN), tlp_floor=TLP.GREEN)
    ingest(orgs, b"198.51.100.1\n198.51.100.2\n", source="Fiji CCU", defaults=green, now=NOW)
    hits = {
        a.view.observable.value: a.view.handling
        for a in orgs.assertions_about(expand("198.51.100.1") + expand("198.51.100.2"), EVERYTHING)
    }
    assert hits["198.51.100.1"].tlp is TLP.RED
    assert hits["198.51.100.1"].pap is PAP.RED
    assert hits["198.51.100.2"].tlp is TLP.GREEN


def test_failure_inside_the_transaction_leaves_nothing(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.write_stream

    def explode(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "write_stream", explode)
    with pytest.raises(RuntimeError):
        ingest(orgs, LIST, source="PhishGuard", now=NOW)
    assert count(orgs, assertions) == 0
    assert count(orgs, observables) == 0
    [sub] = orgs.list_submissions()
    assert sub.status == "pending"  # raw kept, records not in
    monkeypatch.setattr(pipeline, "write_stream", real)
    assert ingest(orgs, LIST, source="PhishGuard", now=NOW).status == "ingested"
    assert count(orgs, submissions) == 1


def test_unknown_source_is_a_clear_error(orgs: Store) -> None:
    from marsad.store.engine import StoreError

    with pytest.raises(StoreError, match="no organisation named 'Nobody'"):
        ingest(orgs, LIST, source="Nobody")


NUL_BUNDLE = b"""{"type": "bundle", "id": "bundle--11111111-1111-4111-8111-111111111111", "objects": [
{"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-1111-4111-8111-111111111112",
 "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "kit\\u0000panel",
 "description": "seen\\u0000twice", "pattern": "[domain-name:value = 'nul-kit.example.com']",
 "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
{"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-1111-4111-8111-111111111113",
 "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
 "pattern": "[url:value = 'http://nul-kit.example.com/a\\u0000b']", "pattern_type": "stix",
 "valid_from": "2026-01-01T00:00:00Z"}]}"""


def test_nul_characters_never_fail_a_submission(orgs: Store) -> None:
    """PostgreSQL text cannot hold NUL: a value with one is rejected, free text keeps the rest."""
    report = ingest(orgs, NUL_BUNDLE, source="PhishGuard", filename="nul.json", now=NOW)
    assert report.status == "ingested" and (report.accepted, report.rejected) == (1, 1)
    assert "indicator--11111111-1111-4111-8111-111111111113" in report.rejections[0].location
    assert "control character U+0000" in report.rejections[0].reason
    [hit] = orgs.assertions_about(expand("nul-kit.example.com"), EVERYTHING)
    name = hit.view.name or ""
    assert name.startswith("kit") and name.endswith("panel") and len(name) == 9
    assert orgs.raw(report.submission_id) == NUL_BUNDLE
