"""The infrastructure graph of what one viewer may see, and its clusters.

Nodes are observables with at least one visible assertion or a visible relationship;
edges are visible relationships between observables (resolutions, name servers,
registrants, tracking ids, wallets, STIX relationships) plus URL → host edges derived from
the values themselves. Everything is read through the access policy's SQL predicate, so
a viewer's clusters are built only from evidence that viewer may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec
import numpy as np
from sqlalchemy import select

from marsad.access.policy import Grant
from marsad.analysis.columns import StoreColumns, busy_observables, masks, raw_rows, release
from marsad.analysis.correlation import CorrelationRule
from marsad.analysis.graph import Array, Clustering, HubRule, cluster, distinct
from marsad.store.schema import assertions, observables, organisations, relationships
from marsad.store.store import Store
from marsad.store.visibility import visible

EDGE_WEIGHT: dict[str, float] = {
    "resolves-to": 1.0,
    "uses-tracking-id": 1.0,
    "receives-payments-to": 1.0,
    "url-host": 1.0,
    "redirects-to": 1.0,
    "mirror-of": 1.0,
    "registered-by": 0.8,
    "communicates-with": 0.8,
    "downloaded-from": 0.8,
    "lists-contact": 0.7,
    "uses-name-server": 0.6,
}
DEFAULT_WEIGHT = 0.5


class Graph(msgspec.Struct, frozen=True, kw_only=True):
    """Observables as nodes 0..n-1 (in observable id order) and typed, weighted edges."""

    ids: Array  # observable id per node
    refs: list[str]  # "type:value" per node
    src: Array
    dst: Array
    weight: Array
    kind: list[str]  # relationship type per edge
    # over-correlating nodes (warninglisted, or in too many submissions): pruned as hubs
    flagged: Array | None = None


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """One edge of a cluster, with where it came from."""

    source: str
    type: str
    target: str
    reported_by: str | None
    tlp: int | None


class Values(msgspec.Struct, frozen=True, kw_only=True):
    """What every viewer's graph reads the same way: each stored value, the hosts each URL
    links to, and the values a warninglist names (no marking decides any of it)."""

    obs: list[tuple[int, str, str]]  # (observable id, type, value)
    by_ref: dict[str, int]  # "type:value" -> observable id
    hosts: dict[int, list[int]]  # URL observable id -> ids of its host's stored values
    listed: frozenset[int]  # observable ids a warninglist names


def stored_values(store: Store) -> Values:
    """Read every value once, with its URL → host links and warninglist flags."""
    from marsad.store.correlation_reads import warninglist_names

    with store.engine.connect() as conn:  # in pieces: a build beside requests (`raw_rows`)
        rows = raw_rows(conn, select(observables.c.id, observables.c.type, observables.c.value))
    obs = [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
    by_ref = {f"{t}:{v}": i for i, t, v in obs}
    hosts: dict[int, list[int]] = {}
    for oid, typ, value in obs:
        if typ == "url":
            host = url_host(value)
            found = [
                by_ref[ref] for ref in (f"{kind}:{host}" for kind in HOST_TYPES) if ref in by_ref
            ]
            if found:
                hosts[oid] = found
    pairs = [(t, v) for _, t, v in obs]
    names = warninglist_names(pairs)
    listed = frozenset(i for (i, _, _), n in zip(obs, names, strict=True) if n)
    release(rows, pairs, names)
    return Values(obs=obs, by_ref=by_ref, hosts=hosts, listed=listed)


def load_graph(store: Store, grant: Grant, values: Values | None = None) -> Graph:
    """The graph of everything the grant covers; ``values`` (`stored_values`, the same for
    every grant) may be read once and shared while the store does not change."""
    with store.engine.connect() as conn:
        if values is None:
            rows: Sequence[Any] = conn.execute(
                select(observables.c.id, observables.c.type, observables.c.value)
            ).all()
            obs = [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
        asserted: set[int] = set(
            conn.execute(
                select(assertions.c.observable_id).where(visible(grant, assertions)).distinct()
            ).scalars()
        )
        rels = conn.execute(
            select(relationships.c.source_ref, relationships.c.target_ref, relationships.c.type)
            .where(visible(grant, relationships))
            .distinct()
        ).all()
    if values is not None:
        obs = values.obs
    by_ref = values.by_ref if values is not None else {f"{t}:{v}": i for i, t, v in obs}
    pairs: list[tuple[int, int, str]] = []
    for s, t, kind in rels:
        a, b = by_ref.get(str(s)), by_ref.get(str(t))
        if a is not None and b is not None:
            pairs.append((a, b, str(kind)))
    used = asserted | {a for a, _, _ in pairs} | {b for _, b, _ in pairs}
    if values is not None:
        for oid, targets in values.hosts.items():
            if oid in used:
                pairs += [(oid, target, "url-host") for target in targets if target in used]
    else:
        for oid, typ, value in obs:
            if typ == "url" and oid in used:
                host = url_host(value)
                for ref in (f"{kind}:{host}" for kind in HOST_TYPES):
                    target = by_ref.get(ref)
                    if target is not None and target in used:
                        pairs.append((oid, target, "url-host"))
    ids = np.array(sorted(used), dtype=np.int64)
    node = {int(i): k for k, i in enumerate(ids)}
    ref_of = {i: f"{t}:{v}" for i, t, v in obs if i in node}
    refs = [ref_of[int(i)] for i in ids]
    from marsad.store.correlation_reads import over_correlated_nodes  # the store's side of it

    listed = None
    if values is not None:
        listed = np.fromiter((int(i) in values.listed for i in ids), dtype=bool, count=len(ids))
    return Graph(
        ids=ids,
        refs=refs,
        flagged=over_correlated_nodes(store, grant, ids, refs, listed=listed),
        src=np.array([node[a] for a, _, _ in pairs], dtype=np.int64),
        dst=np.array([node[b] for _, b, _ in pairs], dtype=np.int64),
        weight=np.array([EDGE_WEIGHT.get(k, DEFAULT_WEIGHT) for _, _, k in pairs]),
        kind=[k for _, _, k in pairs],
    )


def graph_of(cols: StoreColumns, grant: Grant, values: Values) -> Graph:
    """`load_graph` on the kept columns (`marsad.analysis.columns`): the same nodes, edges
    and flags, the rows chosen by the policy's answer per distinct marking instead of by
    three scans of the SQL predicate."""
    seen, linked = masks(cols, grant)
    keep = linked & (cols.r_src >= 0) & (cols.r_dst >= 0)
    kinds = len(cols.kinds) + 1
    n_obs = int(cols.obs_ids[-1]) + 1 if len(cols.obs_ids) else 1
    trip = distinct((cols.r_src[keep] * n_obs + cols.r_dst[keep]) * kinds + cols.r_kind[keep])
    kind = trip % kinds
    a, b = (trip // kinds) // n_obs, (trip // kinds) % n_obs
    ids = distinct(np.concatenate([cols.a_obs[seen], a, b]))
    h_src = np.fromiter((o for o, t in values.hosts.items() for _ in t), np.int64)
    h_dst = np.fromiter((x for t in values.hosts.values() for x in t), np.int64)
    host = np.isin(h_src, ids) & np.isin(h_dst, ids)
    src = np.searchsorted(ids, np.concatenate([a, h_src[host]]))
    dst = np.searchsorted(ids, np.concatenate([b, h_dst[host]]))
    names = [cols.kinds[k] for k in kind.tolist()] + ["url-host"] * int(host.sum())
    listed = np.fromiter((int(i) in values.listed for i in ids.tolist()), bool, len(ids))
    busy = busy_observables(cols, seen, CorrelationRule().max_submissions)
    return Graph(
        ids=ids,
        refs=cols.obs_refs[np.searchsorted(cols.obs_ids, ids)].tolist(),
        flagged=np.isin(ids, busy) | listed,
        src=src,
        dst=dst,
        weight=np.array([EDGE_WEIGHT.get(k, DEFAULT_WEIGHT) for k in names]),
        kind=names,
    )


HOST_TYPES = ("domain", "ipv4", "ipv6")
"""The observable types a URL's host can be (the graph's URL → host link)."""


def url_host(url: str) -> str:
    """The host a URL is linked to ('' when it has none)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def clusters_of(
    graph: Graph, flagged: Array | None = None, rule: HubRule | None = None
) -> Clustering:
    """Cluster the graph; labels are observable ids of each cluster's oldest member."""
    if flagged is None:
        flagged = graph.flagged
    found = cluster(len(graph.ids), graph.src, graph.dst, graph.weight, flagged, rule)
    labels = np.where(found.labels >= 0, graph.ids[np.maximum(found.labels, 0)], -1)
    return Clustering(labels=labels, hubs=found.hubs, components=found.components)


