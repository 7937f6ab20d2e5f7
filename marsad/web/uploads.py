"""Submissions: an organisation's own list, the upload form, and each parse report.

The upload is an ordinary multipart form (htmx adds a progress bar); the file is ingested
exactly as the API and the CLI ingest it, then the browser goes to the submission's page:
its counts, its status and every rejected record with where it was and why. Only the
submitting organisation ever sees a submission.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from marsad.access.policy import Action
from marsad.ingest.batch import submission_defaults
from marsad.ingest.pipeline import ingest
from marsad.model.errors import MarsadError
from marsad.model.handling import HandlingError
from marsad.model.records import ThreatType
from marsad.products import alerting
from marsad.store import action_reads, match_reads, reads
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.i18n import gettext
from marsad.web.pages import page_number
from marsad.web.render import page

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
Submitter = Annotated[WebCaller, Depends(page_permit(Action.SUBMIT))]
PAGE = 50
REJECTIONS = 500
FEEDBACK = 50
"""Newest sightings and actions shown as feedback: where other organisations saw the
records, and what was done about them."""
TLPS = ("clear", "green", "amber", "amber+strict", "red")
FORMATS = ("auto", "misp", "stix21", "csv", "list", "text")


def _list_data(who: WebCaller, after: int | None) -> dict[str, object]:
    rows = reads.submission_page(who.store, who.grant, after=after, limit=PAGE)
    items = rows[:PAGE]
    nxt = f"/submissions?before={items[-1].id}" if len(rows) > PAGE else None
    seen = match_reads.sightings_of(who.store, who.grant, limit=FEEDBACK)
    acted = action_reads.listing(who.store, who.grant, scope="on-own", limit=FEEDBACK)
    who.audit("list-submissions", "/submissions", submissions=[s.id for s in items],
              sightings=[s.assertion_id for s in seen], actions=[x.id for x in acted])  # fmt: skip
    return {"submissions": items, "next": nxt, "tlps": TLPS, "formats": FORMATS,
            "threat_types": [t.value for t in ThreatType], "error": None,
            "sightings": seen, "actions": acted}  # fmt: skip


@router.get("/submissions")
def submissions(request: Request, who: Reader) -> Response:
    """The organisation's submissions, newest first, and the upload form."""
    before = request.query_params.get("before")
    after = page_number(before) if before else None
    return page(request, who, "submissions.html", _list_data(who, after))


@router.post("/submissions")
async def upload(request: Request, who: Submitter) -> Response:
    """Ingest the uploaded file; show its parse report (or the form again, saying why not)."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form(max_files=1, max_fields=50)  # read once, by the CSRF check
    part = form.get("file")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await part.read() if isinstance(part, UploadFile) else b""
    name = part.filename if isinstance(part, UploadFile) else None
    threat = fields.get("threat_type") or None
    try:
        if not raw:
            raise MarsadError(N_("The file is empty or missing: choose a file to upload."))
        if threat is not None and threat not in {t.value for t in ThreatType}:
            raise MarsadError(f"{threat!r} is not a threat type.")
        fmt = fields.get("format") or "auto"
        if fmt not in FORMATS:
            raise MarsadError(f"{fmt!r} is not a format this form offers.")
        try:
            tlp, releasable_to = fields.get("tlp") or "amber", fields.get("releasable_to", "")
            defaults = submission_defaults(tlp=tlp, releasable_to=releasable_to)
        except HandlingError as exc:
            raise MarsadError(str(exc)) from None
        source = who.viewer.org_name
        assert source is not None
        report = await run_in_threadpool(
            ingest, who.store, raw, source=source, fmt=fmt, defaults=defaults, filename=name,
            threat_type=ThreatType(threat) if threat else None,
        )  # fmt: skip
    except MarsadError as exc:
        data = await run_in_threadpool(_list_data, who, None)
        data["error"] = gettext(who.lang)(str(exc))
        return page(request, who, "submissions.html", data, status=422)
    if report.status == "ingested":  # alerts for the organisations watching, as the API does
        await run_in_threadpool(alerting.evaluate_quietly, who.store, report.submission_id)
    await run_in_threadpool(
        who.audit, "submit", name or "-", submission=report.submission_id, status=report.status,
        sha256=report.sha256, accepted=report.accepted, rejected=report.rejected, via="web",
    )  # fmt: skip
    shown = report.duplicate_of or report.submission_id
    return RedirectResponse(f"/submissions/{shown}", status_code=303)


@router.get("/submissions/{submission_id}")
def submission(request: Request, who: Reader, submission_id: str) -> Response:
    """One submission's parse report, with its rejected records and the reasons."""
    number = int(submission_id) if submission_id.isdigit() and len(submission_id) < 12 else 0
    if not number or reads.submission_of(who.store, who.grant, number) is None:
        who.refuse("read-submission", submission_id[:100], 404, N_("No such submission of yours."))
    row = who.store.submission(number)
    rejected = who.store.rejections(number, limit=REJECTIONS)
    seen = match_reads.sightings_of(who.store, who.grant, limit=FEEDBACK, submission_id=number)
    acted = action_reads.listing(
        who.store, who.grant, scope="on-own", submission_id=number, limit=FEEDBACK
    )
    who.audit("read-submission", str(number), via="web", actions=[x.id for x in acted])
    data = {"submission": row, "rejections": rejected, "shown": len(rejected), "sightings": seen,
            "actions": acted}  # fmt: skip
    return page(request, who, "submission.html", data)
