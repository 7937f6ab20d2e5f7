"""Evaluating new assertions against every organisation's watchlists: the shell.

`evaluate_submission` reads the assertions a submission brought (new or merged), as
columns with their enrichment (IP → country by `iptocc`, IP → AS from the instance's
imported table, registered domain from the store), matches them against all watchlists at
once (`watch.match_orgs`, each distinct entry tested once), and then, per organisation,
keeps only the matched assertions its grant covers — asked of the database with
`visible(grant, assertions)`, the same predicate as every other read path. It writes one
alert per (organisation, observable) with an evidence row per assertion, in one
transaction, and records the submission as evaluated. Delivery to webhooks and e-mail
follows the commit; its failures are recorded on the alerts and never raised.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select

from marsad.access import audit
from marsad.access.policy import OPERATOR, Grant, grant_for
from marsad.enrich.asn import AsnTable, lookup_asn
from marsad.enrich.geo import country_codes
from marsad.enrich.iputil import parse_ipv4, parse_ipv6
from marsad.enrich.loaders import ASN_FILE, load_asn
from marsad.products import alert_store, delivery
from marsad.products.watch import Batch, digit_first, hosts_of, match_orgs
from marsad.store.alert_reads import alerts_by_id
from marsad.store.schema import alert_runs, assertion_sources, assertions, observables, submissions
from marsad.store.store import Store
from marsad.store.visibility import visible

log = logging.getLogger(__name__)
SEND_CHUNK = 500  # alerts per webhook body / e-mail


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What evaluation needs besides the store: enrichment tables and delivery settings."""

    asn: AsnTable | None = None
    delivery: delivery.DeliveryConfig = msgspec.field(default_factory=delivery.DeliveryConfig)
    deliver: bool = True
    today: dt.date | None = None  # the policy's date (default: today, UTC)


_ASN: dict[Path, tuple[float, AsnTable | None]] = {}


def _asn_of(home: Path) -> AsnTable | None:
    """The imported AS table, read again only when its file changed (every upload asks)."""
    path = home / "enrich" / ASN_FILE
    stamp = path.stat().st_mtime if path.is_file() else -1.0
    cached = _ASN.get(home)
    if cached is None or cached[0] != stamp:
        cached = _ASN[home] = (stamp, load_asn(home))
    return cached[1]


def context_for(home: Path | None = None, **overrides: Any) -> Context:
    """The instance's context: its imported ASN table and its delivery configuration."""
    home = home or delivery.instance_home()
    return Context(asn=_asn_of(home), delivery=delivery.load_config(home), **overrides)


class Summary(msgspec.Struct, kw_only=True):
    """What one evaluation did."""

    submission_id: int
    assertions: int = 0
    organisations: int = 0  # organisations with at least one matched, visible assertion
    raised: int = 0
    evidence: int = 0
    delivered: int = 0
    failed: int = 0
    seconds: float = 0.0
    by_org: dict[str, int] = msgspec.field(default_factory=dict)
    phases: dict[str, float] = msgspec.field(default_factory=dict)  # seconds per step


def _lap(summary: Summary, phase: str, since: float) -> float:
    now = time.perf_counter()
    summary.phases[phase] = round(now - since, 4)
    return now


# -- the batch ----------------------------------------------------------------------------


def _ip_columns(
    types: NDArray[np.str_], hosts: NDArray[np.str_], asn: AsnTable | None
) -> tuple[NDArray[np.str_], NDArray[np.int64]]:
    """Country and AS number of each IP row (and URL with an IPv4 host)."""
    n = len(types)
    country = np.full(n, "", dtype="<U2")
    numbers = np.zeros(n, dtype=np.int64)
    v4 = np.flatnonzero((types == "ipv4") | ((types == "url") & digit_first(hosts)))
    keys4, ok4 = parse_ipv4(hosts[v4].tolist())
    v4 = v4[ok4]
    v6 = np.flatnonzero(types == "ipv6")
    for rows, version in ((v4, 4), (v6, 6)):
        if not len(rows):
            continue
        found = country_codes(hosts[rows].tolist())
        country[rows] = [c or "" for c in found]
        if asn is not None:
            keys, ok = (
                (keys4[ok4], np.ones(len(rows), np.bool_))
                if version == 4
                else parse_ipv6(hosts[rows].tolist())
            )
            numbers[rows] = lookup_asn(asn, version, keys, ok)[0]
    return country, numbers


def load_batch(
    conn: Connection, submission_id: int, asn: AsnTable | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], Batch]:
    """The submission's live assertions: (assertion ids, observable ids, columns)."""
    a, o = assertions.c, observables.c
    query = (
        select(a.id, a.observable_id, o.type, o.value, o.registered_domain, a.threat_type)
        .join(assertions, a.id == assertion_sources.c.assertion_id)
        .join(observables, o.id == a.observable_id)
        .where(assertion_sources.c.submission_id == submission_id, a.revoked_at.is_(None))
        .order_by(a.id)
    )
    rows: Sequence[Any] = conn.execute(query).cursor.fetchall()  # plain tuples: ints, text
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        blank = np.zeros(0, dtype="<U1")
        return empty, empty, Batch(blank, blank, blank, blank, blank, empty)
    ids, obs, types, values, registered, threat = (list(c) for c in zip(*rows, strict=True))
    types_a = np.asarray(types)
    values_a = np.char.lower(np.asarray(values))
    hosts = hosts_of(types_a, values_a)
    country, numbers = _ip_columns(types_a, hosts, asn)
    batch = Batch(
        types=types_a, values=values_a,
        registered=np.asarray([r or "" for r in registered]), threat=np.asarray(threat),
        country=country, asn=numbers, hosts=hosts,
    )  # fmt: skip
    return np.asarray(ids, dtype=np.int64), np.asarray(obs, dtype=np.int64), batch


