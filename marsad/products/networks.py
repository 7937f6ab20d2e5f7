"""Networks as one recipient may see them: the stored clusters, cut down to visible evidence.

The stored clusters come from the desk's analysis of all evidence; showing them as they
are would tell a recipient that two of its items are linked through statements it may not
see. So inside each stored cluster only relationships the recipient's grant covers (and
URL → host edges, derived from the values themselves) join members; an item's network is
its component there, labelled by the component's oldest observable id (the stored
cluster's id when the recipient sees the whole cluster connected).

`read_graph` reads the members and their relationships once (for a whole run of reports,
or for the few clusters one product touches), keeping each relationship's marking;
`networks` then asks the policy (`may_see`) once per distinct marking, not once per edge,
and finds the components on the kept edges with one sparse-graph call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import select

from marsad.access.policy import Grant, Mark, may_see, tokens_of
from marsad.analysis.columns import StoreColumns
from marsad.store.schema import cluster_members, observables, relationships
from marsad.store.store import Store

BATCH = 5000
DERIVED = -1  # the mark index of URL → host edges: no statement, always visible


class ClusterGraph(msgspec.Struct, frozen=True, kw_only=True):
    """Members of stored clusters and the edges between members of the same cluster."""

    ids: NDArray[np.int64]  # member observable ids
    src: NDArray[np.int64]  # edge ends, as positions in ids
    dst: NDArray[np.int64]
    mark: NDArray[np.int64]  # index into marks, DERIVED for URL → host
    marks: tuple[Mark, ...]


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(items), BATCH):
        yield items[lo : lo + BATCH]


def _host(url: str) -> str:
    rest = url.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    return rest.strip("[]").rpartition(":")[0] if rest.count(":") == 1 else rest.strip("[]")


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def touched(store: Store, obs_ids: Sequence[int]) -> list[int]:
    """The stored clusters these observables belong to."""
    cm = cluster_members.c
    out: set[int] = set()
    with store.engine.connect() as conn:
        for part in _chunks(list(obs_ids)):
            rows: Sequence[Any] = conn.execute(
                select(cm.cluster_id).where(cm.observable_id.in_(part)).distinct()
            ).all()
            out.update(int(r[0]) for r in rows)
    return sorted(out)


def read_graph(store: Store, clusters: Sequence[int] | None = None) -> ClusterGraph:
    """Members and same-cluster relationships of these clusters (all clusters if None)."""
    cm, o, r = cluster_members.c, observables.c, relationships.c
    query = select(cm.cluster_id, o.id, o.type, o.value).join(observables, o.id == cm.observable_id)
    cols = (r.source_ref, r.target_ref, r.source_org_id, r.tlp, r.pap, r.releasable_to,
            r.retain_until)  # fmt: skip
    members: list[Any] = []
    rels: list[Any] = []
    with store.engine.connect() as conn:
        if clusters is None:
            members = list(conn.execute(query))
        else:
            for part in _chunks(list(clusters)):
                members += conn.execute(query.where(cm.cluster_id.in_(part))).all()
        node = {f"{m[2]}:{m[3]}": k for k, m in enumerate(members)}
        if clusters is None:
            rels = list(conn.execute(select(*cols)))
        else:
            for part in _chunks(list(node)):
                rels += conn.execute(select(*cols).where(r.source_ref.in_(part))).all()
    cluster = [int(m[0]) for m in members]
    marks: dict[tuple[Any, ...], int] = {}
    src: list[int] = []
    dst: list[int] = []
    mark: list[int] = []
    for s, t, source, tlp, pap, rel, retain in rels:
        a, b = node.get(str(s)), node.get(str(t))
        if a is None or b is None or cluster[a] != cluster[b]:
            continue
        key = (int(source), int(tlp), int(pap), str(rel), _date(retain))
        src.append(a)
        dst.append(b)
        mark.append(marks.setdefault(key, len(marks)))
    hs, hd = _url_host_links(members, node, cluster)
    src += hs
    dst += hd
    mark += [DERIVED] * len(hs)
    return ClusterGraph(
        ids=np.array([int(m[1]) for m in members], dtype=np.int64),
        src=np.array(src, dtype=np.int64),
        dst=np.array(dst, dtype=np.int64),
        mark=np.array(mark, dtype=np.int64),
        marks=tuple(
            Mark(owner_org_id=s, source_org_id=s, tlp=t, pap=p, releasable_to=tokens_of(rel),
                 retain_until=retain)
            for s, t, p, rel, retain in marks
        ),
    )  # fmt: skip


def _url_host_links(
    members: Sequence[Any], at: Mapping[str, int], cluster: Any
) -> tuple[list[int], list[int]]:
    """Each member URL's link to its host where the host is a member of the same cluster."""
    src: list[int] = []
    dst: list[int] = []
    for k, m in enumerate(members):
        if m[2] == "url":
            host = _host(str(m[3])).lower()
            for ref in (f"domain:{host}", f"ipv4:{host}", f"ipv6:{host}"):
                h = at.get(ref)
                if h is not None and cluster[h] == cluster[k]:
                    src.append(k)
                    dst.append(h)
    return src, dst


