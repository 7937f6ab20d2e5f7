"""Actions taken: record what your organisation did about a record; read the feedback.

``POST /actions`` records one action (blocked, taken down, …) on one assertion, or on every
assertion about a value that the caller may see, so each of their sources learns of it.
``GET /actions`` lists the actions the policy shows the caller: those its organisation took,
and those others took on its records (`scope`), optionally of one of its submissions. A
record the caller may not see answers 404 exactly as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange.api_common import Paging, json_response, page_of, paging
from marsad.exchange.auth import Caller, permit, settings_of
from marsad.exchange.problems import Problem
from marsad.model.actions import ActionError, ActionKind, clean_note, parse_kind
from marsad.model.normalize import normalize
from marsad.model.observable import Observable, ObservableType
from marsad.store import action_reads, reads

router = APIRouter(tags=["actions"])
Reader = Annotated[Caller, Depends(permit(Action.READ))]
Recorder = Annotated[Caller, Depends(permit(Action.RECORD_ACTION))]


class ActionBody(BaseModel):
    """One action: what was done, on an assertion (by id) or a value (type and value)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=60, description=", ".join(k.value for k in ActionKind))
    note: str | None = Field(default=None, max_length=4096, description="At most 500 characters.")
    assertion_id: int | None = Field(default=None, ge=1)
    type: ObservableType | None = None
    value: str | None = Field(default=None, min_length=1, max_length=4096)


def _targets(who: Caller, body: ActionBody) -> tuple[str, list[int]]:
    """What the action is on, and the ids of the visible records it covers (404 if none)."""
    if (body.assertion_id is None) == (body.type is None or body.value is None):
        raise Problem(422, "give either assertion_id, or type and value", kind="invalid-action")
    if body.assertion_id is not None:
        target = f"assertion {body.assertion_id}"
        found = reads.assertion_by_id(who.store, who.grant, body.assertion_id)
        if found is None:
            who.deny("record-action", target, 404, f"no assertion {body.assertion_id}")
        return target, [found.id]
    assert body.type is not None and body.value is not None
    obs = Observable(body.type, normalize(body.type, body.value))
    hits = reads.lookup(who.store, who.grant, [obs])
    if not hits:
        who.deny("record-action", obs.ref, 404, f"nothing known about {obs.ref} that you may see")
    return obs.ref, [a.id for a in hits]


@router.post("/actions", status_code=201, summary="Record an action your organisation took")
def record_action(request: Request, who: Recorder, body: ActionBody) -> Response:
    try:
        kind, note = parse_kind(body.kind), clean_note(body.note)
    except ActionError as exc:
        raise Problem(422, str(exc), kind="invalid-action") from None
    target, ids = _targets(who, body)
    try:
        made = action_reads.record(
            who.store, who.viewer, who.grant, ids, kind, note, actor=who.user, target=target,
            now=settings_of(request).now(), purpose=who.purpose.value if who.purpose else None,
            via="api",
        )  # fmt: skip
    except action_reads.ActionRefused:  # its handling changed since the lookup (audited)
        raise Problem(404, f"nothing known about {target} that you may see") from None
    rows = action_reads.listing(who.store, who.grant, ids=made, limit=len(made))
    return json_response({"items": rows}, 201)


@router.get("/actions", summary="Actions taken that you may see: yours, and on your records")
def list_actions(
    request: Request,
    who: Reader,
    page: Annotated[Paging, Depends(paging)],
    scope: Annotated[
        Literal["all", "on-own", "by-own"],
        Query(description="on-own: on your organisation's records (feedback); by-own: taken "
              "by your organisation; all: both."),
    ] = "all",
    submission: Annotated[
        int | None, Query(ge=1, description="Only on the records of this submission of yours.")
    ] = None,
) -> Response:  # fmt: skip
    if submission is not None and reads.submission_of(who.store, who.grant, submission) is None:
        who.deny("list-actions", f"submission {submission}", 404,
                 f"no submission {submission} from {who.viewer.org_name}")  # fmt: skip
    rows = action_reads.listing(
        who.store, who.grant, scope=scope, submission_id=submission,
        before=page.after("actions"), limit=page.limit + 1,
    )  # fmt: skip
    items, nxt = page_of("actions", rows, page.limit)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    who.audit("list-actions", target, ids=[x.id for x in items])
    return json_response({"items": items, "next": nxt})
