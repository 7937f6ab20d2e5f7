"""The scoring read as it was before the kept columns: row by row through the SQL predicate.

A verbatim copy of `marsad.analysis.priorities.observable_scores` (and its age expression)
at the commit before `marsad.analysis.columns`, kept as the oracle the columnar scores are
compared with on generated stores. One change: the rows are ordered by assertion id, the
order SQLite's plan scanned them in; PostgreSQL's planner gave them in no defined order, so
among equally graded (or equally severe) assertions of one value the reason named the
first that came.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import DateTime, func, literal, select
from sqlalchemy.sql import ColumnElement

from marsad.access.policy import Grant, Viewer
from marsad.analysis.scoring import Columns, Scores, score
from marsad.enrich.geo import country_codes
from marsad.store.schema import assertions, observables, organisations
from marsad.store.store import Store
from marsad.store.visibility import visible


def observable_scores(
    store: Store, viewer: Viewer, grant: Grant, now: dt.datetime | None = None
) -> tuple[Scores, dict[int, str]]:
    """Scores of every observable the viewer may see, and their references by id."""
    now = now or dt.datetime.now(dt.UTC)
    country = store.org(viewer.org_name).country if viewer.org_name else None
    with store.engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(
            select(
                assertions.c.observable_id, assertions.c.source_org_id,
                assertions.c.reliability, assertions.c.credibility, _age_days(store, now),
                assertions.c.sightings, assertions.c.threat_type, organisations.c.country,
                observables.c.type, observables.c.value,
            )
            .join(organisations, organisations.c.id == assertions.c.source_org_id)
            .join(observables, observables.c.id == assertions.c.observable_id)
            .where(visible(grant, assertions))
            .order_by(assertions.c.id)  # the only change: SQLite's scan order on both engines
        ).all()  # fmt: skip
    refs = {int(r[0]): f"{r[8]}:{r[9]}" for r in rows}
    ip_rows = [i for i, r in enumerate(rows) if r[8] in ("ipv4", "ipv6")]
    located = dict(zip(ip_rows, country_codes([rows[i][9] for i in ip_rows]), strict=True))
    ages = [np.nan if r[4] is None else float(r[4]) for r in rows]
    cols = Columns(
        observable=np.array([r[0] for r in rows], dtype=np.int64),
        source=np.array([r[1] for r in rows], dtype=np.int64),
        reliability=[str(r[2]) for r in rows],
        credibility=np.array([r[3] for r in rows], dtype=np.int64),
        age_days=np.array(ages, dtype=float),
        sightings=np.array([r[5] for r in rows], dtype=np.float64),
        threat=[str(r[6]) for r in rows],
        relevant=np.array(
            [country is not None and (r[7] == country or located.get(i) == country)
             for i, r in enumerate(rows)], dtype=bool,
        ),
    )  # fmt: skip
    return score(cols), refs


def _age_days(store: Store, now: dt.datetime) -> ColumnElement[Any]:
    """Days from an assertion's last sighting to ``now``, computed by the database (parsing
    every timestamp in Python cost more than the rest of the scoring)."""
    seen = assertions.c.last_seen
    if store.dialect.sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        moment = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return func.julianday(literal(moment)) - func.julianday(seen)
    return func.extract("epoch", literal(now, DateTime(timezone=True)) - seen) / 86400.0
