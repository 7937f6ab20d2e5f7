"""`marsad analyse`, incrementally: read only what arrived since the last run, relabel only
the components it reaches, write only the clusters that changed.

The last run left its graph (nodes, deduplicated edges, flags, hubs, labels) and the
highest ids it covered in the analysis state. A run reads the assertions, relationships
and observables above those ids, adds the nodes and edges they bring (a relationship
whose end was not yet a value becomes an edge once the value arrives; a URL and its host
are linked once both are used), re-checks the over-correlation flag of the values new
submissions mention, and clusters with `graph.cluster(previous=…)`: the hub pass runs on
the whole graph (it is one community detection, and a few hundred milliseconds), then
only the components of the pruned graph that a change reaches are labelled again. The
result is the full run's, cluster ids included. A full run happens with ``full=True``, on
the first run, when the hub rule changed, or when rows at or below the watermarks were
removed or committed late (their counts changed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import and_, func, or_, select

from marsad.access.policy import EVERYTHING
from marsad.analysis.correlation import CorrelationRule
from marsad.analysis.graph import Array, Clustering, HubRule, Previous, cluster, dedup, distinct
from marsad.analysis.infrastructure import (
    DEFAULT_WEIGHT,
    EDGE_WEIGHT,
    HOST_TYPES,
    load_graph,
    url_host,
)
from marsad.model.errors import MarsadError
from marsad.store import analysis_state as st
from marsad.store.schema import assertion_sources, assertions, observables, relationships
from marsad.store.store import Store

log = logging.getLogger(__name__)
_CHUNK = 500


class Run(msgspec.Struct, frozen=True, kw_only=True):
    """What one analysis did."""

    mode: str  # full | incremental | unchanged
    reason: str | None = None  # why it was a full run
    nodes: int
    edges: int
    nodes_added: int = 0
    edges_added: int = 0
    components_touched: int = 0
    clusters: int
    created: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    hubs_pruned: list[str] = msgspec.field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for people."""
        if self.mode == "unchanged":
            return f"analysis: nothing new since the last run ({self.clusters:,} clusters kept)"
        if self.mode == "full":
            what = f"full ({self.reason}): {self.edges:,} edges, {self.nodes:,} values"
        else:
            what = (
                f"incremental: {self.edges_added:,} edges and {self.nodes_added:,} values added, "
                f"{self.components_touched:,} components touched"
            )
        return (
            f"analysis {what}; clusters {self.created:,} created, "
            f"{self.changed:,} changed, {self.removed:,} removed, {self.unchanged:,} unchanged "
            f"({self.clusters:,} in all) in {self.seconds:.2f}s"
        )


class Delta(msgspec.Struct, frozen=True, kw_only=True):
    """What arrived above the watermarks, in observable ids."""

    nodes: Array  # values that are now used (asserted or linked), old ones included
    a: Array  # new edges
    b: Array
    weight: Array
    flagged: Array  # values over-correlating (re-checked or new)


def analyse(store: Store, *, full: bool = False, rule: HubRule | None = None) -> Run:
    """Bring the stored clusters up to date with the store (see the module docstring)."""
    for _ in range(3):
        try:
            return _analyse_once(store, full, rule or HubRule())
        except st.Conflict:  # another run stored meanwhile: start again from its state
            continue
    raise MarsadError("three analyses ran at the same time as this one: run it again")


def _analyse_once(store: Store, full: bool, rule: HubRule) -> Run:
    started = time.perf_counter()
    rule_json = msgspec.json.encode(rule).decode()
    state = st.read_state(store)
    marks = st.current_marks(store)
    reason = "asked for" if full else None
    if state is None:
        reason = reason or "no earlier analysis"
    elif reason is None and state.rule != rule_json:
        reason = "the hub rule changed"
    elif reason is None:
        if _late_rows(store, state.marks):
            reason = "records were committed out of id order since the last run"
        elif marks.ids() == state.marks.ids():
            snap = state.snapshot
            total = len(distinct(snap.labels[snap.labels >= 0]))
            kept = st.Written(created=0, changed=0, removed=0, unchanged=total, total=total)
            return _run("unchanged", None, snap, kept, started, store, nodes_added=0,
                        edges_added=0, touched=0)  # fmt: skip
    if reason is not None:
        return _full(store, state, marks, rule, rule_json, reason, started)
    assert state is not None
    return _incremental(store, state, marks, rule, rule_json, started)


