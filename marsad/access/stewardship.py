"""What owners do with their records: agreements, tightening handling, retention review.

Only the owner tightens its records' handling (nobody loosens anyone's); after
``retain_until`` the owner reviews: extend with a reason, or purge. Each step is audited
in the same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import Connection, and_, case, delete, exists, func, insert, select, update

from marsad.access import audit
from marsad.access.policy import Viewer
from marsad.model.errors import MarsadError
from marsad.model.handling import PAP, TLP, Handling
from marsad.store.analysis_state import forget as forget_analysis
from marsad.store.schema import (
    actions_taken,
    agreements,
    alert_evidence,
    alerts,
    assertion_sources,
    assertions,
    sightings,
)
from marsad.store.store import Store


class NotOwner(MarsadError):
    """Someone other than the owner tried to change an owner's records."""


class Expired(msgspec.Struct, frozen=True, kw_only=True):
    """Records past retention awaiting their owner's review, per submission."""

    submission_id: int
    assertions: int
    retain_until: dt.date


def _day(value: Any) -> dt.date:
    """A date from either engine (SQLite may hand back an ISO string from an aggregate)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def agreement_of(store: Store, org_id: int) -> Handling | None:
    """The agreement that governs an organisation's submissions, if any."""
    with store.engine.connect() as conn:
        raw = conn.execute(
            select(agreements.c.defaults).where(agreements.c.org_id == org_id)
        ).scalar_one_or_none()
    return None if raw is None else msgspec.json.decode(raw, type=Handling)


def all_agreements(store: Store) -> dict[int, Handling]:
    """Every organisation's agreement by organisation id, in one read (the hub's overview)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(agreements.c.org_id, agreements.c.defaults)).all()
    return {int(r.org_id): msgspec.json.decode(r.defaults, type=Handling) for r in rows}


def set_agreement(
    store: Store, org: str, handling: Handling, actor: Viewer, user: str | None = None
) -> Handling:
    """Record (or replace) an organisation's agreement; ``user`` names who, in the audit log."""
    org_id = store.org(org).id
    blob = msgspec.json.encode(handling).decode()
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        done = conn.execute(
            update(agreements)
            .where(agreements.c.org_id == org_id)
            .values(defaults=blob, updated_at=now)
        ).rowcount
        if not done:
            conn.execute(insert(agreements).values(org_id=org_id, defaults=blob, updated_at=now))
        audit.append(conn, actor=user or actor.label, org=actor.org_name, action="agreement-set",
                     target=org, details=msgspec.to_builtins(handling))  # fmt: skip
    return handling


def _owned(viewer: Viewer, submission_id: int | None) -> Any:
    if viewer.org_id is None:
        raise NotOwner("only an owner organisation changes its records: use --as ORG")
    cond = assertions.c.owner_org_id == viewer.org_id
    if submission_id is not None:
        cond = and_(
            cond,
            assertions.c.id.in_(
                select(assertion_sources.c.assertion_id).where(
                    assertion_sources.c.submission_id == submission_id
                )
            ),
        )
    return cond


def tighten(
    store: Store,
    viewer: Viewer,
    *,
    submission_id: int | None,
    tlp: TLP | None = None,
    pap: PAP | None = None,
    retain_until: dt.date | None = None,
) -> int:
    """Make the owner's records at least this strict; returns how many changed."""
    values: dict[str, Any] = {}
    c = assertions.c
    if tlp is not None:
        values["tlp"] = case((c.tlp < tlp.rank, tlp.rank), else_=c.tlp)
    if pap is not None:
        values["pap"] = case((c.pap < pap.rank, pap.rank), else_=c.pap)
    if retain_until is not None:
        values["retain_until"] = case(
            (c.retain_until.is_(None), retain_until),
            (c.retain_until > retain_until, retain_until),
            else_=c.retain_until,
        )
    if not values:
        raise MarsadError("say what to tighten: --tlp, --pap or --retain-until")
    cond = _owned(viewer, submission_id)
    with store.engine.begin() as conn:
        changed = conn.execute(update(assertions).where(cond).values(**values)).rowcount
        audit.append(
            conn, actor=viewer.label, org=viewer.org_name, action="tighten",
            target=f"submission {submission_id}" if submission_id else "all own records",
            details={"tlp": tlp, "pap": pap, "retain_until": str(retain_until or ""),
                     "assertions": changed},
        )  # fmt: skip
    return int(changed)


