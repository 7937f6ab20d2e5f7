"""The dashboard: what an organisation sees first, every number read through its grant.

New alerts (unacknowledged, with evidence it may see), its latest submissions, what it may
see by threat type with the weekly trend of the last twelve weeks (one SQL aggregate over
`visible`), and the clusters that concern its country ranked by priority. The clusters come
from the viewer's own graph (`marsad.web.clustering`) and the priority scores of what it may
see (`marsad.analysis.priorities`); scoring reads every visible assertion, so the ranking is
kept per grant like the clusters themselves and loaded into the page after it (htmx), and
each cluster shown is counted again against what the grant covers at that moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Integer, and_, case, cast, func, literal, select
from sqlalchemy.sql import ColumnElement
from starlette.responses import Response

from marsad.access.policy import Action, Grant, Viewer
from marsad.analysis.priorities import cluster_ranking, concerning, observable_scores
from marsad.exchange.auth import settings_of
from marsad.products.activity_data import cctld
from marsad.store import alert_reads, reads
from marsad.store.kept import Build, Kept, progress_of
from marsad.store.schema import assertions
from marsad.store.store import Store
from marsad.web import clustering
from marsad.web.auth import N_, WebCaller, page_permit
from marsad.web.i18n import failure
from marsad.web.render import page, wants_json
from marsad.web.reports import own_country

router = APIRouter(include_in_schema=False)
Reader = Annotated[WebCaller, Depends(page_permit(Action.READ))]
WEEKS = 12
TOP = 8


def weeks_to(today: dt.date) -> list[dt.date]:
    """The Mondays starting the last ``WEEKS`` weeks, the current (partial) week last."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _week_of(store: Store, start: dt.datetime, end: dt.datetime) -> ColumnElement[int]:
    """The week (0 … WEEKS-1) an assertion was first seen in, -1 outside the window."""
    seen = assertions.c.first_seen
    if store.dialect.sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        days = func.julianday(seen) - func.julianday(literal(start.strftime("%Y-%m-%d %H:%M:%S")))
        week = cast(days / 7, Integer)  # truncation is the floor: only later moments count
    else:
        days = func.date_part("epoch", seen - literal(start)) / 86400.0
        week = cast(func.floor(days / 7), Integer)
    return case((and_(seen >= start, seen < end), week), else_=-1)


def threat_trends(
    store: Store, grant: Grant, today: dt.date
) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Visible assertions per threat type (most first), and per type the number first seen
    in each of the last ``WEEKS`` weeks: one aggregate in the database."""
    weeks = weeks_to(today)
    start, end = _at(weeks[0]), _at(weeks[-1] + dt.timedelta(weeks=1))
    week = _week_of(store, start, end).label("week")
    inner = (
        select(assertions.c.threat_type, week).where(reads.visible(grant, assertions)).subquery()
    )
    query = select(inner.c.threat_type, inner.c.week, func.count()).group_by(
        inner.c.threat_type, inner.c.week
    )
    with store.engine.connect() as conn:
        rows: list[Any] = list(conn.execute(query).all())
    counts: dict[str, int] = {}
    trends: dict[str, list[int]] = {}
    for threat, index, n in rows:
        counts[str(threat)] = counts.get(str(threat), 0) + int(n)
        line = trends.setdefault(str(threat), [0] * WEEKS)
        if 0 <= int(index) < WEEKS:
            line[int(index)] += int(n)
    order = sorted(counts, key=lambda t: (-counts[t], t))
    return {t: counts[t] for t in order}, {t: trends[t] for t in order}


@router.get("/")
def dashboard(request: Request, who: Reader) -> Response:
    """New alerts, recent submissions, threat types with their trend, and (loaded after the
    page) the clusters that concern the organisation's country."""
    today = settings_of(request).today()
    counts, trends = threat_trends(who.store, who.grant, today)
    recent = reads.submission_page(who.store, who.grant, limit=10)[:10]
    org_id = who.viewer.org_id
    new_alerts = alert_reads.open_count(who.store, org_id, who.grant) if org_id else 0
    who.audit("dashboard", "/", submissions=[s.id for s in recent], alerts=new_alerts)
    data = {
        "organisation": who.viewer.org_name,
        "role": who.viewer.role.value,
        "country": own_country(who) or None,
        "new_alerts": new_alerts,
        "threat_counts": counts,
        "total": sum(counts.values()),
        "weeks": [w.isoformat() for w in weeks_to(today)],
        "trends": trends,
        "recent_submissions": recent,
        "top_clusters": "/dashboard/clusters",
    }
    return page(request, who, "dashboard.html", data)


