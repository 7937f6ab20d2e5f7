"""Alerts as a read path: what an organisation is shown of its alerts, through the policy.

An alert is stored once per (organisation, observable), but what it *shows* is decided at
every read: only evidence whose assertion the organisation's grant covers today
(`visible(grant, assertions)` in SQL) is returned, and an alert with no such evidence left
does not exist for the reader. So when an owner tightens an assertion's handling after an
alert was raised, the evidence disappears from listings, digests and the API at once; the
observable, reasons, handling and time shown are computed from the visible evidence only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
import orjson
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.sql import ColumnElement

from marsad.access.policy import Grant
from marsad.model.handling import TLP
from marsad.store.bulk import as_utc
from marsad.store.schema import alert_evidence, alerts, assertions, observables, organisations
from marsad.store.store import Store
from marsad.store.visibility import visible

TLP_BY_RANK = tuple(TLP)
CHUNK = 900


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One assertion that matched, as far as the reader may see it."""

    assertion_id: int
    threat_type: str
    source: str
    tlp: str
    confidence: int | None
    submission_id: int
    reasons: list[str]
    added_at: dt.datetime


class AlertView(msgspec.Struct, frozen=True, kw_only=True):
    """An alert as one organisation is shown it."""

    id: int
    org: str
    type: str
    value: str
    tlp: str  # the most restrictive TLP of the evidence shown
    reasons: list[str]
    raised_at: dt.datetime  # when the first evidence shown was added
    acked_at: dt.datetime | None
    acked_by: str | None
    delivery: dict[str, Any]
    evidence: list[Evidence]


def _has_visible_evidence(grant: Grant, *extra: ColumnElement[bool]) -> Any:
    return exists(
        select(alert_evidence.c.alert_id)
        .join(assertions, assertions.c.id == alert_evidence.c.assertion_id)
        .where(alert_evidence.c.alert_id == alerts.c.id, visible(grant, assertions), *extra)
    )


def alert_ids(
    store: Store,
    org_id: int,
    grant: Grant,
    *,
    unacked: bool = False,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[int]:
    """Ids of the organisation's alerts with evidence it may see (added in [since, until))."""
    window: list[ColumnElement[bool]] = []
    if since is not None:
        window.append(alert_evidence.c.added_at >= since)
    if until is not None:
        window.append(alert_evidence.c.added_at < until)
    conds = [alerts.c.org_id == org_id, _has_visible_evidence(grant, *window)]
    if unacked:
        conds.append(alerts.c.acked_at.is_(None))
    if after is not None:
        conds.append(alerts.c.id > after)
    query = select(alerts.c.id).where(and_(*conds)).order_by(alerts.c.id).limit(limit)
    with store.engine.connect() as conn:
        found: list[Any] = list(conn.execute(query).scalars())
    return [int(i) for i in found]


def open_count(store: Store, org_id: int, grant: Grant) -> int:
    """How many of the organisation's alerts are unacknowledged with evidence it may see."""
    query = (
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.org_id == org_id, alerts.c.acked_at.is_(None), _has_visible_evidence(grant))
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def alerts_by_id(
    store: Store, org_id: int, org: str, grant: Grant, ids: Sequence[int]
) -> list[AlertView]:
    """These alerts of the organisation, each with only the evidence the grant covers."""
    rows: list[Any] = []
    e, a, o = alert_evidence.c, assertions.c, observables.c
    src = organisations.alias("src")
    with store.engine.connect() as conn:
        for lo in range(0, len(ids), CHUNK):
            query = (
                select(
                    alerts.c.id,
                    alerts.c.acked_at,
                    alerts.c.acked_by,
                    alerts.c.delivery,
                    o.type,
                    o.value,
                    e.assertion_id,
                    e.submission_id,
                    e.reasons,
                    e.added_at,
                    a.threat_type,
                    a.tlp,
                    a.confidence,
                    src.c.name.label("source"),
                )
                .join(alert_evidence, e.alert_id == alerts.c.id)
                .join(assertions, a.id == e.assertion_id)
                .join(observables, o.id == alerts.c.observable_id)
                .join(src, src.c.id == a.source_org_id)
                .where(
                    alerts.c.id.in_(list(ids[lo : lo + CHUNK])),
                    alerts.c.org_id == org_id,
                    visible(grant, assertions),
                )
                .order_by(alerts.c.id, e.added_at, e.assertion_id)
            )
            rows += conn.execute(query).all()
    return _views(org, rows)


def _at(value: Any) -> dt.datetime:
    stamp = as_utc(value)
    assert stamp is not None
    return stamp


def _views(org: str, rows: list[Any]) -> list[AlertView]:
    grouped: dict[int, list[Any]] = {}
    for r in rows:
        grouped.setdefault(r.id, []).append(r)
    out = []
    for alert_id, group in grouped.items():
        evidence = [
            Evidence(
                assertion_id=r.assertion_id,
                threat_type=r.threat_type,
                source=r.source,
                tlp=TLP_BY_RANK[r.tlp].value,
                confidence=r.confidence,
                submission_id=r.submission_id,
                reasons=orjson.loads(r.reasons),
                added_at=_at(r.added_at),
            )
            for r in group
        ]
        head = group[0]
        out.append(
            AlertView(
                id=alert_id, org=org, type=head.type, value=head.value,
                tlp=TLP_BY_RANK[max(r.tlp for r in group)].value,
                reasons=list(dict.fromkeys(x for ev in evidence for x in ev.reasons)),
                raised_at=min(ev.added_at for ev in evidence),
                acked_at=as_utc(head.acked_at), acked_by=head.acked_by,
                delivery=orjson.loads(head.delivery or "{}"), evidence=evidence,
            )
        )  # fmt: skip
    return out


def list_alerts(
    store: Store,
    org_id: int,
    org: str,
    grant: Grant,
    **filters: Any,
) -> list[AlertView]:
    """The organisation's alerts (filters as `alert_ids`), oldest first."""
    return alerts_by_id(store, org_id, org, grant, alert_ids(store, org_id, grant, **filters))


def acknowledge(
    store: Store, org_id: int | None, grant: Grant, ids: Sequence[int], by: str
) -> tuple[list[int], list[int]]:
    """Acknowledge alerts the organisation may see (any alert for the operator, ``org_id``
    None); (acknowledged now or before, not found). An alert whose evidence the reader may
    no longer see is not found, as if it did not exist."""
    wanted = sorted(set(ids))
    conds: list[Any] = [alerts.c.id.in_(wanted)]
    if org_id is not None:
        conds += [alerts.c.org_id == org_id, _has_visible_evidence(grant)]
    with store.engine.begin() as conn:
        hits: list[Any] = list(conn.execute(select(alerts.c.id).where(*conds)).scalars())
        found = [int(i) for i in hits]
        if found:
            conn.execute(
                update(alerts)
                .where(alerts.c.id.in_(found), alerts.c.acked_at.is_(None))
                .values(acked_at=dt.datetime.now(dt.UTC), acked_by=by)
            )
    return found, [i for i in wanted if i not in set(found)]


def orgs_with_alerts(store: Store) -> list[tuple[int, str]]:
    """Organisations that have any alert, by name (for the operator's overview)."""
    query = (
        select(organisations.c.id, organisations.c.name)
        .where(exists(select(alerts.c.id).where(alerts.c.org_id == organisations.c.id)))
        .order_by(organisations.c.name)
    )
    with store.engine.connect() as conn:
        rows: list[Any] = list(conn.execute(query))
    return [(int(i), str(n)) for i, n in rows]
