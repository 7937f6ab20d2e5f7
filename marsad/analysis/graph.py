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
from scipy.sparse import coo_matrix, csr_matrix
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
    spread: Array | None = None  # bool per node: a hub by its neighbours' communities
    touched: int = -1  # components (re)labelled by this run; -1: all of them


class Previous(msgspec.Struct, frozen=True, kw_only=True):
    """The last run's result on the same nodes, and which nodes changed since.

    ``changed`` marks nodes that are new, gained an edge or changed their flag; a
    component of the pruned graph with no changed node, no node whose hub status flipped
    and no neighbour of one has exactly the edges it had, so it keeps its labels.
    """

    labels: Array  # node index of each node's cluster label, -1 for none
    hubs: Array  # bool per node
    changed: Array  # bool per node
    spread: Array | None = None  # the last run's `spread_nodes`, when the edges are the same


def distinct(values: Array) -> Array:
    """Sorted distinct values (by sorting: numpy 2.4's hashing ``unique`` is ~10x slower on ids)."""
    x = np.sort(np.asarray(values), kind="stable")
    return x[np.r_[True, x[1:] != x[:-1]]] if len(x) else x


def tally(values: Array) -> tuple[Array, Array]:
    """Sorted distinct values and how often each occurs."""
    x = np.sort(np.asarray(values))
    if not len(x):
        return x, np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    return x[first], np.diff(np.r_[first, len(x)])


