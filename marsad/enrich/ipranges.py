"""Which lists cover an address: elementary intervals, one `searchsorted` per batch.

All ranges of all lists cut the address space into elementary segments; each segment
carries the id of the *combination* of lists that cover it (few distinct combinations
exist), and each combination its list ids (CSR). Looking up a column of addresses is
one binary search plus two gathers, whatever the number of lists or ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from marsad.enrich.columns import I64, expand_csr
from marsad.enrich.iputil import v6_key


class RangeIndex(NamedTuple):
    """Segment starts (``uint32`` for IPv4, ``S16`` keys for IPv6), their combination,
    and the lists of each combination."""

    bounds: NDArray[np.generic]
    combo: NDArray[np.int32]
    combo_ptr: NDArray[np.int32]
    combo_list: NDArray[np.int16]


def build_range_index(
    starts: Sequence[int], ends: Sequence[int], list_ids: Sequence[int], bits: int
) -> RangeIndex:
    """Index the inclusive ranges ``[starts[i], ends[i]]`` held by ``list_ids[i]``."""
    top = 1 << bits
    cuts = sorted({0, *starts, *(e + 1 for e in ends if e + 1 < top)})
    bounds = _keys(cuts, bits)
    lists = sorted(set(list_ids))
    column = {lid: i for i, lid in enumerate(lists)}
    cover = np.zeros((len(cuts) + 1, max(len(lists), 1)), dtype=np.int32)
    if len(starts):
        lo = np.searchsorted(bounds, _keys(list(starts), bits))
        hi = np.full(len(ends), len(cuts), dtype=np.int64)  # a range up to the top ends last
        inside = np.array([e + 1 < top for e in ends], dtype=np.bool_)
        hi[inside] = np.searchsorted(bounds, _keys([e + 1 for e in ends if e + 1 < top], bits))
        col = np.array([column[lid] for lid in list_ids], dtype=np.int64)
        np.add.at(cover, (lo, col), 1)
        np.add.at(cover, (hi, col), -1)
    covered = np.cumsum(cover, axis=0)[: len(cuts)] > 0
    bits_rows = np.packbits(covered, axis=1)
    rows = np.concatenate([np.zeros((1, bits_rows.shape[1]), dtype=np.uint8), bits_rows])
    flat = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.shape[1]))).ravel()
    distinct, inverse = np.unique(flat, return_inverse=True)
    table = np.unpackbits(
        np.frombuffer(distinct.tobytes(), dtype=np.uint8).reshape(len(distinct), -1), axis=1
    )[:, : len(lists)].astype(np.bool_)
    members = [np.flatnonzero(r) for r in table]
    ptr = np.zeros(len(members) + 1, dtype=np.int32)
    np.cumsum([len(m) for m in members], out=ptr[1:])
    lookup = np.array(lists, dtype=np.int16)
    data = lookup[np.concatenate(members)] if ptr[-1] else np.zeros(0, dtype=np.int16)
    return RangeIndex(bounds, inverse.ravel()[1:].astype(np.int32), ptr, data.astype(np.int16))


def _keys(numbers: list[int], bits: int) -> NDArray[np.generic]:
    if bits == 32:
        return np.array(numbers, dtype=np.uint32)
    return np.array([v6_key(n) for n in numbers], dtype="S16")


def match_points(
    index: RangeIndex, keys: NDArray[np.generic], ok: NDArray[np.bool_]
) -> tuple[I64, I64]:
    """``(value, list)`` pairs for every valid key inside a range of a list."""
    if not len(index.bounds) or not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    seg = np.searchsorted(index.bounds, keys, side="right") - 1
    combo = np.where(ok, index.combo[seg], 0)
    rows = np.flatnonzero(combo)
    owner, item = expand_csr(index.combo_ptr, combo[rows])
    return rows[owner], index.combo_list[item].astype(np.int64)


def covering(index: RangeIndex, first: Any, last: Any) -> set[int]:
    """Lists that cover the whole range ``[first, last]`` (one network, e.g. a CIDR)."""
    if not len(index.bounds):
        return set()
    lo = int(np.searchsorted(index.bounds, first, side="right")) - 1
    hi = int(np.searchsorted(index.bounds, last, side="right")) - 1
    found: set[int] | None = None
    for combo in np.unique(index.combo[lo : hi + 1]):
        lists = set(index.combo_list[index.combo_ptr[combo] : index.combo_ptr[combo + 1]].tolist())
        found = lists if found is None else found & lists
    return found or set()
