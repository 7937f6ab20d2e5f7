"""Priority scores with their reasons, computed on whole columns of assertions.

A score in 0-100 per observable from the assertions a viewer may see: how many
independent sources, the best Admiralty grading, how recent, how often sighted, how
severe the threat type, and whether it concerns the viewer's country. Pure numpy: the
caller hands in columns (one row per assertion), so the same step can run on any engine.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np

Array = np.ndarray[Any, Any]

SEVERITY: dict[str, float] = {
    "c2": 0.9,
    "malware": 0.85,
    "malware-distribution": 0.85,
    "ransomware": 1.0,
    "bec": 0.8,
    "investment-scam": 0.8,
    "phishing": 0.7,
    "romance-scam": 0.7,
    "fraud": 0.6,
    "csam": 1.0,
    "piracy": 0.5,
    "brute-force": 0.5,
    "scanner": 0.3,
    "spam": 0.3,
    "vulnerable-service": 0.3,
    "unknown": 0.2,
    "benign": 0.0,
}
_RELIABILITY = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2, "F": 0.3}
_CREDIBILITY = {1: 1.0, 2: 0.8, 3: 0.6, 4: 0.4, 5: 0.2, 6: 0.3}
WEIGHTS = {
    "sources": 0.25,
    "grading": 0.2,
    "recency": 0.15,
    "sightings": 0.1,
    "severity": 0.2,
    "country": 0.1,
}


class Columns(msgspec.Struct, frozen=True, kw_only=True):
    """One row per visible assertion."""

    observable: Array  # int64 observable id
    source: Array  # int64 source organisation id
    reliability: list[str]
    credibility: Array  # int
    age_days: Array  # float, days since last seen (NaN: unknown)
    sightings: Array  # int
    threat: list[str]
    relevant: Array  # bool: concerns the viewer's country
    # the per-row grade and severity when the caller has them already (`grades`, `severities`)
    grade: Array | None = None
    severity: Array | None = None


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    """Per observable: id, score and the parts it is made of."""

    observable: Array
    score: Array
    sources: Array
    grading: Array
    best_grade: list[str]
    age_days: Array
    sightings: Array
    severity: Array
    worst_threat: list[str]
    relevant: Array

    def reasons(self, i: int) -> list[str]:
        """Why observable ``i`` (a row of this result) scores what it does."""
        out = [
            f"{int(self.sources[i])} independent source(s)",
            f"best grading {self.best_grade[i]}",
        ]
        age = self.age_days[i]
        out.append("last seen: unknown" if np.isnan(age) else f"last seen {age:.0f} day(s) ago")
        out.append(f"{int(self.sightings[i])} sighting(s)")
        out.append(f"threat {self.worst_threat[i]} (severity {self.severity[i]:.2f})")
        if self.relevant[i]:
            out.append("concerns your country")
        return out


def grades(reliability: list[str], credibility: Array) -> Array:
    """Each row's Admiralty grading as a number (reliability x credibility)."""
    return np.array(
        [_RELIABILITY.get(r, 0.3) * _CREDIBILITY.get(int(c), 0.3)
         for r, c in zip(reliability, credibility.tolist(), strict=True)]
    )  # fmt: skip


def severities(threat: list[str]) -> Array:
    """Each row's threat type severity."""
    return np.array([SEVERITY.get(t, 0.4) for t in threat])


def _distinct_pairs(row: Array, source: Array) -> Array:
    """The row (observable) of each distinct (observable, source) pair, sorted: one sort of
    int64 keys instead of ``np.unique(..., axis=1)`` on a stacked pair array."""
    if not len(row):
        return np.asarray(row, dtype=np.int64)
    source = np.asarray(source, dtype=np.int64)
    low = int(source.min())
    key = np.sort(np.asarray(row, dtype=np.int64) * (int(source.max()) - low + 1) + (source - low))
    first = np.r_[True, key[1:] != key[:-1]]
    out: Array = key[first] // (int(source.max()) - low + 1)
    return out


def score(cols: Columns) -> Scores:
    """Group the assertion columns by observable and score each group."""
    ids, row = np.unique(cols.observable, return_inverse=True)
    n = len(ids)
    sources = np.bincount(_distinct_pairs(row, cols.source), minlength=n)
    grade = grades(cols.reliability, cols.credibility) if cols.grade is None else cols.grade
    best = np.zeros(n)
    np.maximum.at(best, row, grade)
    best_row = np.full(n, -1)
    order = np.lexsort((-grade, row))
    first = np.ones(len(order), dtype=bool)
    first[1:] = row[order][1:] != row[order][:-1]
    best_row[row[order][first]] = order[first]
    age = np.where(np.isnan(cols.age_days), np.inf, cols.age_days)
    newest = np.full(n, np.inf)
    np.minimum.at(newest, row, age)
    seen = np.bincount(row, weights=cols.sightings, minlength=n)
    sev = severities(cols.threat) if cols.severity is None else cols.severity
    worst = np.zeros(n)
    np.maximum.at(worst, row, sev)
    worst_row = np.full(n, -1)
    order = np.lexsort((-sev, row))
    first = np.ones(len(order), dtype=bool)
    first[1:] = row[order][1:] != row[order][:-1]
    worst_row[row[order][first]] = order[first]
    relevant = np.zeros(n, dtype=bool)
    np.logical_or.at(relevant, row, cols.relevant.astype(bool))
    recency = np.where(np.isinf(newest), 0.2, np.exp(-np.maximum(newest, 0) / 30.0))
    parts = {
        "sources": np.minimum(sources, 5) / 5.0,
        "grading": best,
        "recency": recency,
        "sightings": np.minimum(np.log1p(seen) / np.log1p(100), 1.0),
        "severity": worst,
        "country": relevant.astype(float),
    }
    total = 100.0 * sum(WEIGHTS[k] * v for k, v in parts.items())
    return Scores(
        observable=ids,
        score=np.round(total, 1),
        sources=sources,
        grading=best,
        best_grade=[f"{cols.reliability[j]}{int(cols.credibility[j])}" for j in best_row],
        age_days=np.where(np.isinf(newest), np.nan, newest),
        sightings=seen,
        severity=worst,
        worst_threat=[cols.threat[j] for j in worst_row],
        relevant=relevant,
    )


def cluster_scores(member_scores: dict[int, list[float]]) -> dict[int, tuple[float, list[str]]]:
    """A cluster's priority: its strongest members, and a little for its size."""
    out: dict[int, tuple[float, list[str]]] = {}
    for cid, values in member_scores.items():
        top = sorted(values, reverse=True)[:5]
        size_bonus = min(np.log10(max(len(values), 1)) / 3.0, 1.0) * 10.0
        total = round(min(100.0, float(np.mean(top)) * 0.9 + size_bonus), 1)
        out[cid] = (total, [f"{len(values)} scored member(s)", f"top member score {top[0]:.1f}"])
    return out
