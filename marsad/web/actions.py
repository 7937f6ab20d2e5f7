"""Recording an action from a value's page: blocked, taken down, investigation opened, ….

The form on the observable page posts here (CSRF-checked by `web_caller`); the action is
recorded on every record about the value that the viewer may see, so each of their sources
gets it as feedback (`marsad.store.action_reads`), then the browser goes back to the page.
A value the viewer may not see answers 404 as on the page itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from marsad.access.policy import Action
from marsad.exchange.auth import settings_of
from marsad.model.actions import NOTE_MAX, ActionError, clean_note, parse_kind
from marsad.store import action_reads, reads
from marsad.web.admin_forms import Form
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.i18n import gettext
from marsad.web.i18n import ngettext as counted_in
from marsad.web.records import named_value, observable_page, observable_url, raise_not_found

router = APIRouter(include_in_schema=False)
Recorder = Annotated[WebCaller, Depends(page_permit(Action.RECORD_ACTION))]


@router.post("/actions")
def record_action(request: Request, who: Recorder, form: Form) -> Response:
    """Record what the organisation did about a value; back to its page."""
    obs = named_value(who, form.get("type"), form.get("value"), "record-action", outcome="deny")
    hits = reads.lookup(who.store, who.grant, [obs])
    if not hits:
        who.refuse(
            "record-action", obs.ref, 404, N_("Nothing you may see is known about this value.")
        )
    _, ngettext = gettext(who.lang), counted_in(who.lang)
    try:
        action = parse_kind(form.get("kind"))
    except ActionError:
        return observable_page(request, who, obs, status=422,
                               error=_("Choose what was done from the list."))  # fmt: skip
    try:
        note = clean_note(form.get("note"))
    except ActionError:
        message = ngettext(
            "The note is too long or holds control characters (at most %(num)s character).",
            "The note is too long or holds control characters (at most %(num)s characters).",
            NOTE_MAX,
        )
        return observable_page(request, who, obs, status=422, error=message)
    try:
        action_reads.record(
            who.store, who.viewer, who.grant, [a.id for a in hits], action, note,
            actor=who.user, target=obs.ref, now=settings_of(request).now(), via="web",
        )  # fmt: skip
    except action_reads.ActionRefused:  # its handling changed since the lookup (audited)
        raise_not_found(who)
    return RedirectResponse(observable_url(obs) + "#actions", status_code=303)