def dedup(n: int, src: Array, dst: Array, weight: Array) -> tuple[Array, Array, Array]:
    """Undirected, no self-loops, one edge per pair (the heaviest evidence), ``src < dst``.

    Edge weights come from a handful of edge types, so the weight's rank rides in the low
    bits of the pair's key and one plain sort of int64 does the work of a two-key lexsort.
    """
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    keep = a != b
    a, b, w = a[keep].astype(np.int64), b[keep].astype(np.int64), weight[keep]
    levels, rank = _levels(-w)  # heaviest first
    bits = max(1, int(len(levels) - 1).bit_length())
    if len(a) and (n * n) >> (62 - bits):  # too many nodes to pack: sort on two keys
        order = np.lexsort((rank, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
        return a[first], b[first], w[first]
    key = np.sort(((a * n + b) << bits) | rank)
    pair = key >> bits
    key = key[np.r_[True, pair[1:] != pair[:-1]]] if len(key) else key
    pair = key >> bits
    return pair // n, pair % n, -levels[key & ((1 << bits) - 1)]


def _levels(values: Array) -> tuple[Array, Array]:
    """Sorted distinct values and each value's index among them.

    The distinct values are guessed from a sample and the guess checked on the whole
    column: for a few edge-type weights that is a lookup, not a sort of every edge.
    """
    levels = np.unique(values[:: max(1, len(values) // 1024)])
    rank = np.minimum(np.searchsorted(levels, values), max(len(levels) - 1, 0))
    if len(values) and not np.array_equal(levels[rank], values):
        levels, rank = np.unique(values, return_inverse=True)
    return levels, rank


def _communities(n: int, src: Array, dst: Array, weight: Array, seed: int = 7) -> Array:
    """Louvain (PLM) community of every node; deterministic for a seed and one thread.

    The graph is handed over as one CSR matrix (each edge once): networkit builds it in
    C++ about four times faster than from ``addEdges``' coordinate lists.
    """
    nk.engineering.setNumberOfThreads(1)
    nk.engineering.setSeed(seed, False)
    adjacency = csr_matrix((weight.astype(np.float64), (src, dst)), shape=(n, n))
    g = nk.GraphFromCsr(adjacency, directed=False, weighted=True)
    plm = nk.community.PLM(g, refine=False, turbo=True)
    plm.run()
    return np.asarray(plm.getPartition().getVector(), dtype=np.int64)


def participation(
    n: int, src: Array, dst: Array, community: Array, min_degree: int = 1
) -> tuple[Array, Array]:
    """Participation coefficient and number of distinct neighbour communities per node.

    Leaf neighbours (degree 1) are left out: a leaf hanging off a node says nothing about
    what the node bridges, and noise hanging off a hub would hide the hub's spread. Only
    nodes with at least ``min_degree`` neighbours are measured (the others get 0): a hub
    test needs no more, and most nodes of an infrastructure graph are low-degree.
    """
    u, v = np.concatenate([src, dst]), np.concatenate([dst, src])
    full = np.bincount(u, minlength=n)
    inner = (full[v] > 1) & (full[u] >= min_degree)
    u, v = u[inner], v[inner]
    width = int(community.max()) + 1
    degree = np.bincount(u, minlength=n).astype(np.float64)
    pairs = tally(u.astype(np.int64) * width + community[v])
    node = pairs[0] // width
    share = pairs[1] / degree[node]
    p = 1.0 - np.bincount(node, weights=share * share, minlength=n)
    p[degree == 0] = 0.0
    spread = np.bincount(node, minlength=n)
    return p, spread


def spread_nodes(n: int, src: Array, dst: Array, weight: Array, rule: HubRule) -> Array:
    """Per node of a deduplicated graph, whether its neighbours spread over many communities.

    The community pass sees only nodes with an edge (renumbered in index order), so values
    with no edge, however many arrive, never change its result.
    """
    out = np.zeros(n, dtype=bool)
    if not len(src):
        return out
    present = np.zeros(n, dtype=bool)
    present[src] = True
    present[dst] = True
    nodes = np.flatnonzero(present)
    index = np.cumsum(present) - 1
    a, b, k = index[src], index[dst], len(nodes)
    community = _communities(k, a, b, weight)
    p, spread = participation(k, a, b, community, rule.min_degree)
    degree = np.bincount(np.r_[a, b], minlength=k)
    out[nodes] = (
        (degree >= rule.min_degree)
        & (p >= rule.min_participation)
        & (spread >= rule.min_communities)
    )
    return out


def cluster(
    n: int,
    src: Array,
    dst: Array,
    weight: Array,
    flagged: Array | None = None,
    rule: HubRule | None = None,
    previous: Previous | None = None,
) -> Clustering:
    """Label every node with its cluster (label = smallest node index in it, so it is stable).

    With ``previous``, only the components of the pruned graph that a change reaches are
    labelled again; the others keep their labels, which are what a full run gives them,
    since every step after the hub pass works inside one component.
    """
    rule = rule or HubRule()
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        none = empty.astype(bool)
        return Clustering(labels=empty, hubs=none, spread=none, components=0, touched=0)
    src, dst, weight = dedup(n, src, dst, weight)
    if previous is not None and previous.spread is not None:
        spread = previous.spread  # same edges as last time: same communities
    else:
        spread = spread_nodes(n, src, dst, weight, rule)
    hubs = spread.copy() if flagged is None else spread | flagged.astype(bool)
    keep = ~(hubs[src] | hubs[dst])
    s, d, w = src[keep], dst[keep], weight[keep]
    graph = coo_matrix((np.ones(len(s)), (s, d)), shape=(n, n))
    count, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    if previous is None:
        redo = np.ones(count, dtype=bool)
        labels = np.full(n, -1, dtype=np.int64)
    else:
        flipped = hubs != previous.hubs
        seeds = previous.changed | flipped
        seeds[dst[flipped[src]]] = True  # an edge of a flipped hub joins or leaves the graph
        seeds[src[flipped[dst]]] = True
        redo = np.zeros(count, dtype=bool)
        redo[comp[seeds]] = True
        labels = previous.labels.astype(np.int64).copy()
    inside = redo[comp]
    labels[inside] = _smallest_member(np.where(inside, comp, count), n)[inside]
    sizes = np.bincount(comp, minlength=count)
    for big in np.flatnonzero(redo & (sizes > rule.large_component)).tolist():
        _split(comp == big, s, d, w, labels)
    alone = np.bincount(np.concatenate([s, d]), minlength=n) == 0
    labels[alone | hubs] = -1
    return Clustering(
        labels=labels,
        hubs=hubs,
        spread=spread,
        components=len(distinct(labels[labels >= 0])),
        touched=-1 if previous is None else int(redo.sum()),
    )


def _split(member: Array, s: Array, d: Array, w: Array, labels: Array) -> None:
    """Louvain communities inside one large component, found on that component alone
    (nodes renumbered in index order), so the result depends on nothing outside it."""
    nodes = np.flatnonzero(member)
    inner = member[s]
    a, b = np.searchsorted(nodes, s[inner]), np.searchsorted(nodes, d[inner])
    sub = _communities(len(nodes), a, b, w[inner], seed=11)
    labels[nodes] = nodes[_smallest_member(sub, len(nodes))]


def _smallest_member(comp: Array, n: int) -> Array:
    """Relabel groups by their smallest node index: stable while the oldest member stays."""
    first = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n, dtype=np.int64))
    return first[comp]
