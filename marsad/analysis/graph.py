"""Infrastructure clusters from an edge list: prune the hubs, then components, then communities.

Pure and columnar: nodes are integers 0..n-1, edges are numpy arrays. Hubs (CDNs, shared
hosting, parking name servers, privacy-proxy registrants) are what make naive components
swallow everything; by degree alone they look like an operation's own name server, so a
hub is told apart by *where its neighbours are*: a first community pass (Louvain via
networkit's PLM) assigns every node a community, and a node whose neighbours are spread
over many communities (high participation coefficient) links operations instead of
belonging to one. Warninglisted values are hubs whatever their shape.
"""

from __future__ import annotations

from typing import Any

import msgspec
import networkit as nk
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

Array = np.ndarray[Any, Any]


class HubRule(msgspec.Struct, frozen=True, kw_only=True):
    """When a node counts as a hub: enough neighbours, spread over enough communities."""

    min_degree: int = 8
    min_participation: float = 0.5
    min_communities: int = 3
    large_component: int = 2000  # components above this are split into communities


class Clustering(msgspec.Struct, frozen=True, kw_only=True):
    """Cluster label per node (-1: pruned hub or isolated), and the hubs found."""

    labels: Array
    hubs: Array  # bool per node
    components: int


def _dedup(n: int, src: Array, dst: Array, weight: Array) -> tuple[Array, Array, Array]:
    """Undirected, no self-loops, one edge per pair (the heaviest evidence)."""
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    keep = a != b
    a, b, w = a[keep], b[keep], weight[keep]
    key = a.astype(np.int64) * n + b
    order = np.lexsort((-w, key))
    key, a, b, w = key[order], a[order], b[order], w[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return a[first], b[first], w[first]


def _communities(n: int, src: Array, dst: Array, weight: Array, seed: int = 7) -> Array:
    """Louvain (PLM) community of every node; deterministic for a seed and one thread."""
    nk.engineering.setNumberOfThreads(1)
    nk.engineering.setSeed(seed, False)
    g = nk.Graph(n, weighted=True)
    g.addEdges((weight.astype(np.float64), (src.astype(np.uint64), dst.astype(np.uint64))))
    plm = nk.community.PLM(g, refine=True)
    plm.run()
    return np.asarray(plm.getPartition().getVector(), dtype=np.int64)


def participation(n: int, src: Array, dst: Array, community: Array) -> tuple[Array, Array]:
    """Participation coefficient and number of distinct neighbour communities per node.

    Leaf neighbours (degree 1) are left out: a leaf hanging off a node says nothing about
    what the node bridges, and noise hanging off a hub would hide the hub's spread.
    """
    u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
    full = np.bincount(u, minlength=n)
    inner = full[v] > 1
    u, v = u[inner], v[inner]
    c = community[v]
    degree = np.bincount(u, minlength=n).astype(np.float64)
    pairs = np.unique(u.astype(np.int64) * (community.max() + 1) + c, return_counts=True)
    node = pairs[0] // (community.max() + 1)
    share = pairs[1] / degree[node]
    p = 1.0 - np.bincount(node, weights=share * share, minlength=n)
    p[degree == 0] = 0.0
    spread = np.bincount(node, minlength=n)
    return p, spread


def cluster(
    n: int,
    src: Array,
    dst: Array,
    weight: Array,
    flagged: Array | None = None,
    rule: HubRule | None = None,
) -> Clustering:
    """Label every node with its cluster (label = smallest node index in it, so it is stable)."""
    rule = rule or HubRule()
    src, dst, weight = _dedup(n, src, dst, weight)
    degree = np.bincount(np.concatenate([src, dst]), minlength=n)
    hubs = np.zeros(n, dtype=bool) if flagged is None else flagged.astype(bool).copy()
    if len(src):
        community = _communities(n, src, dst, weight)
        p, spread = participation(n, src, dst, community)
        hubs |= (
            (degree >= rule.min_degree)
            & (p >= rule.min_participation)
            & (spread >= rule.min_communities)
        )
    keep = ~(hubs[src] | hubs[dst])
    s, d, w = src[keep], dst[keep], weight[keep]
    graph = coo_matrix((np.ones(len(s)), (s, d)), shape=(n, n))
    count, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    sizes = np.bincount(comp, minlength=count)
    big = np.flatnonzero(sizes > rule.large_component)
    if len(big):
        inside = np.isin(comp[s], big)
        sub = _communities(n, s[inside], d[inside], w[inside], seed=11)
        members = np.isin(comp, big)
        comp = np.where(members, count + sub, comp)
    labels = _smallest_member(comp, n)
    alone = np.bincount(np.concatenate([s, d]), minlength=n) == 0
    labels[alone | hubs] = -1
    return Clustering(labels=labels, hubs=hubs, components=len(np.unique(labels[labels >= 0])))


def _smallest_member(comp: Array, n: int) -> Array:
    """Relabel groups by their smallest node index: stable while the oldest member stays."""
    first = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n, dtype=np.int64))
    return first[comp]