# -- evaluation ---------------------------------------------------------------------------


def evaluate_submission(
    store: Store, submission_id: int, context: Context | None = None
) -> Summary:
    """Raise the alerts a submission's assertions call for; record it as evaluated."""
    started = time.perf_counter()
    context = context or context_for()
    today = context.today or dt.datetime.now(dt.UTC).date()
    summary = Summary(submission_id=submission_id)
    now = dt.datetime.now(dt.UTC)
    names = {o.id: o.name for o in store.list_orgs()}
    with store.engine.connect() as conn:
        watch = alert_store.watchlists_by_org(conn)
    # grants first: on SQLite every transaction takes the write lock (BEGIN IMMEDIATE)
    grants = {org_id: grant_for(store.viewer(names[org_id]), today) for org_id in watch}
    with store.engine.begin() as conn:
        ids, obs, batch = load_batch(conn, submission_id, context.asn) if watch else (
            np.zeros(0, np.int64), np.zeros(0, np.int64), None)  # fmt: skip
        summary.assertions = len(ids)
        mark = _lap(summary, "read", started)
        found = match_orgs(batch, watch) if batch is not None else None
        matches = [] if found is None else list(zip(
            found.org.tolist(), obs[found.row].tolist(), ids[found.row].tolist(),
            found.reasons.tolist(), strict=True))  # fmt: skip
        mark = _lap(summary, "match", mark)
        alert_store.stage_matches(store, conn, matches)
        for org_id in sorted({m[0] for m in matches}):  # the policy, in SQL, per organisation
            alert_store.keep_visible(conn, org_id, visible(grants[org_id], assertions))
        mark = _lap(summary, "policy", mark)
        raised = alert_store.raise_kept(store, conn, submission_id, now)
        new = raised.new_alerts
        summary.raised = sum(len(v) for v in new.values())
        summary.evidence = raised.evidence
        summary.organisations = raised.organisations
        summary.by_org = {names[o]: len(v) for o, v in sorted(new.items())}
        alert_store.mark_evaluated(store, conn, submission_id, summary.raised, summary.evidence)
        audit.append(
            conn, actor="alerting", org=None, action="evaluate-alerts",
            target=f"submission {submission_id}",
            details={"assertions": summary.assertions, "raised": summary.raised,
                     "evidence": summary.evidence, "by_org": summary.by_org},
        )  # fmt: skip
    mark = _lap(summary, "write", mark)
    if context.deliver:
        for org_id, alert_ids in new.items():
            ok, failed = deliver_alerts(
                store, org_id, names[org_id], grants[org_id], alert_ids, context
            )
            summary.delivered += ok
            summary.failed += failed
        _lap(summary, "deliver", mark)
    summary.seconds = round(time.perf_counter() - started, 4)
    return summary


def deliver_alerts(
    store: Store, org_id: int, org: str, grant: Grant, alert_ids: Sequence[int], context: Context
) -> tuple[int, int]:
    """Send new alerts to the organisation's channels; (deliveries ok, failed). Records
    every outcome on the alerts, and audits what left the instance."""
    channels = [
        delivery.Target(id=c.id, kind=c.kind, target=c.target, secret=c.secret)
        for c in alert_store.list_channels(store, org)
    ]
    if not channels:
        return 0, 0
    ok = failed = 0
    for lo in range(0, len(alert_ids), SEND_CHUNK):
        part = list(alert_ids[lo : lo + SEND_CHUNK])
        try:
            views = alerts_by_id(store, org_id, org, grant, part)
            outcomes = delivery.deliver(org, views, channels, context.delivery)
        except Exception as exc:  # never let delivery undo or break an ingest
            outcomes = {"error": {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}}
            views = []
        alert_store.record_delivery(store, part, outcomes)
        ok += sum(1 for v in outcomes.values() if v.get("ok"))
        failed += sum(1 for v in outcomes.values() if not v.get("ok"))
        audit.record(
            store, OPERATOR, "deliver-alerts", org, actor="alerting",
            details={**audit.id_summary([v.id for v in views]),
                     "channels": {k: bool(v.get("ok")) for k, v in outcomes.items()}},
        )  # fmt: skip
    return ok, failed


def pending(store: Store, since: dt.datetime | None = None) -> list[int]:
    """Ingested submissions to evaluate: those never evaluated, or with ``since`` every
    one completed since then (again: alerts are deduplicated, only new matches count)."""
    s = submissions.c
    query = select(s.id).where(s.status == "ingested").order_by(s.id)
    if since is not None:
        query = query.where(s.completed_at >= since)
    else:
        done = select(alert_runs.c.submission_id)
        query = query.where(s.id.not_in(done))
    with store.engine.connect() as conn:
        found: list[Any] = list(conn.execute(query).scalars())
    return [int(i) for i in found]


def run(
    store: Store, since: dt.datetime | None = None, context: Context | None = None
) -> list[Summary]:
    """Evaluate every pending submission in order."""
    context = context or context_for()
    return [evaluate_submission(store, sid, context) for sid in pending(store, since)]


def evaluate_quietly(store: Store, submission_id: int) -> Summary | None:
    """For ingest paths that must not fail once the submission is in: a problem is logged
    and the submission stays pending for `marsad alerts run`."""
    try:
        return evaluate_submission(store, submission_id)
    except Exception:
        log.exception("alert evaluation of submission %s failed", submission_id)
        return None