def graph_of_columns(store: Store, cols: StoreColumns) -> ClusterGraph:
    """`read_graph` of every stored cluster, its relationships taken from the store's kept
    columns (`marsad.analysis.columns`) instead of read again: the same members and edges,
    each edge pointing at the columns' marking of its relationship."""
    cm, o = cluster_members.c, observables.c
    query = select(cm.cluster_id, o.id, o.type, o.value).join(observables, o.id == cm.observable_id)
    with store.engine.connect() as conn:
        members: list[Any] = list(conn.execute(query))
    ids = np.array([int(m[1]) for m in members], dtype=np.int64)
    cluster = np.array([int(m[0]) for m in members], dtype=np.int64)
    top = max(int(ids.max(initial=-1)), int(cols.obs_ids.max(initial=-1))) + 1
    node = np.full(top, -1, dtype=np.int64)
    node[ids] = np.arange(len(ids))
    a = np.where(cols.r_src >= 0, node[np.maximum(cols.r_src, 0)], -1)
    b = np.where(cols.r_dst >= 0, node[np.maximum(cols.r_dst, 0)], -1)
    keep = (a >= 0) & (b >= 0)
    keep[keep] = cluster[a[keep]] == cluster[b[keep]]
    src, dst, mark = [a[keep]], [b[keep]], [cols.r_mark[keep]]
    hs, hd = _url_host_links(members, {f"{m[2]}:{m[3]}": k for k, m in enumerate(members)}, cluster)
    src.append(np.array(hs, dtype=np.int64))
    dst.append(np.array(hd, dtype=np.int64))
    mark.append(np.full(len(hs), DERIVED, dtype=np.int64))
    return ClusterGraph(ids=ids, src=np.concatenate(src), dst=np.concatenate(dst),
                        mark=np.concatenate(mark), marks=cols.marks)  # fmt: skip


def networks(
    graph: ClusterGraph, grant: Grant, obs_ids: Sequence[int], *, every_member: bool = False
) -> dict[int, int]:
    """Observable id -> label of the network it belongs to, as far as the grant shows it;
    ``every_member`` also labels members that only link others (no visible statement)."""
    n = len(graph.ids)
    if n == 0:
        return {}
    allowed = np.array([may_see(grant, m) for m in graph.marks] + [True], dtype=bool)
    keep = allowed[graph.mark]  # DERIVED (-1) picks the final True
    adjacency = coo_matrix(
        (np.ones(int(keep.sum())), (graph.src[keep], graph.dst[keep])), shape=(n, n)
    )
    _, comp = connected_components(adjacency, directed=False)
    sizes = np.bincount(comp)
    oldest = np.full(len(sizes), np.iinfo(np.int64).max)
    np.minimum.at(oldest, comp, graph.ids)
    at = {int(i): k for k, i in enumerate(graph.ids.tolist())}
    wanted = at if every_member else obs_ids
    return {i: int(oldest[comp[at[i]]]) for i in wanted if i in at and sizes[comp[at[i]]] > 1}
