"""Actions taken: what an organisation did about a record it could see (pure, no I/O).

A partner reports a phishing domain; a bank blocks it, a registrar takes it down, a
national unit opens an investigation. Each such action goes back to the records' sources
as feedback, beside the sightings. The vocabulary is fixed so that feedback can be counted
and translated; a short note says the rest.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec

from marsad.model.errors import MarsadError

NOTE_MAX = 500
"""A note is a line or two ("blocked at the resolvers of 3 ISPs"), not a report."""


class ActionKind(StrEnum):
    """What was done about a record; the values are stable (API, CLI, the store)."""

    BLOCKED = "blocked"
    TAKEDOWN_REQUESTED = "takedown-requested"
    TAKEN_DOWN = "taken-down"
    INVESTIGATION_OPENED = "investigation-opened"
    VICTIM_NOTIFIED = "victim-notified"
    FALSE_POSITIVE = "no-action-false-positive"


class ActionError(MarsadError):
    """An action that cannot be recorded as given; the message says which field and why."""


class ActionTaken(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded action on one assertion, as the store keeps it."""

    id: int
    assertion_id: int
    type: str  # the observable acted on
    value: str
    threat_type: str
    org: str  # the acting organisation
    user: str | None  # the acting user; None where the policy does not show it
    kind: ActionKind
    note: str | None
    taken_at: dt.datetime


def parse_kind(text: str) -> ActionKind:
    """The kind named by ``text`` (as listed, case and spaces forgiven), or a clear error."""
    wanted = text.strip().lower().replace("_", "-").replace(" ", "-")
    try:
        return ActionKind(wanted)
    except ValueError:
        known = ", ".join(k.value for k in ActionKind)
        raise ActionError(f"kind: {text[:40]!r} is not an action kind (one of {known})") from None


def clean_note(text: str | None) -> str | None:
    """The note trimmed, None when empty; refused when too long or holding control bytes."""
    if text is None:
        return None
    note = text.strip()
    if not note:
        return None
    if len(note) > NOTE_MAX:
        raise ActionError(f"note: {len(note)} characters, at most {NOTE_MAX} are kept")
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in note):
        raise ActionError("note: control characters are not allowed")
    return note