def members(graph: Graph, found: Clustering) -> dict[int, list[str]]:
    """Cluster id → member references, largest cluster first."""
    out: dict[int, list[str]] = {}
    for ref, label in zip(graph.refs, found.labels.tolist(), strict=True):
        if label >= 0:
            out.setdefault(label, []).append(ref)
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def evidence(store: Store, grant: Grant, refs: Sequence[str], limit: int = 500) -> list[Evidence]:
    """The visible relationships among a cluster's members, with who reported them."""
    wanted = list(refs)
    rows: list[Any] = []
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows += conn.execute(
                select(relationships.c.source_ref, relationships.c.type,
                       relationships.c.target_ref, organisations.c.name, relationships.c.tlp)
                .join(organisations, organisations.c.id == relationships.c.source_org_id)
                .where(visible(grant, relationships), relationships.c.source_ref.in_(chunk),
                       relationships.c.target_ref.in_(wanted))
                .limit(limit)
            ).all()  # fmt: skip
    return [
        Evidence(source=s, type=t, target=d, reported_by=o, tlp=tlp) for s, t, d, o, tlp in rows
    ]


def score_against(
    found: dict[int, list[str]], truth: Iterable[Sequence[str]]
) -> tuple[float, float]:
    """Member-weighted precision and recall of recovered clusters against planted networks."""
    net_of: dict[str, int] = {}
    nets = [set(m) for m in truth]
    for k, planted in enumerate(nets):
        for ref in planted:
            net_of[ref] = k
    overlap: dict[tuple[int, int], int] = {}
    for label, group in found.items():
        for ref in group:
            if ref in net_of:
                key = (label, net_of[ref])
                overlap[key] = overlap.get(key, 0) + 1
    best_for_cluster: dict[int, int] = {}
    best_for_net: dict[int, int] = {}
    for (label, net), n in overlap.items():
        best_for_cluster[label] = max(best_for_cluster.get(label, 0), n)
        best_for_net[net] = max(best_for_net.get(net, 0), n)
    touched = sum(len(found[label]) for label in best_for_cluster)
    precision = sum(best_for_cluster.values()) / touched if touched else 0.0
    recall = sum(best_for_net.values()) / sum(len(n) for n in nets) if nets else 0.0
    return precision, recall


def today() -> dt.date:
    """Clusters are computed under today's retention."""
    return dt.date.today()
