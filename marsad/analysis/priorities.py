"""Read the columns scoring needs, through the access policy, and rank the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import DateTime, func, literal, select
from sqlalchemy.sql import ColumnElement

from marsad.access.policy import Grant, Viewer
from marsad.analysis.scoring import Columns, Scores, cluster_scores, score
from marsad.enrich.geo import country_codes
from marsad.store.schema import assertions, observables, organisations
from marsad.store.store import Store
from marsad.store.visibility import visible


class Ranked(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a desk's work list."""

    ref: str
    score: float
    reasons: list[str]


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


def ranked(scores: Scores, refs: dict[int, str], limit: int) -> list[Ranked]:
    """The highest-scoring observables first."""
    order = np.argsort(-scores.score, kind="stable")[:limit]
    return [
        Ranked(
            ref=refs[int(scores.observable[i])],
            score=float(scores.score[i]),
            reasons=scores.reasons(int(i)),
        )
        for i in order
    ]


def cluster_ranking(
    scores: Scores, refs: dict[int, str], groups: dict[int, list[str]], limit: int
) -> list[tuple[int, float, list[str]]]:
    """(cluster id, priority, reasons) of the highest-priority clusters, from their members'
    scores."""
    by_ref = {refs[int(o)]: float(s) for o, s in zip(scores.observable, scores.score, strict=True)}
    members = {cid: [by_ref[r] for r in group if r in by_ref] for cid, group in groups.items()}
    found = cluster_scores({k: v for k, v in members.items() if v})
    order = sorted(found.items(), key=lambda kv: -kv[1][0])[:limit]
    return [(cid, float(s), why) for cid, (s, why) in order]


def ranked_clusters(
    scores: Scores, refs: dict[int, str], groups: dict[int, list[str]], limit: int
) -> list[Ranked]:
    """Clusters ordered by priority, from their members' scores."""
    return [
        Ranked(ref=f"cluster {cid}", score=s, reasons=why)
        for cid, s, why in cluster_ranking(scores, refs, groups, limit)
    ]


def _host(ref: str) -> str:
    kind, _, value = ref.partition(":")
    if kind != "url":
        return value
    return value.partition("://")[2].split("/", 1)[0].rpartition("@")[2].split(":", 1)[0]


def concerning(
    scores: Scores, refs: dict[int, str], groups: dict[int, list[str]], tld: str
) -> dict[int, int]:
    """Cluster id -> how many members concern the viewer's country: reported by one of its
    organisations or an address located there (the score's own test), or a domain or URL
    under its country-code top-level domain ``tld``. Clusters with none are left out."""
    local = {refs[int(o)] for o, r in zip(scores.observable, scores.relevant, strict=True) if r}
    suffix = f".{tld.lower()}"
    out: dict[int, int] = {}
    for cid, group in groups.items():
        n = sum(
            1 for ref in group
            if ref in local or (ref.startswith(("domain:", "url:")) and _host(ref).endswith(suffix))
        )  # fmt: skip
        if n:
            out[cid] = n
    return out
