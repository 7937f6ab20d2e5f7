"""The store side of alerting: watchlists, channels, and writing alerts with their evidence.

Reads of alerts for an organisation go through the access policy in
`marsad.store.alert_reads`; this module holds what an administrator configures and what
the evaluator writes (both the operator's business, not a read path of records).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
import orjson
from sqlalchemy import Connection, column, delete, insert, select, table, text, update
from sqlalchemy.exc import IntegrityError

from marsad.model.errors import MarsadError
from marsad.products.watch import normalise_entry
from marsad.store.bulk import as_utc
from marsad.store.schema import alert_channels, alert_runs, alerts, assertions, watchlists
from marsad.store.store import Store

CHANNEL_KINDS = ("webhook", "email")
CHUNK = 900  # ids per IN list: under SQLite's bound-parameter limit with room to spare


class AlertConfigError(MarsadError):
    """A watchlist entry or channel that cannot be added or removed as asked."""


class WatchEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One watchlist entry of an organisation."""

    id: int
    org: str
    kind: str
    value: str
    created_at: dt.datetime


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """Where an organisation's alerts are delivered besides the application."""

    id: int
    org: str
    kind: str
    target: str
    secret: str | None = None


def _at(value: Any) -> dt.datetime:
    stamp = as_utc(value)
    assert stamp is not None
    return stamp


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Pieces of at most ``size`` items, for IN lists."""
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


# -- watchlists -------------------------------------------------------------------------


def add_entry(store: Store, org: str, kind: str, value: str) -> WatchEntry:
    """Add one normalised entry to an organisation's watchlist (adding it twice is an error)."""
    org_id = store.org(org).id
    stored = normalise_entry(kind, value)
    now = dt.datetime.now(dt.UTC)
    try:
        with store.engine.begin() as conn:
            new_id = conn.execute(
                insert(watchlists).values(org_id=org_id, kind=kind, value=stored, created_at=now)
            ).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        raise AlertConfigError(f"{org} already watches {kind} {stored}") from None
    return WatchEntry(id=new_id, org=org, kind=kind, value=stored, created_at=now)


def list_entries(store: Store, org: str | None = None) -> list[WatchEntry]:
    """Watchlist entries, of one organisation or of all, by organisation, kind and value."""
    from marsad.store.schema import organisations as o

    query = (
        select(watchlists, o.c.name)
        .join(o, o.c.id == watchlists.c.org_id)
        .order_by(o.c.name, watchlists.c.kind, watchlists.c.value)
    )
    if org is not None:
        query = query.where(watchlists.c.org_id == store.org(org).id)
    with store.engine.connect() as conn:
        return [
            WatchEntry(
                id=r.id, org=r.name, kind=r.kind, value=r.value, created_at=_at(r.created_at)
            )
            for r in conn.execute(query)
        ]


def remove_entry(store: Store, org: str, kind: str, value: str) -> int:
    """Remove an entry (given as typed: it is normalised first); its id."""
    org_id = store.org(org).id
    stored = normalise_entry(kind, value)
    c = watchlists.c
    where = (c.org_id == org_id) & (c.kind == kind) & (c.value == stored)
    with store.engine.begin() as conn:
        found = conn.execute(select(c.id).where(where)).scalar_one_or_none()
        if found is None:
            raise AlertConfigError(f"{org} does not watch {kind} {stored}")
        conn.execute(delete(watchlists).where(c.id == found))
    return int(found)


def watchlists_by_org(conn: Connection) -> dict[int, list[tuple[str, str]]]:
    """Every organisation's entries, for the evaluator."""
    out: dict[int, list[tuple[str, str]]] = {}
    rows: list[Any] = list(
        conn.execute(select(watchlists.c.org_id, watchlists.c.kind, watchlists.c.value))
    )
    for org_id, kind, value in rows:
        out.setdefault(int(org_id), []).append((str(kind), str(value)))
    return out


# -- channels ---------------------------------------------------------------------------


