"""Clustering of synthetic infrastructure graphs with planted communities, against networkx.

Builds graphs like the demo world's at a larger size: operations whose domains share
their own name servers, IP addresses and registrants, plus a few hubs (CDN addresses,
parking name servers) that every operation touches, and noise hanging off the hubs.
Prints, per size: Marsad's full clustering (hub pruning via a Louvain pass, components,
communities in very large components) and its components step alone, networkx's
connected_components on the same edges, the ratio, and precision/recall of the recovered
clusters against the planted operations.

    .venv/bin/python bench/graph.py --edges 1000000 10000000 [--networkx-max 10000000]

networkx is installed into the benchmark's own run with `pip install networkx` if missing
(it is not a Marsad dependency).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from marsad.analysis.graph import cluster


def planted(edges: int, seed: int = 2026) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(nodes, src, dst, operation of each node: -1 for hubs and noise)."""
    rng = np.random.default_rng(seed)
    hubs = 8
    total = 0
    src_parts, dst_parts, owner_parts = [], [], []
    next_node = hubs
    for op in range(10**9):
        domains = int(rng.integers(60, 240))
        infra = 2 + int(rng.integers(2, 8)) + int(rng.integers(1, 4))  # ns, ips, registrants
        d = np.arange(next_node, next_node + domains)
        i = np.arange(next_node + domains, next_node + domains + infra)
        owner_parts.append(np.full(domains + infra, op))
        next_node += domains + infra
        ns = np.repeat(i[:2], domains)
        spread = i[2:][rng.integers(0, infra - 2, size=domains * 2)]
        src_parts += [np.tile(d, 2), np.repeat(d, 2)]
        dst_parts += [ns, spread]
        touched = d[rng.random(domains) < 0.12]
        src_parts.append(touched)
        dst_parts.append(rng.integers(0, hubs, size=len(touched)))
        total += domains * 4 + len(touched)
        if total >= edges * 0.95:
            break
    noise = max(1, edges // 20)
    leaves = np.arange(next_node, next_node + noise)
    src_parts.append(leaves)
    dst_parts.append(rng.integers(0, hubs, size=noise))
    owner = np.concatenate([np.full(hubs, -1), *owner_parts, np.full(noise, -1)])
    return next_node + noise, np.concatenate(src_parts), np.concatenate(dst_parts), owner


def score(labels: np.ndarray, owner: np.ndarray) -> tuple[float, float]:
    """Member-weighted precision and recall against the planted operations."""
    keep = (labels >= 0) & (owner >= 0)
    pairs, counts = np.unique(np.stack([labels[keep], owner[keep]]), axis=1, return_counts=True)
    best_cluster: dict[int, int] = {}
    best_op: dict[int, int] = {}
    for (c, o), n in zip(pairs.T.tolist(), counts.tolist(), strict=True):
        best_cluster[c] = max(best_cluster.get(c, 0), n)
        best_op[o] = max(best_op.get(o, 0), n)
    sizes = np.bincount(labels[labels >= 0])
    touched = sum(int(sizes[c]) for c in best_cluster)
    return sum(best_cluster.values()) / touched, sum(best_op.values()) / int((owner >= 0).sum())


def best(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Fastest wall and CPU seconds of ``repeat`` runs (the machine is shared: noise only adds)."""
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def run(edges: int, with_networkx: bool, repeat: int) -> None:
    n, src, dst, owner = planted(edges)
    print(f"\n{len(src):,} edges, {n:,} nodes, {owner.max() + 1:,} planted operations, "
          f"best of {repeat} runs (wall / CPU)")  # fmt: skip
    found = cluster(n, src, dst, np.ones(len(src)))
    full, full_cpu = best(repeat, lambda: cluster(n, src, dst, np.ones(len(src))))
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    components, _ = best(repeat, lambda: connected_components(graph, directed=False))
    precision, recall = score(found.labels, owner)
    print(f"  Marsad clustering (hubs, components, communities): {full:7.2f} s / {full_cpu:.2f} s "
          f"P={precision:.3f} R={recall:.3f}, {int(found.hubs.sum())} hubs pruned")  # fmt: skip
    print(f"  Marsad components step (scipy sparse):             {components:7.2f} s")
    if not with_networkx:
        print("  networkx: skipped at this size (--networkx-max)")
        return
    import networkx as nx

    def build() -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
        return g

    def build_and_components() -> None:
        components_of(build())

    def components_of(g: nx.Graph) -> int:
        return sum(1 for _ in nx.connected_components(g))

    built = [build()]
    nx_components, _ = best(repeat, lambda: components_of(built[0]))
    count = components_of(built.pop())
    both, both_cpu = best(repeat, build_and_components)
    print(f"  networkx graph build + connected_components {both:.2f} s / {both_cpu:.2f} s "
          f"(components alone {nx_components:.2f} s; {count:,} components)")  # fmt: skip
    print(f"  ratio, components vs components:        {nx_components / components:6.1f}x")
    print(f"  ratio, networkx (build + components) vs Marsad full clustering: "
          f"{both / full:6.1f}x wall, {both_cpu / full_cpu:6.1f}x CPU")  # fmt: skip
    gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--networkx-max", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best counts")
    args = parser.parse_args()
    for edges in args.edges:
        run(edges, edges <= args.networkx_max, args.repeat)


if __name__ == "__main__":
    main()
