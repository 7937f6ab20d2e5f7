"""Submission → validated, marked, stored records.

The raw bytes are committed first (nothing a source sends is lost); then the records
are parsed, merged and written in one transaction together with the submission's final
status, so a submission is fully in or fully out. The same bytes from the same source
again are a duplicate and change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import msgspec

from marsad.access.agreements import apply_agreement
from marsad.access.stewardship import agreement_of
from marsad.formats.gcpause import gc_paused
from marsad.formats.registry import Format, detect_format, get_format
from marsad.ingest import parse_process
from marsad.ingest.batch import BatchBuilder, SubmissionDefaults
from marsad.ingest.parse_process import ParseJob, ParseProcess
from marsad.model.errors import FormatError
from marsad.model.records import ParseMeta, ThreatType
from marsad.store import writer
from marsad.store.engine import checkpoint_later
from marsad.store.store import RejectionRow, Store
from marsad.store.writer import write_batch, write_chunks, write_stream

Progress = Callable[[str, int], None]
"""Called with a phase name and a running count while a submission is processed."""

REPORTED_REJECTIONS = 50
ANALYSE_SETTING = "MARSAD_ANALYSE_AFTER_INGEST"
"""Set to 0 (false, no, off) to leave the clusters alone after each ingest."""


class ParseReport(msgspec.Struct, kw_only=True):
    """What happened to one submission: the answer a submitter gets back."""

    submission_id: int
    source: str
    filename: str | None
    sha256: str
    size: int
    format: str | None
    status: str  # ingested | duplicate | rejected
    records: int = 0
    accepted: int = 0
    merged: int = 0
    rejected: int = 0
    consumed: int = 0
    entities: int = 0
    relationships: int = 0
    duplicate_of: int | None = None
    error: str | None = None
    seconds: float = 0.0
    rejections: list[RejectionRow] = msgspec.field(default_factory=list)
    analysis: str | None = None  # what the incremental analysis after ingest did
    analysis_error: str | None = None  # why it failed (the submission is in all the same)


def ingest(
    store: Store,
    raw: bytes,
    *,
    source: str,
    fmt: str = "auto",
    defaults: SubmissionDefaults | None = None,
    filename: str | None = None,
    strict: bool = False,
    threat_type: ThreatType | None = None,
    column_map: dict[str, str] | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    analyse: bool | None = None,
    parse_in_child: bool | None = None,
) -> ParseReport:
    """Ingest one submission atomically and idempotently; return its parse report.

    Once it is in, the clusters are brought up to date incrementally unless ``analyse``
    is False (None: the `ANALYSE_SETTING` environment variable, on by default); a failing
    analysis is logged and reported in the report, never undoes the ingest.
    ``parse_in_child`` forces the parser process on or off (None: `parse_process.wanted`).
    """
    started = time.perf_counter()
    org = store.org(source)
    agreement = agreement_of(store, org.id)
    defaults = defaults or SubmissionDefaults()
    if agreement is not None:  # the source's agreement is a floor no submission loosens
        defaults = apply_agreement(agreement, defaults)
    digest = hashlib.sha256(raw).hexdigest()
    received_at = now or dt.datetime.now(dt.UTC)
    report = ParseReport(
        submission_id=0,
        source=org.name,
        filename=filename,
        sha256=digest,
        size=len(raw),
        format=None,
        status="pending",
    )
    previous = store.find_submission(org.id, digest)
    if previous is not None and previous.status == "ingested":
        report.submission_id = report.duplicate_of = previous.id
        report.status = "duplicate"
        report.format = previous.format
        report.seconds = time.perf_counter() - started
        return report
    if fmt == "auto" and column_map:  # a column mapping chooses the mapped format
        fmt = "mapped"
    meta = ParseMeta(
        filename=filename,
        default_threat_type=threat_type,
        received_at=received_at,
        column_map=column_map,
    )
    d = store.dialect
    # The cyclic GC stays paused from the decode to the commit, and what the parse and the
    # merge built (millions of objects, none cyclic) is freed before it runs again: a
    # collection in between would scan all of it for nothing (~1 s at 2M objects).
    pause = ExitStack()
    try:
        # A large submission parses in a child process while this one writes it (forked
        # first: before this process starts the thread below); reaped on the way out.
        child = (
            pause.enter_context(
                ParseProcess(
                    ParseJob(
                        raw,
                        fmt=fmt,
                        meta=meta,
                        defaults=defaults,
                        received_at=received_at,
                        dialect=d.name,
                        chunk=writer.STREAM_CHUNK,
                    )
                )
            )
            if not strict and parse_process.wanted(len(raw), parse_in_child)
            else None
        )
        # A pending or rejected earlier attempt with these bytes is resumed in place. The
        # raw bytes are committed on another thread while the format decodes them, and
        # their copy into the database file overlaps the parse; nothing is written before
        # that commit.
        kept = _receive_beside(
            store,
            source_org_id=org.id,
            raw=raw,
            sha256=digest,
            filename=filename,
            defaults=defaults.handling,
            received_at=received_at,
            existing=previous.id if previous is not None else None,
        )
        try:
            pause.enter_context(gc_paused())
            if child is not None:
                report.format = child.format()
            else:
                chosen: Format = detect_format(raw) if fmt == "auto" else get_format(fmt)
                report.format = chosen.name
                # a whole-document format decodes it here; blocks of rows where it offers them
                records = (chosen.parse_blocks or chosen.parse)(raw, meta)
        finally:
            report.submission_id = sub_id = kept.result()
        builder = BatchBuilder(
            defaults,
            received_at,
            time=d.time,
            date=d.date,
            progress=(lambda n: progress("parse", n)) if progress else None,
        )
        if strict:  # nothing is written before every record is known to be good
            builder.add(records)
            batch = builder.finish()
        # otherwise rows are written while records are parsed: one transaction all the same,
        # building millions of rows (none cyclic); once it is committed, copying it from the
        # WAL into the database file goes on beside the caller, as for the raw bytes
        with checkpoint_later(store.engine), store.engine.begin() as conn, gc_paused():
            if child is not None:
                batch, counts = write_chunks(
                    conn, d, _progress_of(child, progress), child.finish,
                    submission_id=sub_id, source_org_id=org.id, presorted=True,
                )  # fmt: skip
            elif not strict:
                batch, counts = write_stream(
                    conn, d, records, builder, submission_id=sub_id, source_org_id=org.id
                )
            elif batch.rejections:
                batch.assertions, batch.entities, batch.relationships = [], [], []
                batch.late = []
                write_batch(conn, d, batch, submission_id=sub_id, source_org_id=org.id)
            else:
                counts = write_batch(conn, d, batch, submission_id=sub_id, source_org_id=org.id)
            report.records = batch.records
            report.rejected = len(batch.rejections)
            report.consumed = batch.consumed
            if progress:
                progress("store", batch.records)
            if strict and batch.rejections:
                report.status = "rejected"
                report.error = (
                    f"{report.rejected} record(s) rejected and --strict is set: nothing was stored"
                )
                store.finish(
                    conn,
                    sub_id,
                    status="rejected",
                    format=report.format,
                    error=report.error,
                    records=batch.records,
                    rejected=report.rejected,
                )
            else:
                report.status = "ingested"
                report.accepted, report.merged = counts.accepted, counts.merged
                report.entities, report.relationships = counts.entities, counts.relationships
                store.finish(
                    conn,
                    sub_id,
                    status="ingested",
                    format=report.format,
                    records=batch.records,
                    accepted=counts.accepted,
                    merged=counts.merged,
                    rejected=report.rejected,
                    entities=counts.entities,
                    relationships=counts.relationships,
                )
        batch.assertions, batch.late, batch.entities, batch.relationships = [], [], [], []
        del builder
    except FormatError as exc:  # also half way through a stream: its transaction rolled back
        report.status, report.error = "rejected", str(exc)
        with store.engine.begin() as conn:
            store.finish(conn, sub_id, status="rejected", format=report.format, error=report.error)
        report.seconds = time.perf_counter() - started
        return report
    finally:
        pause.close()
    report.rejections = [
        RejectionRow(location=loc, reason=reason, raw=raw_text)
        for loc, reason, raw_text in batch.rejections[:REPORTED_REJECTIONS]
    ]
    report.seconds = time.perf_counter() - started
    if report.status == "ingested" and analyse_after_ingest(analyse):
        from marsad.analysis.incremental import after_ingest  # analysis comes after ingest

        run, report.analysis_error = after_ingest(store)
        report.analysis = run.summary() if run is not None else None
    return report


def _progress_of(child: ParseProcess, progress: Progress | None) -> Iterator[Any]:
    """The child's chunks, reporting how many records it has parsed as each arrives."""
    for item in child.chunks():
        if progress is not None:
            progress("parse", child.records)
        yield item


def analyse_after_ingest(choice: bool | None = None) -> bool:
    """Whether an ingest updates the clusters: the caller's choice, else the setting."""
    if choice is not None:
        return choice
    return os.environ.get(ANALYSE_SETTING, "1").strip().lower() not in ("0", "false", "no", "off")


def _receive_beside(store: Store, **submission: Any) -> Future[int]:
    """`Store.receive` on a thread of its own, committing the raw bytes while the caller
    goes on; the submission's id. Inline for an in-memory SQLite database, whose
    connections each see a database of their own."""

    def keep() -> int:
        with checkpoint_later(store.engine):
            return store.receive(**submission)

    if store.dialect.sqlite and store.engine.url.database in (None, "", ":memory:"):
        done: Future[int] = Future()
        done.set_result(keep())
        return done
    pool = ThreadPoolExecutor(1, thread_name_prefix="marsad-receive")
    try:
        return pool.submit(keep)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task