def _late_rows(store: Store, marks: st.Marks) -> bool:
    """Whether rows appeared at or below the watermarks after they were read.

    PostgreSQL hands out ids before commit, so a long transaction can commit rows below a
    watermark later; their counts show it. SQLite allocates ids under its one writer lock,
    so only a deletion could change them, and deleting (retention purge) drops the state.
    """
    if store.dialect.sqlite:
        return False
    now = st.counted(store, marks)
    return (now.assertions, now.relationships) != (marks.assertions, marks.relationships)


def _counted(store: Store, marks: st.Marks) -> st.Marks:
    return marks if store.dialect.sqlite else st.counted(store, marks)


def _full(store: Store, state: st.State | None, marks: st.Marks, rule: HubRule, rule_json: str,
          reason: str, started: float) -> Run:  # fmt: skip
    graph = load_graph(store, EVERYTHING)
    n = len(graph.ids)
    src, dst, weight = dedup(n, graph.src, graph.dst, graph.weight)
    flagged = np.zeros(n, dtype=bool) if graph.flagged is None else graph.flagged.astype(bool)
    found = cluster(n, src, dst, weight, flagged, rule)
    snapshot = _snapshot(graph.ids, src, dst, weight, flagged, found, found.labels)
    old = st.stored_labels(store, graph.ids)
    written = st.save(store, state.run if state else None, "full", rule_json,
                      _counted(store, marks), snapshot, old, dt.datetime.now(dt.UTC))  # fmt: skip
    return _run("full", reason, snapshot, written, started, store,
                nodes_added=n, edges_added=len(src),
                touched=len(distinct(found.labels[found.labels >= 0])))  # fmt: skip


def _incremental(store: Store, state: st.State, marks: st.Marks, rule: HubRule, rule_json: str,
                 started: float) -> Run:  # fmt: skip
    snap = state.snapshot
    delta = read_delta(store, state.marks, marks, snap.ids)
    ids = distinct(np.r_[snap.ids, delta.nodes])
    n, pos = len(ids), np.searchsorted(ids, snap.ids)
    fresh = np.ones(n, dtype=bool)
    fresh[pos] = False
    a, b = np.searchsorted(ids, delta.a), np.searchsorted(ids, delta.b)
    src, dst, weight = dedup(n, np.r_[pos[snap.src], a], np.r_[pos[snap.dst], b],
                             np.r_[snap.weight, delta.weight])  # fmt: skip
    flagged = np.zeros(n, dtype=bool)
    flagged[pos] = snap.flagged
    flagged[np.searchsorted(ids, delta.flagged)] = True
    changed = fresh | (flagged != _at(pos, snap.flagged, n, False))
    changed[a] = changed[b] = True
    old_labels = _at(pos, snap.labels, n, -1)
    as_index = np.full(n, -1, dtype=np.int64)
    has = old_labels >= 0
    as_index[has] = np.searchsorted(ids, old_labels[has])
    same = (len(src) == len(snap.src) and np.array_equal(src, pos[snap.src])
            and np.array_equal(dst, pos[snap.dst]) and np.array_equal(weight, snap.weight))  # fmt: skip
    previous = Previous(labels=as_index, hubs=_at(pos, snap.hubs, n, False), changed=changed,
                        spread=_at(pos, snap.spread, n, False) if same else None)  # fmt: skip
    found = cluster(n, src, dst, weight, flagged, rule, previous)
    snapshot = _snapshot(ids, src, dst, weight, flagged, found, found.labels)
    before = distinct(snap.labels[snap.labels >= 0]).tolist()
    old = st.Stored(labels=old_labels, stray=[], clusters=before)
    written = st.save(store, state.run, "incremental", rule_json, _counted(store, marks),
                      snapshot, old, dt.datetime.now(dt.UTC))  # fmt: skip
    return _run("incremental", None, snapshot, written, started, store,
                nodes_added=int(fresh.sum()), edges_added=len(src) - len(snap.src),
                touched=found.touched)  # fmt: skip


def _at(pos: Array, values: Array, n: int, fill: Any) -> Array:
    """``values`` of the old nodes placed at their new positions among ``n``."""
    out = np.full(n, fill, dtype=values.dtype)
    out[pos] = values
    return out


