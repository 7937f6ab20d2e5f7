"""What the last analysis covered (watermarks and its graph), and writing clusters by difference.

The state is one row: the highest submission, assertion, relationship and observable ids
the stored clusters were computed from, how many rows lay at or below them, and the
analysed graph itself as numpy columns (``.npz``), so the next run reads only the rows
above the watermarks. Clusters are written by difference: a cluster whose members did not
change keeps its rows, its id and its ``computed_at``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from marsad.store.schema import (
    analysis_state,
    assertions,
    cluster_members,
    clusters,
    observables,
    relationships,
    submissions,
)
from marsad.store.store import Store

Array = np.ndarray[Any, Any]
_CHUNK = 500


class Marks(msgspec.Struct, frozen=True, kw_only=True):
    """Highest ids analysed, and the row counts at or below them."""

    submission_id: int = 0
    assertion_id: int = 0
    relationship_id: int = 0
    observable_id: int = 0
    assertions: int = 0
    relationships: int = 0

    def ids(self) -> tuple[int, int, int, int]:
        """The four watermarks: equal ones mean nothing new arrived."""
        return (self.submission_id, self.assertion_id, self.relationship_id, self.observable_id)


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The analysed graph: nodes (observable ids, ascending), undirected deduplicated edges
    (node indices, one per pair, its heaviest weight), flags, hubs (and those by spread
    alone) and cluster labels (observable id of each node's cluster, -1 for none)."""

    ids: Array
    src: Array
    dst: Array
    weight: Array
    flagged: Array
    spread: Array
    hubs: Array
    labels: Array

    def to_bytes(self) -> bytes:
        """As an uncompressed ``.npz`` (no pickles)."""
        buffer = io.BytesIO()
        np.savez(buffer, **{f: getattr(self, f) for f in self.__struct_fields__})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        """Read what `to_bytes` wrote."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(**{f: z[f] for f in cls.__struct_fields__})


class State(msgspec.Struct, frozen=True, kw_only=True):
    """The state row."""

    run: int
    mode: str
    rule: str
    marks: Marks
    snapshot: Snapshot
    analysed_at: dt.datetime


class Written(msgspec.Struct, frozen=True, kw_only=True):
    """How the stored clusters changed."""

    created: int
    changed: int
    removed: int
    unchanged: int
    total: int


class Conflict(Exception):
    """Another analysis wrote its result after this one read the state."""


def read_state(store: Store) -> State | None:
    """The last analysis's state, or None before the first one (or after `clusters.save`)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(analysis_state).where(analysis_state.c.id == 1)).first()
    if row is None:
        return None
    m = row._mapping
    marks = Marks(**{f: int(m[f]) for f in Marks.__struct_fields__})
    try:
        snapshot = Snapshot.from_bytes(bytes(m["graph"]))
    except (KeyError, ValueError, OSError):  # written by another version: start afresh
        return None
    return State(run=int(m["run"]), mode=str(m["mode"]), rule=str(m["rule"]), marks=marks,
                 snapshot=snapshot,
                 analysed_at=m["analysed_at"])  # fmt: skip


def current_marks(store: Store) -> Marks:
    """The highest ids now (counts are taken by `intact` when they are needed)."""
    with store.engine.connect() as conn:
        top = conn.execute(
            select(
                select(func.max(submissions.c.id)).scalar_subquery(),
                select(func.max(assertions.c.id)).scalar_subquery(),
                select(func.max(relationships.c.id)).scalar_subquery(),
                select(func.max(observables.c.id)).scalar_subquery(),
            )
        ).one()
    return Marks(**dict(zip(("submission_id", "assertion_id", "relationship_id", "observable_id"),
                            (int(v or 0) for v in top), strict=True)))  # fmt: skip


def counted(store: Store, marks: Marks) -> Marks:
    """``marks`` with the number of assertions and relationships at or below its ids."""
    with store.engine.connect() as conn:
        counts: Any = conn.execute(
            select(
                select(func.count()).where(assertions.c.id <= marks.assertion_id).scalar_subquery(),
                select(func.count())
                .where(relationships.c.id <= marks.relationship_id)
                .scalar_subquery(),
            )
        ).one()
    n_a, n_r = counts
    return msgspec.structs.replace(marks, assertions=int(n_a), relationships=int(n_r))


