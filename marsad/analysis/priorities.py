"""Read the columns scoring needs, through the access policy, and rank the work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from marsad.access.policy import Grant, Viewer
from marsad.analysis.columns import StoreColumns, age_days, kept_columns, masks
from marsad.analysis.scoring import Columns, Scores, cluster_scores, grades, score, severities
from marsad.store.store import Store


class Ranked(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a desk's work list."""

    ref: str
    score: float
    reasons: list[str]


def observable_scores(
    store: Store, viewer: Viewer, grant: Grant, now: dt.datetime | None = None,
    columns: StoreColumns | None = None,
) -> tuple[Scores, dict[int, str]]:  # fmt: skip
    """Scores of every observable the viewer may see, and their references by id: from the
    store's kept columns (`marsad.analysis.columns`), rows chosen by the policy's answer per
    distinct marking, in assertion id order."""
    now = now or dt.datetime.now(dt.UTC)
    country = store.org(viewer.org_name).country if viewer.org_name else None
    cols = columns or kept_columns(store)
    seen, _ = masks(cols, grant)
    rows = np.flatnonzero(seen)
    obs = cols.a_obs[rows]
    if country is None:
        relevant = np.zeros(len(rows), dtype=bool)
    else:
        relevant = (cols.a_relevant_to[rows] == country) | (cols.a_located_in[rows] == country)
    ids = np.unique(obs)
    refs = dict(
        zip(ids.tolist(), cols.obs_refs[np.searchsorted(cols.obs_ids, ids)].tolist(), strict=True)
    )
    scored = Columns(
        observable=obs,
        source=cols.a_source[rows],
        reliability=cols.a_reliability[rows].tolist(),
        credibility=cols.a_credibility[rows],
        age_days=age_days(store, cols, now)[rows],
        sightings=cols.a_sightings[rows],
        threat=cols.a_threat[rows].tolist(),
        relevant=relevant.astype(bool),
        grade=_per_row(
            cols, "grade", lambda: grades(cols.a_reliability.tolist(), cols.a_credibility)
        )[rows],
        severity=_per_row(cols, "severity", lambda: severities(cols.a_threat.tolist()))[rows],
    )
    return score(scored), refs


def _per_row(cols: StoreColumns, name: str, make: Callable[[], Any]) -> Any:
    """A column derived from the row alone (its grading, its severity): once per snapshot."""
    if name not in cols.memo:
        cols.memo[name] = make()
    return cols.memo[name]


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
