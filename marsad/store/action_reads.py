"""Actions taken, the store's half: record them (audited) and read them back as feedback.

An organisation records what it did about records it may see (`may_record_action`); the
acting organisation and the records' owners and sources read them back, each row filtered
in SQL by `action_visible`, the twin of the policy's `may_see_action`. Nothing here decides
who may do what: the policy does, and the callers (web, API, CLI) ask it through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from marsad.access import audit
from marsad.access.policy import (
    Grant,
    Mark,
    Viewer,
    may_record_action,
    shows_acting_user,
    tokens_of,
)
from marsad.model.actions import ActionError, ActionKind, ActionTaken
from marsad.model.observable import Observable
from marsad.store.bulk import as_utc
from marsad.store.schema import (
    actions_taken,
    assertion_sources,
    assertions,
    observables,
    organisations,
)
from marsad.store.store import Store, _date
from marsad.store.visibility import action_visible

SCOPES = ("all", "on-own", "by-own")
"""Which visible actions a listing takes: all, those on one's own records (feedback), or
those one's organisation took."""


class ActionRefused(ActionError):
    """Records the caller may not act on (or that do not exist): the same answer for both."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        shown = ", ".join(str(i) for i in self.ids[:10])
        super().__init__(f"no assertion you may see with id {shown}")


def _marks(store: Store, ids: Sequence[int]) -> dict[int, Mark]:
    a = assertions.c
    query = select(a.id, a.owner_org_id, a.source_org_id, a.tlp, a.pap, a.releasable_to,
                   a.retain_until).where(a.id.in_(sorted(set(ids))))  # fmt: skip
    with store.engine.connect() as conn:
        return {
            int(r.id): Mark(owner_org_id=r.owner_org_id, source_org_id=r.source_org_id,
                            tlp=r.tlp, pap=r.pap, releasable_to=tokens_of(r.releasable_to),
                            retain_until=_date(r.retain_until))
            for r in conn.execute(query)
        }  # fmt: skip


def record(
    store: Store,
    viewer: Viewer,
    grant: Grant,
    assertion_ids: Sequence[int],
    kind: ActionKind,
    note: str | None,
    *,
    actor: str,
    target: str,
    now: dt.datetime,
    purpose: str | None = None,
    via: str = "cli",
) -> list[int]:
    """Record one action on these assertions, audited in the same transaction; the new ids.

    Every id must be a record the policy lets the viewer act on, else nothing is written
    and `ActionRefused` names the ids (hidden and missing alike).
    """
    wanted = sorted(set(assertion_ids))
    if not wanted:
        raise ActionError("no record to act on: name an assertion or a value you may see")
    marks = _marks(store, wanted)
    refused = [
        i for i in wanted if i not in marks or not may_record_action(viewer, grant, marks[i])
    ]
    if refused:
        audit.record(store, viewer, "record-action", target, actor=actor, outcome="deny",
                     purpose=purpose, details={"kind": kind.value, "refused": refused[:100]})  # fmt: skip
        raise ActionRefused(refused)
    assert viewer.org_id is not None  # may_record_action requires an organisation
    rows = [{"assertion_id": i, "org_id": viewer.org_id, "actor": actor, "kind": kind.value,
             "note": note, "taken_at": now} for i in wanted]  # fmt: skip
    with store.engine.begin() as conn:
        ids = [
            int(conn.execute(insert(actions_taken).values(**row)).inserted_primary_key[0])  # type: ignore[index]
            for row in rows
        ]
        audit.append(conn, actor=actor, org=viewer.org_name, action="record-action",
                     target=target, purpose=purpose,
                     details={"kind": kind.value, "note": note, "actions": ids, "via": via,
                              **audit.id_summary(wanted)})  # fmt: skip
    return ids


def listing(
    store: Store,
    grant: Grant,
    *,
    scope: str = "all",
    observable: Observable | None = None,
    submission_id: int | None = None,
    ids: Sequence[int] | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[ActionTaken]:
    """Up to ``limit`` visible actions, newest first (ids below ``before``).

    ``submission_id`` narrows to the records that submission stated; the caller checks the
    submission is the viewer's own (its source asks).
    """
    if scope not in SCOPES:
        raise ActionError(f"scope: {scope[:20]!r} is not one of {', '.join(SCOPES)}")
    t, a = actions_taken.c, assertions.c
    acting = organisations.alias("acting")
    query = (
        select(t.id, t.assertion_id, observables.c.type, observables.c.value, a.threat_type,
               acting.c.name, t.org_id, t.actor, t.kind, t.note, t.taken_at)
        .join(assertions, a.id == t.assertion_id)
        .join(observables, observables.c.id == a.observable_id)
        .join(acting, acting.c.id == t.org_id)
        .where(action_visible(grant, actions_taken, assertions))
        .order_by(t.id.desc())
        .limit(limit)
    )  # fmt: skip
    own = sorted(grant.own_org_ids)
    if scope == "on-own" and not grant.everything:
        query = query.where(a.owner_org_id.in_(own) | a.source_org_id.in_(own))
    elif scope == "by-own" and not grant.everything:
        query = query.where(t.org_id.in_(own))
    if observable is not None:
        query = query.where(
            observables.c.type == observable.type.value, observables.c.value == observable.value
        )
    if submission_id is not None:
        stated = select(assertion_sources.c.assertion_id).where(
            assertion_sources.c.submission_id == submission_id
        )
        query = query.where(t.assertion_id.in_(stated))
    if ids is not None:
        query = query.where(t.id.in_(sorted(set(ids))))
    if before is not None:
        query = query.where(t.id < before)
    with store.engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return [_action(grant, r) for r in rows]


def _action(grant: Grant, r: Any) -> ActionTaken:
    return ActionTaken(
        id=int(r[0]), assertion_id=int(r[1]), type=r[2], value=r[3], threat_type=r[4],
        org=r[5], user=r[7] if shows_acting_user(grant, int(r[6])) else None,
        kind=ActionKind(r[8]), note=r[9], taken_at=as_utc(r[10]) or r[10],
    )  # fmt: skip


def grouped(actions: Sequence[ActionTaken]) -> list[dict[str, Any]]:
    """One entry per recorded action (an action on a value covers each of its records)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for x in actions:
        key = (x.org, x.user, x.kind, x.note, x.taken_at, x.type, x.value)
        entry = out.setdefault(key, {"org": x.org, "user": x.user, "kind": x.kind.value,
                                     "note": x.note, "taken_at": x.taken_at, "type": x.type,
                                     "value": x.value, "assertions": []})  # fmt: skip
        entry["assertions"].append(x.assertion_id)
    return list(out.values())
