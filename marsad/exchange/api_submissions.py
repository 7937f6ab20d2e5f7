"""Submissions: upload a file in any supported format, get its parse report; list your own.

The upload is the file itself as the request body, or one ``file`` part of a multipart
form; handling defaults come in the query string, as on the command line. The source is
always the caller's organisation, and an organisation only ever sees its own submissions.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import Paging, json_response, page_of, paging
from marsad.exchange.auth import Caller, permit
from marsad.exchange.problems import Problem
from marsad.ingest.batch import submission_defaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import (
    HandlingError,
    Purpose,
)
from marsad.model.records import ThreatType
from marsad.products import alerting
from marsad.store import action_reads, match_reads, reads

router = APIRouter(tags=["submissions"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]
Submitter = Annotated[Caller, Depends(permit(Action.SUBMIT))]
FEEDBACK = 1000
"""Newest sightings and actions taken on a submission's records returned with it."""

_UPLOAD_DOC = {
    "requestBody": {
        "description": "The file: the raw bytes as the body, or a multipart form with a `file` part.",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
        "required": True,
    }
}


async def _body(request: Request) -> tuple[bytes, str | None]:
    """The submitted bytes and the file name a multipart form gave them."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise Problem(422, "the multipart form has no `file` part", kind="no-file")
            return await part.read(), part.filename
    return await request.body(), None


@router.post(
    "/submissions",
    status_code=201,
    summary="Upload a submission (any supported format) and get its parse report",
    openapi_extra=_UPLOAD_DOC,
)
async def submit(
    request: Request,
    who: Submitter,
    filename: Annotated[str | None, Query(max_length=500)] = None,
    fmt: Annotated[
        str, Query(alias="format", description="A format name, or auto to detect it.")
    ] = "auto",
    tlp: Annotated[str | None, Query(description="TLP floor (default amber).")] = None,
    pap: Annotated[str | None, Query(description="PAP floor (default amber).")] = None,
    releasable_to: Annotated[
        str | None, Query(description="Comma-separated org:NAME, region:SLUG, members, partners.")
    ] = None,
    reliability: Annotated[str, Query(pattern="^[A-Fa-f]$")] = "F",
    credibility: Annotated[int, Query(ge=1, le=6)] = 6,
    purpose: Annotated[
        Purpose, Query(description="Why the data may be processed (its handling).")
    ] = Purpose.THREAT_ANALYSIS,
    retain_until: dt.date | None = None,
    review_at: dt.date | None = None,
    threat_type: Annotated[
        ThreatType | None, Query(description="For records that carry none (lists).")
    ] = None,
    strict: Annotated[bool, Query(description="Store nothing if any record is bad.")] = False,
) -> Response:
    try:
        defaults = submission_defaults(
            tlp=tlp, pap=pap, releasable_to=releasable_to, reliability=reliability,
            credibility=credibility, purpose=purpose, retain_until=retain_until,
            review_at=review_at,
        )  # fmt: skip
    except HandlingError as exc:
        raise Problem(422, str(exc), kind="invalid-handling") from None
    raw, part_name = await _body(request)
    if not raw:
        raise Problem(422, "the submission is empty: send the file as the body", kind="empty")
    name = filename or part_name
    source = who.viewer.org_name
    assert source is not None  # a token always acts for an organisation
    report = await run_in_threadpool(
        ingest, who.store, raw, source=source, fmt=fmt, defaults=defaults, filename=name,
        strict=strict, threat_type=threat_type,
    )  # fmt: skip
    if report.status == "ingested":  # alerts for the organisations watching; never fatal
        await run_in_threadpool(alerting.evaluate_quietly, who.store, report.submission_id)
    await run_in_threadpool(
        who.audit, "submit", name or "-", submission=report.submission_id, status=report.status,
        sha256=report.sha256, accepted=report.accepted, rejected=report.rejected,
    )  # fmt: skip
    location = {"Location": f"/api/v1/submissions/{report.submission_id}"}
    return json_response(report, 200 if report.status == "duplicate" else 201, location)


@router.get("/submissions", summary="Your organisation's submissions, newest first")
def list_submissions(
    request: Request, who: Reader, page: Annotated[Paging, Depends(paging)]
) -> Response:
    rows = reads.submission_page(
        who.store, who.grant, after=page.after("submissions"), limit=page.limit
    )
    items, nxt = page_of("submissions", rows, page.limit)
    who.audit("list-submissions", request.url.path, submissions=[s.id for s in items])
    return json_response({"items": items, "next": nxt})


def _own(who: Caller, submission_id: int, action: str) -> None:
    if reads.submission_of(who.store, who.grant, submission_id) is None:
        who.deny(action, str(submission_id), 404,
                 f"no submission {submission_id} from {who.viewer.org_name}")  # fmt: skip


@router.get(
    "/submissions/{submission_id}",
    summary="One submission with its rejected records and the feedback on its records",
)
def get_submission(
    who: Reader,
    submission_id: Annotated[int, Path(ge=1)],
    rejections: Annotated[int, Query(ge=0, le=100_000)] = 1000,
) -> Response:
    _own(who, submission_id, "read-submission")
    row = who.store.submission(submission_id)
    rejected = who.store.rejections(submission_id, limit=rejections)
    seen = match_reads.sightings_of(who.store, who.grant, FEEDBACK, submission_id=submission_id)
    acted = action_reads.listing(
        who.store, who.grant, scope="on-own", submission_id=submission_id, limit=FEEDBACK
    )
    who.audit("read-submission", str(submission_id), actions=[x.id for x in acted],
              sightings=[s.assertion_id for s in seen])  # fmt: skip
    feedback = {"sightings": seen, "actions": acted}
    return json_response({"submission": row, "rejections": rejected, "feedback": feedback})


@router.get("/submissions/{submission_id}/raw", summary="The exact bytes a submission arrived as")
def get_submission_raw(who: Reader, submission_id: Annotated[int, Path(ge=1)]) -> Response:
    _own(who, submission_id, "read-submission")
    data = who.store.raw(submission_id)
    who.audit("read-submission", str(submission_id), raw=True)
    return Response(data, media_type="application/octet-stream")
