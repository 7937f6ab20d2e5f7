"""The viewer's clusters for the pages: computed from the viewer's own graph, cached, refiltered.

Clusters are those `marsad cluster show --as ORG` computes: from `load_graph(grant)` (here
`graph_of`, the same graph made on the store's kept columns), so no grouping rests on
evidence the viewer may not see. Building them costs seconds on a large
instance, so each grant's clusters are kept (`marsad.store.kept`) until the store changes: a
write that commits (a submission, a tightened marking, an analysis) makes the next page
compute them again. Members are still filtered on every view against what the grant
covers now, and a cluster's description and evidence are read afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from marsad.access.policy import Grant
from marsad.analysis.columns import kept_columns
from marsad.analysis.infrastructure import Values, clusters_of, graph_of, members, stored_values
from marsad.store.kept import Kept
from marsad.store.reads import visible
from marsad.store.schema import assertions, observables, relationships
from marsad.store.store import Store

_CHUNK = 500


class _Entry:
    def __init__(self, groups: dict[int, list[str]]) -> None:
        self.groups = groups
        self.where = {ref: cid for cid, refs in groups.items() for ref in refs}


_kept: Kept[_Entry] = Kept(ttl=None)  # made from the data and the grant alone
_values: Kept[Values] = Kept(size=2, ttl=None)  # made from the data alone


def stored(store: Store) -> Values:
    """Every stored value with its URL → host links and warninglist flags: the same for every
    grant, so read once per store version for all of them."""
    return _values.get(store, "values", lambda: stored_values(store))


def _entry(store: Store, grant: Grant) -> _Entry:
    def compute() -> _Entry:
        graph = graph_of(kept_columns(store), grant, stored(store))
        return _Entry(members(graph, clusters_of(graph)))

    return _kept.get(store, grant, compute)


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