def expired(store: Store, viewer: Viewer, today: dt.date) -> list[Expired]:
    """The owner's records past retention, grouped by the submission that first brought them."""
    cond = and_(_owned(viewer, None), assertions.c.retain_until < today)
    query = (
        select(
            assertions.c.first_submission_id,
            func.count(),
            func.min(assertions.c.retain_until),
        )
        .where(cond)
        .group_by(assertions.c.first_submission_id)
        .order_by(assertions.c.first_submission_id)
    )
    with store.engine.connect() as conn:
        return [
            Expired(submission_id=int(r[0]), assertions=int(r[1]), retain_until=_day(r[2]))
            for r in conn.execute(query)
        ]


def extend(
    store: Store,
    viewer: Viewer,
    until: dt.date,
    reason: str,
    today: dt.date,
    submission_id: int | None = None,
) -> int:
    """Keep expired records until a new date, with the owner's reason on the record."""
    if until <= today:
        raise MarsadError(f"the new retention date must be after today ({today}), got {until}")
    if not reason.strip():
        raise MarsadError("give a reason for keeping the records (--reason)")
    cond = and_(_owned(viewer, submission_id), assertions.c.retain_until < today)
    with store.engine.begin() as conn:
        changed = conn.execute(update(assertions).where(cond).values(retain_until=until)).rowcount
        audit.append(conn, actor=viewer.label, org=viewer.org_name, action="retention-extend",
                     target=f"submission {submission_id}" if submission_id else "all expired",
                     details={"until": until.isoformat(), "reason": reason,
                              "assertions": changed})  # fmt: skip
    return int(changed)


def purge(
    store: Store, viewer: Viewer, reason: str, today: dt.date, submission_id: int | None = None
) -> int:
    """Delete the owner's expired records for good (their provenance links, sightings, the
    actions taken on them and the alerts they raised go with them)."""
    if not reason.strip():
        raise MarsadError("give a reason for the purge (--reason)")
    cond = and_(_owned(viewer, submission_id), assertions.c.retain_until < today)
    with store.engine.begin() as conn:
        ids: list[int] = list(conn.execute(select(assertions.c.id).where(cond)).scalars())
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for linked in (assertion_sources, sightings, actions_taken, alert_evidence):
                conn.execute(delete(linked).where(linked.c.assertion_id.in_(chunk)))
            _forget_alerts_on(conn, chunk)
            conn.execute(delete(assertions).where(assertions.c.id.in_(chunk)))
        if ids:  # the graph lost values: the next analysis is a full one
            forget_analysis(conn)
        audit.append(conn, actor=viewer.label, org=viewer.org_name, action="retention-purge",
                     target=f"submission {submission_id}" if submission_id else "all expired",
                     details={"reason": reason, **audit.id_summary(ids)})  # fmt: skip
    return len(ids)


def _forget_alerts_on(conn: Connection, purged: list[int]) -> None:
    """Alerts raised on purged records: one that other evidence still supports points at
    that evidence; one that nothing supports any more goes (it could show nothing)."""
    e, a = alert_evidence.c, alerts.c
    gone = a.assertion_id.in_(purged)
    conn.execute(delete(alerts).where(gone, ~exists().where(e.alert_id == a.id)))
    other = select(func.min(e.assertion_id)).where(e.alert_id == a.id).scalar_subquery()
    conn.execute(update(alerts).where(gone).values(assertion_id=other))


def disclose(store: Store, viewer: Viewer, assertion_id: int, *, on: bool = True) -> None:
    """Let viewers who may not see one of the owner's records learn it exists (or stop it).

    Correlation and bulk match then show them "a record exists: ask OWNER" and nothing
    else. The same refusal answers a record that is not the owner's and one that does not
    exist, so the command cannot probe for records either.
    """
    cond = and_(_owned(viewer, None), assertions.c.id == assertion_id)
    with store.engine.begin() as conn:
        changed = conn.execute(update(assertions).where(cond).values(disclose_exists=on)).rowcount
        if changed:
            audit.append(conn, actor=viewer.label, org=viewer.org_name, action="disclose",
                         target=f"assertion {assertion_id}", details={"exists": on})  # fmt: skip
    if not changed:
        audit.record(store, viewer, "disclose", f"assertion {assertion_id}", outcome="deny",
                     details={"exists": on})  # fmt: skip
        raise NotOwner(f"assertion {assertion_id} is not a record owned by {viewer.label}")
