"""The viewer's clusters for the pages: computed from the viewer's own graph, cached, refiltered.

Clusters are those `marsad cluster show --as ORG` computes: from `load_graph(grant)`, so no
grouping rests on evidence the viewer may not see. Building them costs seconds on a large
instance, so each grant's clusters are kept and served while a new computation runs in
the background once data arrives (a new submission) or five minutes pass. Whatever a
cached grouping says, a cluster's members are filtered again on every view against what
the grant covers now, so a member hidden since (a tightened marking, an expiry) never shows,
and its description and evidence are read afresh; only the grouping itself may lag a
tightened marking by up to five minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from marsad.access.policy import Grant
from marsad.analysis.infrastructure import clusters_of, load_graph, members
from marsad.store.reads import visible
from marsad.store.schema import assertions, observables, relationships, submissions
from marsad.store.store import Store

TTL = 300.0
_CHUNK = 500


class _Entry:
    def __init__(self, version: int, groups: dict[int, list[str]]) -> None:
        self.at = time.monotonic()
        self.version = version
        self.groups = groups
        self.where = {ref: cid for cid, refs in groups.items() for ref in refs}


_cache: dict[tuple[int, Grant], _Entry] = {}
_running: set[tuple[int, Grant]] = set()
_lock = threading.Lock()


def _version(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(submissions.c.id), 0))).scalar_one())


def _compute(store: Store, grant: Grant, version: int) -> _Entry:
    graph = load_graph(store, grant)
    entry = _Entry(version, members(graph, clusters_of(graph)))
    with _lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[(id(store), grant)] = entry
    return entry


def _refresh(store: Store, grant: Grant, version: int) -> None:
    key = (id(store), grant)
    try:
        _compute(store, grant, version)
    finally:
        with _lock:
            _running.discard(key)


def _entry(store: Store, grant: Grant) -> _Entry:
    key, version = (id(store), grant), _version(store)
    with _lock:
        hit = _cache.get(key)
        fresh = hit is not None and hit.version == version and time.monotonic() - hit.at < TTL
        start = hit is not None and not fresh and key not in _running
        if start:
            _running.add(key)
    if hit is None:
        return _compute(store, grant, version)
    if start:  # serve the last grouping while the new one is computed
        threading.Thread(target=_refresh, args=(store, grant, version), daemon=True).start()
    return hit


def groups(store: Store, grant: Grant) -> dict[int, list[str]]:
    """The viewer's clusters: id → member refs, largest first."""
    return _entry(store, grant).groups


def cluster_of(store: Store, grant: Grant, ref: str) -> int | None:
    """The id of the viewer's cluster holding ``ref``, if any."""
    return _entry(store, grant).where.get(ref)


def still_visible(store: Store, grant: Grant, refs: Sequence[str]) -> list[str]:
    """The refs (in order) that the grant covers now: a visible assertion or relationship."""
    by_type: dict[str, list[str]] = {}
    for ref in refs:
        kind, _, value = ref.partition(":")
        by_type.setdefault(kind, []).append(value)
    seen: set[str] = set()
    with store.engine.connect() as conn:
        for kind, values in by_type.items():  # (type, value) is the unique index: one type each
            for start in range(0, len(values), _CHUNK):
                rows: Any = conn.execute(
                    select(observables.c.value)
                    .join(assertions, assertions.c.observable_id == observables.c.id)
                    .where(observables.c.type == kind,
                           observables.c.value.in_(values[start : start + _CHUNK]),
                           visible(grant, assertions))
                    .distinct()
                )  # fmt: skip
                seen.update(f"{kind}:{v}" for (v,) in rows)
        rest = [r for r in refs if r not in seen]  # members known only through a relationship
        for start in range(0, len(rest), _CHUNK):
            chunk = rest[start : start + _CHUNK]
            for column in (relationships.c.source_ref, relationships.c.target_ref):
                found: Any = conn.execute(
                    select(column)
                    .where(column.in_(chunk), visible(grant, relationships))
                    .distinct()
                )
                seen.update(r for (r,) in found)
    return [r for r in refs if r in seen]