def add_channel(
    store: Store, org: str, kind: str, target: str, secret: str | None = None
) -> Channel:
    """Add a webhook (a secret is made when none is given) or an e-mail address."""
    if kind not in CHANNEL_KINDS:
        raise AlertConfigError(f"channel kind {kind!r} is not one of {', '.join(CHANNEL_KINDS)}")
    target = target.strip()
    if kind == "webhook":
        if not target.startswith(("https://", "http://")):
            raise AlertConfigError(f"webhook {target!r} is not an http(s) URL")
        secret = secret or secrets.token_urlsafe(32)
    else:
        if target.count("@") != 1 or "." not in target.rpartition("@")[2] or " " in target:
            raise AlertConfigError(f"{target!r} is not an e-mail address")
        secret = None
    org_id = store.org(org).id
    try:
        with store.engine.begin() as conn:
            new_id = conn.execute(
                insert(alert_channels).values(
                    org_id=org_id, kind=kind, target=target, secret=secret,
                    created_at=dt.datetime.now(dt.UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    except IntegrityError:
        raise AlertConfigError(f"{org} already has the {kind} channel {target}") from None
    return Channel(id=new_id, org=org, kind=kind, target=target, secret=secret)


def list_channels(store: Store, org: str | None = None) -> list[Channel]:
    """Channels, of one organisation or of all."""
    from marsad.store.schema import organisations as o

    query = select(alert_channels, o.c.name).join(o, o.c.id == alert_channels.c.org_id)
    if org is not None:
        query = query.where(alert_channels.c.org_id == store.org(org).id)
    with store.engine.connect() as conn:
        return [
            Channel(id=r.id, org=r.name, kind=r.kind, target=r.target, secret=r.secret)
            for r in conn.execute(query.order_by(o.c.name, alert_channels.c.id))
        ]


def remove_channel(store: Store, channel_id: int) -> None:
    """Remove a channel by id."""
    with store.engine.begin() as conn:
        if (
            conn.execute(delete(alert_channels).where(alert_channels.c.id == channel_id)).rowcount
            != 1
        ):
            raise AlertConfigError(f"no alert channel with id {channel_id}")


# -- writing alerts -----------------------------------------------------------------------


MATCH = table("alert_match", column("org_id"), column("observable_id"),
              column("assertion_id"), column("reasons"))  # fmt: skip
KEEP = table("alert_keep", column("org_id"), column("observable_id"),
             column("assertion_id"), column("reasons"))  # fmt: skip
_COLUMNS = [("org_id", "BIGINT"), ("observable_id", "BIGINT"), ("assertion_id", "BIGINT"),
            ("reasons", "TEXT")]  # fmt: skip
Match = tuple[int, int, int, str]  # organisation, observable, assertion, reasons (JSON)


class Raised(msgspec.Struct, kw_only=True):
    """What one evaluation wrote."""

    new_alerts: dict[int, list[int]]  # organisation id -> ids of the alerts raised now
    evidence: int  # evidence rows added (to new and existing alerts)
    organisations: int  # organisations with at least one kept match


def stage_matches(store: Store, conn: Connection, rows: Sequence[Match]) -> None:
    """Load every match into ``alert_match`` (COPY on PostgreSQL) and create the empty
    ``alert_keep`` that the policy filter fills, organisation by organisation."""
    d = store.dialect
    d.stage(conn, "alert_match", _COLUMNS, rows)
    d.stage(conn, "alert_keep", _COLUMNS, [])
    conn.exec_driver_sql("CREATE INDEX ix_alert_match ON alert_match (org_id)")
    conn.exec_driver_sql(
        "CREATE INDEX ix_alert_keep ON alert_keep (org_id, observable_id, assertion_id)"
    )


def keep_visible(conn: Connection, org_id: int, visible_to_org: Any) -> None:
    """Keep the organisation's matches whose assertion satisfies ``visible_to_org`` (the
    policy's SQL predicate over `assertions`)."""
    query = (
        select(MATCH.c.org_id, MATCH.c.observable_id, MATCH.c.assertion_id, MATCH.c.reasons)
        .join(assertions, assertions.c.id == MATCH.c.assertion_id)
        .where(MATCH.c.org_id == org_id, visible_to_org)
    )
    conn.execute(insert(KEEP).from_select(list(KEEP.c.keys()), query))


_NEW_ALERTS = """
INSERT INTO alerts (org_id, observable_id, assertion_id, reasons, created_at, delivery)
SELECT k.org_id, k.observable_id, k.assertion_id, k.reasons, :now, '{}' FROM alert_keep k
WHERE k.assertion_id = (SELECT min(k2.assertion_id) FROM alert_keep k2
                        WHERE k2.org_id = k.org_id AND k2.observable_id = k.observable_id)
  AND NOT EXISTS (SELECT 1 FROM alerts a
                  WHERE a.org_id = k.org_id AND a.observable_id = k.observable_id)
ON CONFLICT (org_id, observable_id) DO NOTHING
RETURNING id, org_id
"""
_NEW_EVIDENCE = """
INSERT INTO alert_evidence (alert_id, assertion_id, submission_id, reasons, added_at)
SELECT a.id, k.assertion_id, :submission, k.reasons, :now
FROM alert_keep k JOIN alerts a ON a.org_id = k.org_id AND a.observable_id = k.observable_id
WHERE NOT EXISTS (SELECT 1 FROM alert_evidence e
                  WHERE e.alert_id = a.id AND e.assertion_id = k.assertion_id)
ON CONFLICT (alert_id, assertion_id) DO NOTHING
"""


def raise_kept(store: Store, conn: Connection, submission_id: int, now: dt.datetime) -> Raised:
    """One alert per (organisation, observable) kept, evidence per assertion; set-based and
    idempotent (a later match adds evidence to the alert, never a second alert)."""
    stamp = store.dialect.time(now)
    new: dict[int, list[int]] = {}
    returned: list[Any] = list(conn.execute(text(_NEW_ALERTS), {"now": stamp}))
    for alert_id, org_id in returned:
        new.setdefault(int(org_id), []).append(int(alert_id))
    evidence = conn.execute(text(_NEW_EVIDENCE), {"submission": submission_id, "now": stamp})
    orgs: Any = conn.execute(text("SELECT count(DISTINCT org_id) FROM alert_keep")).scalar_one()
    conn.exec_driver_sql("DROP TABLE alert_match")
    conn.exec_driver_sql("DROP TABLE alert_keep")
    return Raised(
        new_alerts={o: sorted(ids) for o, ids in new.items()},
        evidence=int(evidence.rowcount),
        organisations=int(orgs),
    )


def write_alerts(
    store: Store, conn: Connection, submission_id: int, rows: Sequence[Match], now: dt.datetime
) -> Raised:
    """Raise alerts from matches the caller has already put through the policy."""
    stage_matches(store, conn, rows)
    conn.execute(insert(KEEP).from_select(list(KEEP.c.keys()), select(MATCH)))
    return raise_kept(store, conn, submission_id, now)


def mark_evaluated(
    store: Store, conn: Connection, submission_id: int, raised: int, evidence: int
) -> None:
    """Record that a submission was evaluated (again)."""
    values = {"evaluated_at": dt.datetime.now(dt.UTC), "raised": raised, "evidence": evidence}
    conn.execute(delete(alert_runs).where(alert_runs.c.submission_id == submission_id))
    conn.execute(insert(alert_runs).values(submission_id=submission_id, **values))


def record_delivery(store: Store, alert_ids: Sequence[int], outcome: dict[str, Any]) -> None:
    """Merge one delivery outcome (channel -> result) into each alert's delivery record."""
    if not alert_ids:
        return
    with store.engine.begin() as conn:
        for part in chunked(list(alert_ids)):
            rows: list[Any] = list(
                conn.execute(select(alerts.c.id, alerts.c.delivery).where(alerts.c.id.in_(part)))
            )
            by_value: dict[str, list[int]] = {}
            for alert_id, current in rows:
                merged = {**orjson.loads(current or "{}"), **outcome}
                by_value.setdefault(orjson.dumps(merged).decode(), []).append(alert_id)
            for blob, ids in by_value.items():
                conn.execute(update(alerts).where(alerts.c.id.in_(ids)).values(delivery=blob))
