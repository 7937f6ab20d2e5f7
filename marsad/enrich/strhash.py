"""Polynomial hashes of whole values and of their label suffixes, for a whole column.

Hash of bytes ``c[a:e]`` = sum c[j]·B^(j-a) mod 2^64, mixed with the length. With one
cumulative sum per batch, the hash of any slice of a value is
``(P[e] - P[a]) · B^-(a - start)``, so hashing every label suffix of every value
(``a.b.example.com``, ``b.example.com``, ``example.com``, ``com``) costs a few vector
operations, not a Python loop. A hash only nominates a candidate: the matchers compare
the bytes of every candidate before reporting it, so a crafted collision cannot hide a
value behind a warninglist entry.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from marsad.enrich.columns import I64, Packed, chunks

U64 = NDArray[np.uint64]
DOT = 46
BASES = (0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F)  # odd: invertible mod 2^64
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)
_MOD = 1 << 64


class Candidates(NamedTuple):
    """Slices ``[start, end)`` of the packed buffer, each belonging to value ``value``."""

    value: I64
    start: I64
    end: I64
    whole: NDArray[np.bool_]
    hash: U64


class _Powers:
    """B^k and B^-k mod 2^64 for k up to the longest value seen, grown on demand."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.pow: U64 = np.ones(1, dtype=np.uint64)
        self.inv: U64 = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[U64, U64]:
        if len(self.pow) <= n:
            size = max(n + 1, 2 * len(self.pow), 256)
            self.pow = _cumpow(self.base, size)
            self.inv = _cumpow(pow(self.base, -1, _MOD), size)
        return self.pow, self.inv


def _cumpow(base: int, size: int) -> U64:
    out = np.empty(size, dtype=np.uint64)
    out[0] = 1
    out[1:] = np.cumprod(np.full(size - 1, base, dtype=np.uint64))
    return out


_POWERS: dict[int, _Powers] = {}


def _powers(base: int) -> _Powers:
    if base not in _POWERS:
        _POWERS[base] = _Powers(base)
    return _POWERS[base]


def _prefix(packed: Packed, base: int) -> tuple[U64, U64]:
    """The running sums P (len(buf) + 1) and the inverse powers table."""
    buf, starts, _ = packed
    total = len(buf)
    seg = np.diff(np.append(starts, total)) if len(starts) else np.zeros(0, dtype=np.int64)
    offset = np.arange(total, dtype=np.int64) - np.repeat(starts, seg)
    longest = int(offset.max()) if total else 0
    pw, inv = _powers(base).upto(longest + 1)
    prefix = np.zeros(total + 1, dtype=np.uint64)
    np.cumsum(buf.astype(np.uint64) * pw[offset], out=prefix[1:])
    return prefix, inv


def _slice_hashes(prefix: U64, inv: U64, start: I64, end: I64, owner_start: I64) -> U64:
    h: U64 = (prefix[end] - prefix[start]) * inv[start - owner_start]
    mixed: U64 = h ^ ((end - start).astype(np.uint64) * _MIX)
    return mixed


def whole_hashes(packed: Packed, base: int) -> U64:
    """The hash of every value (in cache-sized chunks of the buffer)."""
    out = np.empty(len(packed.starts), dtype=np.uint64)
    for lo, hi in chunks(len(packed.starts)):
        first = int(packed.starts[lo])
        part = Packed(
            packed.buf[first : int(packed.ends[hi - 1])],
            packed.starts[lo:hi] - first,
            packed.ends[lo:hi] - first,
        )
        prefix, inv = _prefix(part, base)
        out[lo:hi] = _slice_hashes(prefix, inv, part.starts, part.ends, part.starts)
    return out


def candidates(packed: Packed, base: int, *, suffixes: bool) -> Candidates:
    """Every non-empty value, and with ``suffixes`` every part after a dot, hashed."""
    prefix, inv = _prefix(packed, base)
    n = len(packed.starts)
    value = np.arange(n, dtype=np.int64)
    start, end = packed.starts, packed.ends
    if suffixes:
        dots = np.flatnonzero(packed.buf == DOT)
        owner = np.searchsorted(packed.starts, dots, side="right") - 1
        value = np.concatenate([value, owner])
        start = np.concatenate([start, dots + 1])
        end = np.concatenate([end, packed.ends[owner]])
    whole = np.zeros(len(value), dtype=np.bool_)
    whole[:n] = True
    keep = end > start
    value, start, end, whole = value[keep], start[keep], end[keep], whole[keep]
    hashes = _slice_hashes(prefix, inv, start, end, packed.starts[value])
    return Candidates(value, start, end, whole, hashes)
