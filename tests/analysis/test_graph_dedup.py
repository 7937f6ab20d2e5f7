"""Edge deduplication keeps one edge per unordered pair, with its heaviest evidence."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from marsad.analysis.graph import dedup

edges = hs.lists(
    hs.tuples(
        hs.integers(0, 30),
        hs.integers(0, 30),
        hs.sampled_from([0.3, 0.5, 1.0, 2.0]) | hs.floats(0.01, 100.0),
    ),
    max_size=200,
)


def reference(triples: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    best: dict[tuple[int, int], float] = {}
    for a, b, w in triples:
        if a != b:
            pair = (min(a, b), max(a, b))
            best[pair] = max(best.get(pair, w), w)
    return sorted((a, b, w) for (a, b), w in best.items())


@settings(max_examples=200, deadline=None)
@given(edges)
def test_one_edge_per_pair_with_the_heaviest_weight(triples: list[tuple[int, int, float]]) -> None:
    src = np.array([a for a, _, _ in triples], dtype=np.int64)
    dst = np.array([b for _, b, _ in triples], dtype=np.int64)
    weight = np.array([w for _, _, w in triples], dtype=np.float64)
    a, b, w = dedup(31, src, dst, weight)
    assert list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)) == reference(triples)


def test_many_distinct_weights_on_a_large_node_range() -> None:
    # a sample of the weights misses most of them, and the node range is too wide to pack
    rng = np.random.default_rng(5)
    n = 3_000_000_000
    src = rng.integers(0, n, 5000)
    dst = np.where(rng.random(5000) < 0.5, src[::-1], rng.integers(0, n, 5000))
    weight = rng.random(5000)
    a, b, w = dedup(n, src, dst, weight)
    triples = list(zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True))
    assert list(zip(a.tolist(), b.tolist(), w.tolist(), strict=True)) == reference(triples)