class Stored(msgspec.Struct, frozen=True, kw_only=True):
    """The stored clusters as labels of a graph's nodes, plus what lies outside the graph."""

    labels: Array  # observable id label per node, -1 for none
    stray: list[int]  # members that are no longer nodes (their rows go)
    clusters: list[int]  # every stored cluster id


def stored_labels(store: Store, ids: Array) -> Stored:
    """The stored cluster of each node, for a full run's comparison."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(cluster_members.c.observable_id, cluster_members.c.cluster_id))
        pairs = np.array(rows.all(), dtype=np.int64).reshape(-1, 2)
        kept: list[int] = list(conn.execute(select(clusters.c.id)).scalars())
    labels = np.full(len(ids), -1, dtype=np.int64)
    at = np.searchsorted(ids, pairs[:, 0])
    found = (at < len(ids)) & (ids[np.minimum(at, max(len(ids) - 1, 0))] == pairs[:, 0])
    labels[at[found]] = pairs[found, 1]
    return Stored(labels=labels, stray=pairs[~found, 0].tolist(), clusters=[int(k) for k in kept])


def save(
    store: Store,
    previous_run: int | None,
    mode: str,
    rule: str,
    marks: Marks,
    snapshot: Snapshot,
    old: Stored,
    now: dt.datetime,
) -> Written:
    """Store this run's clusters by difference and its state, in one transaction.

    Raises `Conflict` when another run stored its state since ``previous_run`` was read.
    """
    row = {"run": (previous_run or 0) + 1, "mode": mode, "rule": rule,
           **msgspec.structs.asdict(marks), "graph": snapshot.to_bytes(), "analysed_at": now}  # fmt: skip
    try:
        with store.engine.begin() as conn:
            if previous_run is None:  # the state row first: it takes the write lock
                conn.execute(delete(analysis_state))
                conn.execute(insert(analysis_state).values(id=1, **row))
            else:
                done = conn.execute(
                    update(analysis_state)
                    .where(analysis_state.c.id == 1, analysis_state.c.run == previous_run)
                    .values(**row)
                )
                if done.rowcount != 1:
                    raise Conflict("another analysis stored its clusters meanwhile")
            return _write_clusters(conn, snapshot.ids, old, snapshot.labels, now)
    except IntegrityError as exc:  # two first runs at once: the later one read stale clusters
        raise Conflict("another analysis stored its clusters meanwhile") from exc


def forget(conn: Connection) -> None:
    """Drop the state: clusters were stored some other way, the next run is a full one."""
    conn.execute(delete(analysis_state))


def _write_clusters(
    conn: Connection, ids: Array, stored: Stored, new: Array, now: dt.datetime
) -> Written:
    old = stored.labels
    moved = old != new
    sizes = dict(Counter(new[new >= 0].tolist()))
    before, after = set(stored.clusters), set(sizes)
    touched = set(np.concatenate([old[moved], new[moved]]).tolist()) - {-1}
    created = sorted(touched - before)
    removed = sorted((touched | before) - after)
    changed = sorted(touched & before & after)
    c, m = clusters.c, cluster_members.c
    gone = ids[moved & (old >= 0)].tolist() + stored.stray
    for start in range(0, len(gone), _CHUNK):
        conn.execute(
            delete(cluster_members).where(m.observable_id.in_(gone[start : start + _CHUNK]))
        )
    for start in range(0, len(removed), _CHUNK):
        conn.execute(delete(clusters).where(c.id.in_(removed[start : start + _CHUNK])))
    if created:
        conn.execute(insert(clusters), [{"id": k, "size": int(sizes[k]), "computed_at": now}
                                        for k in created])  # fmt: skip
    if changed:
        conn.execute(
            update(clusters).where(c.id == bindparam("cid"))
            .values(size=bindparam("n"), computed_at=now),
            [{"cid": k, "n": int(sizes[k])} for k in changed],
        )  # fmt: skip
    joined = moved & (new >= 0)
    if joined.any():
        conn.execute(insert(cluster_members), [
            {"observable_id": o, "cluster_id": k}
            for o, k in zip(ids[joined].tolist(), new[joined].tolist(), strict=True)
        ])  # fmt: skip
    return Written(created=len(created), changed=len(changed), removed=len(removed),
                   unchanged=len(after) - len(created) - len(changed), total=len(after))  # fmt: skip