def _snapshot(ids: Array, src: Array, dst: Array, weight: Array, flagged: Array,
              found: Clustering, labels: Array) -> st.Snapshot:  # fmt: skip
    """Node-index labels become observable-id labels (the cluster ids)."""
    named = np.where(labels >= 0, ids[np.maximum(labels, 0)], -1) if len(ids) else labels
    spread = found.hubs & ~flagged if found.spread is None else found.spread
    return st.Snapshot(ids=ids, src=src, dst=dst, weight=weight, flagged=flagged, spread=spread,
                       hubs=found.hubs, labels=named.astype(np.int64))  # fmt: skip


def _run(mode: str, reason: str | None, snap: st.Snapshot, written: st.Written, started: float,
         store: Store, *, nodes_added: int, edges_added: int, touched: int) -> Run:  # fmt: skip
    hubs = snap.ids[snap.hubs].tolist()
    names = dict(_refs_of(store, hubs))
    return Run(mode=mode, reason=reason, nodes=len(snap.ids), edges=len(snap.src),
               nodes_added=nodes_added, edges_added=edges_added, components_touched=touched,
               clusters=written.total, created=written.created, changed=written.changed,
               removed=written.removed, unchanged=written.unchanged,
               hubs_pruned=[names[i] for i in hubs if i in names],
               seconds=round(time.perf_counter() - started, 3))  # fmt: skip


# -- what arrived above the watermarks ---------------------------------------------------------


def read_delta(store: Store, old: st.Marks, new: st.Marks, used: Array) -> Delta:
    """Nodes, edges and flags that the rows between ``old`` and ``new`` bring to the graph."""
    a, r, o = assertions.c, relationships.c, observables.c
    with store.engine.connect() as conn:
        asserted: list[int] = list(conn.execute(
            select(a.observable_id).where(a.id > old.assertion_id, a.id <= new.assertion_id)
            .distinct()
        ).scalars())  # fmt: skip
        rels: list[tuple[str, str, str]] = [(str(s), str(t), str(k)) for s, t, k in conn.execute(
            select(r.source_ref, r.target_ref, r.type)
            .where(r.id > old.relationship_id, r.id <= new.relationship_id)
        )]  # fmt: skip
        arrived = [f"{t}:{v}" for t, v in conn.execute(
            select(o.type, o.value).where(o.id > old.observable_id, o.id <= new.observable_id)
        )]  # fmt: skip
        for chunk in _chunks(arrived):  # relationships that waited for one of their ends
            rels += [(str(s), str(t), str(k)) for s, t, k in conn.execute(
                select(r.source_ref, r.target_ref, r.type)
                .where(or_(r.source_ref.in_(chunk), r.target_ref.in_(chunk)),
                       r.id <= new.relationship_id)
            )]  # fmt: skip
        mentioned: list[int] = list(conn.execute(
            select(a.observable_id)
            .join(assertion_sources, assertion_sources.c.assertion_id == a.id)
            .where(assertion_sources.c.submission_id > old.submission_id,
                   assertion_sources.c.submission_id <= new.submission_id)
            .distinct()
        ).scalars())  # fmt: skip
        busy = _busy(conn, mentioned)
        ends = _ids_of(conn, {ref for s, t, _ in rels for ref in (s, t)})
        pairs = [(ends[s], ends[t], EDGE_WEIGHT.get(k, DEFAULT_WEIGHT))
                 for s, t, k in rels if s in ends and t in ends]  # fmt: skip
        linked = np.array([x for p in pairs for x in p[:2]], dtype=np.int64)
        nodes = distinct(np.r_[np.asarray(asserted, dtype=np.int64), linked])
        added = nodes[~np.isin(nodes, used)]
        hosts, warned = _url_hosts(conn, added, distinct(np.r_[used, nodes]))
    pairs += [(u, h, EDGE_WEIGHT["url-host"]) for u, h in hosts]
    return Delta(
        nodes=nodes,
        a=np.array([p[0] for p in pairs], dtype=np.int64),
        b=np.array([p[1] for p in pairs], dtype=np.int64),
        weight=np.array([p[2] for p in pairs], dtype=np.float64),
        flagged=_within(distinct(np.r_[busy, warned]), used, nodes),
    )


def _within(values: Array, used: Array, nodes: Array) -> Array:
    """``values`` that are nodes of the graph (old or new)."""
    return values[np.isin(values, used) | np.isin(values, nodes)]