Ranked = list[tuple[int, float, int]]
_kept: Kept[Ranked] = Kept(what=N_("Ranking the clusters that concern you"), prebuild=8)
UNEXPECTED = N_("The clusters could not be ranked because of an unexpected error (it has been "
                "logged); reload the page to try again.")  # fmt: skip


def _ranker(store: Store, viewer: Viewer, grant: Grant, country: str,
            clock: Callable[[], dt.datetime]) -> Callable[[Build[Ranked]], Ranked]:  # fmt: skip
    """How the grant's highest-priority clusters concerning ``country`` (every cluster when
    empty) are computed, as (cluster id, priority, members concerning the country); scores
    age from the moment the build runs (``clock``), which may be a later one's rebuild."""

    def compute(build: Build[Ranked]) -> Ranked:
        build.report(N_("Scoring everything your organisation may see"), 1, 3)
        scores, refs = observable_scores(store, viewer, grant, clock())
        build.report(N_("Grouping what you may see into clusters"), 2, 3)
        groups = clustering.groups(store, grant)
        build.report(N_("Ranking the clusters"), 3, 3)
        near = concerning(scores, refs, groups, cctld(country)) if country else {}
        if country:
            groups = {cid: groups[cid] for cid in near}
        return [(cid, score, near.get(cid, 0))
                for cid, score, _ in cluster_ranking(scores, refs, groups, TOP)]  # fmt: skip

    return compute


def ranking(store: Store, viewer: Viewer, grant: Grant, country: str,
            now: dt.datetime) -> Ranked:  # fmt: skip
    """The grant's ranking, kept per grant (waiting for its build when none is kept),
    recomputed in the background once data arrives or five minutes pass."""
    return _kept.wait(store, (grant, country), _ranker(store, viewer, grant, country, lambda: now))


@router.get("/dashboard/clusters")
def top_clusters(request: Request, who: Reader) -> Response:
    """The clusters concerning the organisation's country, highest priority first (the
    dashboard loads this into its page; without scripts it is a page of its own). When the
    ranking is not kept, the answer is the progress of its build in the background, which
    htmx polls until the ranking is shown; the JSON twin waits for it."""
    country = own_country(who)
    fragment = bool(request.headers.get("hx-request")) and not wants_json(request)
    compute = _ranker(who.store, who.viewer, who.grant, country, settings_of(request).now)
    key = (who.grant, country)
    data: dict[str, Any] = {"country": country or None, "clusters": [], "building": None,
                            "error": None, "poll": "/dashboard/clusters"}  # fmt: skip
    got = (_kept.wait(who.store, key, compute) if wants_json(request)
           else _kept.ready(who.store, key, compute, retry=not fragment))  # fmt: skip
    if isinstance(got, Build):
        who.audit("dashboard-clusters", country or "*",
                  state="building" if got.error is None else "failed")  # fmt: skip
        if got.error is not None:
            data["error"] = failure(got.error, who.lang, UNEXPECTED)
        else:
            data["building"] = progress_of(got, _kept)
    else:
        groups = clustering.groups(who.store, who.grant)
        shown: list[dict[str, Any]] = []
        for cid, score, local in got:
            size = len(clustering.still_visible(who.store, who.grant, groups.get(cid, [])))
            if size:  # a cluster whose members are all hidden since does not exist here
                shown.append({"id": cid, "size": size, "priority": score, "concerning": local})
        who.audit("dashboard-clusters", country or "*", clusters=[c["id"] for c in shown])
        data["clusters"] = shown
    return page(request, who, "_top_clusters.html" if fragment else "dashboard_clusters.html", data)
