"""Strings as one byte buffer, and the index arithmetic the matchers share.

The matchers never loop over values in Python: a batch of strings becomes one ``uint8``
buffer (values separated by ``\\n``) with start/end offsets, and every step after that is a
numpy operation over whole columns. Batches are cut into chunks so that the temporaries
stay in the CPU cache (on a small machine this alone is worth ~3x).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

CHUNK = 32_768
SEPARATOR = 10  # "\n": never part of a normalised value
_UPPER_A, _UPPER_Z = 65, 90

I64 = NDArray[np.int64]
U8 = NDArray[np.uint8]


class Packed(NamedTuple):
    """A batch of strings: ``buf[starts[i]:ends[i]]`` is value ``i`` (UTF-8)."""

    buf: U8
    starts: I64
    ends: I64


def chunks(n: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` bounds covering ``range(n)`` in pieces of at most ``size``."""
    for lo in range(0, n, size):
        yield lo, min(lo + size, n)


def pack(values: Sequence[str], *, lower: bool = True) -> Packed:
    """Join ``values`` into one buffer (ASCII lower-cased when ``lower``); a value holding
    a newline has it replaced by a space so that the offsets stay right."""
    joined = "\n".join(values).encode("utf-8", "replace")
    buf = np.frombuffer(joined, dtype=np.uint8).copy()
    if len(values) > 1 and int(np.count_nonzero(buf == SEPARATOR)) != len(values) - 1:
        return pack([v.replace("\n", " ") for v in values], lower=lower)
    if lower:
        upper = (buf >= _UPPER_A) & (buf <= _UPPER_Z)
        buf[upper] += 32
    seps = np.flatnonzero(buf == SEPARATOR)
    starts = np.empty(len(values), dtype=np.int64)
    ends = np.empty(len(values), dtype=np.int64)
    if len(values):
        starts[0] = 0
        starts[1:] = seps + 1
        ends[:-1] = seps
        ends[-1] = len(buf)
    return Packed(buf, starts, ends)


def expand_csr(ptr: NDArray[np.integer], rows: NDArray[np.integer]) -> tuple[I64, I64]:
    """For CSR offsets ``ptr`` and the wanted ``rows``: (position in ``rows`` of each
    item, index of each item in the CSR data), all items of all rows in order."""
    lo = ptr[rows].astype(np.int64)
    counts = ptr[rows + 1].astype(np.int64) - lo
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    inner = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first, counts)
    return owner, np.repeat(lo, counts) + inner


def same_bytes(
    buf: U8, starts: I64, other: U8, other_starts: I64, lengths: I64
) -> NDArray[np.bool_]:
    """Whether ``buf[starts[i]:+lengths[i]]`` equals ``other[other_starts[i]:+lengths[i]]``
    for each ``i`` (every length > 0), compared byte by byte in one pass."""
    out = np.zeros(len(lengths), dtype=np.bool_)
    for lo, hi in chunks(len(lengths)):
        size = lengths[lo:hi]
        first = np.cumsum(size) - size
        inner = np.arange(int(size.sum()), dtype=np.int64) - np.repeat(first, size)
        mine = buf[np.repeat(starts[lo:hi], size) + inner]
        eq = mine == other[np.repeat(other_starts[lo:hi], size) + inner]
        out[lo:hi] = np.logical_and.reduceat(eq, first)
    return out


def unique_pairs(index: I64, other: I64, width: int) -> tuple[I64, I64, I64]:
    """Distinct ``(index, other)`` pairs (``0 <= other < width``) sorted by both, with the
    position of the first occurrence of each."""
    key = index * width + other
    _, first = np.unique(key, return_index=True)
    first = first.astype(np.int64)
    return index[first], other[first], first