def _busy(conn: Any, mentioned: Sequence[int]) -> Array:
    """Of these values, those reported in more submissions than correlation allows."""
    limit = CorrelationRule().max_submissions
    a, s = assertions.c, assertion_sources.c
    found: list[int] = []
    for chunk in _chunks(list(mentioned)):
        found += conn.execute(
            select(a.observable_id).join(assertion_sources, s.assertion_id == a.id)
            .where(a.observable_id.in_(chunk)).group_by(a.observable_id)
            .having(func.count(s.submission_id.distinct()) > limit)
        ).scalars().all()  # fmt: skip
    return np.asarray(found, dtype=np.int64)


def _url_hosts(conn: Any, added: Array, used: Array) -> tuple[list[tuple[int, int]], Array]:
    """URL → host edges that newly used values bring (either end new), and which of the new
    values a warninglist names."""
    from marsad.store.correlation_reads import warninglist_names

    o = observables.c
    info: list[tuple[int, str, str, str | None]] = []
    for chunk in _chunks(added.tolist()):
        info += [(int(i), str(t), str(v), d) for i, t, v, d in conn.execute(
            select(o.id, o.type, o.value, o.registered_domain).where(o.id.in_(chunk)))]  # fmt: skip
    listed = warninglist_names([(t, v) for _, t, v, _ in info])
    warned = np.array([i for (i, *_), names in zip(info, listed, strict=True) if names],
                      dtype=np.int64)  # fmt: skip
    host_of = {i: url_host(v) for i, t, v, _ in info if t == "url"}
    targets = _ids_of(conn, {f"{k}:{h}" for h in host_of.values() if h for k in HOST_TYPES})
    edges = [(u, targets[f"{k}:{h}"]) for u, h in host_of.items() for k in HOST_TYPES
             if f"{k}:{h}" in targets]  # fmt: skip
    new_hosts = {v: i for i, t, v, _ in info if t in HOST_TYPES}
    domains = sorted({d for _, t, _, d in info if t in HOST_TYPES and d is not None})
    wanted = [and_(o.type == "url", o.registered_domain.in_(c)) for c in _chunks(domains)]
    if any(d is None for _, t, _, d in info if t in HOST_TYPES):  # IP hosts, odd names
        wanted.append(and_(o.type == "url", o.registered_domain.is_(None)))
    for condition in wanted:
        for i, value in conn.execute(select(o.id, o.value).where(condition)):
            target = new_hosts.get(url_host(str(value)))
            if target is not None:
                edges.append((int(i), target))
    if edges:  # both ends must be used values
        pair = np.array(edges, dtype=np.int64)
        keep = np.isin(pair[:, 0], used) & np.isin(pair[:, 1], used)
        edges = [(int(u), int(h)) for u, h in pair[keep]]
    return edges, warned


def _ids_of(conn: Any, refs: Iterable[str]) -> dict[str, int]:
    """Observable id of each ``type:value`` that exists."""
    by_type: dict[str, list[str]] = {}
    for ref in refs:
        kind, _, value = ref.partition(":")
        by_type.setdefault(kind, []).append(value)
    o = observables.c
    out: dict[str, int] = {}
    for kind, values in by_type.items():
        for chunk in _chunks(sorted(set(values))):
            for i, v in conn.execute(
                select(o.id, o.value).where(o.type == kind, o.value.in_(chunk))
            ):
                out[f"{kind}:{v}"] = int(i)
    return out


def _refs_of(store: Store, ids: list[int]) -> Iterable[tuple[int, str]]:
    o = observables.c
    with store.engine.connect() as conn:
        for chunk in _chunks(ids):
            rows: Sequence[Any] = conn.execute(
                select(o.id, o.type, o.value).where(o.id.in_(chunk))
            ).all()
            for i, t, v in rows:
                yield int(i), f"{t}:{v}"


def _chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


# -- after ingest -----------------------------------------------------------------------------


def after_ingest(store: Store) -> tuple[Run | None, str | None]:
    """For ingest paths: the run, or the error that stopped it (logged; the submission is in
    and the next run catches up)."""
    try:
        return analyse(store), None
    except Exception as exc:
        log.exception("analysis after ingest failed")
        return None, (f"the analysis after ingest failed ({type(exc).__name__}: {exc}); the "
                      "submission is stored, run `marsad analyse` to bring the clusters up to date")  # fmt: skip
