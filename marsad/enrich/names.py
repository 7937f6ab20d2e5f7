"""Exact and label-suffix matching of names (domains, hashes, any string) against lists.

Every distinct entry of every list is one *key*; the keys are kept as one byte buffer
sorted by hash, and each key points (CSR) to the lists that hold it and how: ``EXACT``
(the value must equal the key: MISP ``string`` lists) or ``SUFFIX`` (the value equals the
key or ends with ``.`` + key: MISP ``hostname`` lists). A lookup hashes each value and its
label suffixes, finds candidates with one ``searchsorted``, confirms them byte by byte and
expands them to ``(value, list)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from marsad.enrich.columns import I64, U8, expand_csr, pack, same_bytes
from marsad.enrich.strhash import BASES, U64, candidates, whole_hashes

EXACT = 1
SUFFIX = 2


class NameTable(NamedTuple):
    """Keys sorted by hash, their bytes, and the (list, mode) pairs of each key."""

    base: int
    hash: U64
    offset: I64
    length: I64
    buf: U8
    ptr: I64
    list_id: NDArray[np.int16]
    mode: NDArray[np.uint8]
    bucket: NDArray[np.int32]


class NameHits(NamedTuple):
    """Matched ``(value, list)`` pairs with the key that matched."""

    value: I64
    list_id: I64
    key: I64


def build_name_table(texts: Sequence[str], list_id: I64, mode: NDArray[np.uint8]) -> NameTable:
    """Compile the entries ``texts[i]`` held by list ``list_id[i]`` in ``mode[i]``; equal
    texts become one key (grouped by hash, confirmed byte by byte)."""
    packed = pack(texts, lower=False)
    length = packed.ends - packed.starts
    for base in BASES:
        hashes = whole_hashes(packed, base)
        order = np.argsort(hashes, kind="stable")
        sorted_hashes = hashes[order]
        new = np.ones(len(order), dtype=np.bool_)
        new[1:] = sorted_hashes[1:] != sorted_hashes[:-1]
        group = np.cumsum(new) - 1
        heads = order[np.flatnonzero(new)]
        dup = np.flatnonzero(~new)  # positions (in order) whose text must equal its head's
        mine, theirs = order[dup], heads[group[dup]]
        same = length[mine] == length[theirs]
        if (
            same.all()
            and same_bytes(
                packed.buf, packed.starts[mine], packed.buf, packed.starts[theirs], length[mine]
            ).all()
        ):
            break
    else:  # pragma: no cover - three independent 64-bit collisions among real entries
        raise ValueError("could not find a collision-free hash base for the warninglist entries")
    pairs = np.sort((group * 65536 + list_id[order]) * 4 + mode[order])
    pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs
    pair_group = pairs // (65536 * 4)
    ptr = np.zeros(len(heads) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_group, minlength=len(heads)), out=ptr[1:])
    return NameTable(
        base=base,
        hash=sorted_hashes[np.flatnonzero(new)],
        offset=packed.starts[heads],
        length=length[heads],
        buf=packed.buf,
        ptr=ptr,
        list_id=((pairs // 4) % 65536).astype(np.int16),
        mode=(pairs % 4).astype(np.uint8),
        bucket=_buckets(sorted_hashes[np.flatnonzero(new)]),
    )


def _buckets(hashes: U64) -> NDArray[np.int32]:
    """Where each bucket of the top ``b`` hash bits starts (about one key per bucket), so
    that a lookup is two gathers instead of a ~21-step binary search through cold memory."""
    bits = max(1, len(hashes).bit_length() + 1)  # 2-4 buckets a key: most misses end at once
    tops = np.arange(1 << bits, dtype=np.uint64) << np.uint64(64 - bits)
    return np.append(np.searchsorted(hashes, tops), len(hashes)).astype(np.int32)


def _find(table: NameTable, hashes: U64) -> tuple[I64, I64]:
    """``(i, key)`` for every ``hashes[i]`` equal to the hash of ``key``."""
    bits = len(table.bucket).bit_length() - 1  # len(bucket) == 2**bits + 1
    top = (hashes >> np.uint64(64 - bits)).astype(np.int64)
    pos = table.bucket[top].astype(np.int64)
    left = table.bucket[top + 1] - pos
    todo = np.flatnonzero(left)
    found_i: list[I64] = []
    found_k: list[I64] = []
    while len(todo):
        at = pos[todo]
        hit = table.hash[at] == hashes[todo]
        found_i.append(todo[hit])
        found_k.append(at[hit])
        todo = todo[~hit]
        pos[todo] += 1
        left[todo] -= 1
        todo = todo[left[todo] > 0]
    if not found_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(found_i), np.concatenate(found_k)


def key_text(table: NameTable, key: int) -> str:
    """The text of one key."""
    lo = int(table.offset[key])
    return bytes(table.buf[lo : lo + int(table.length[key])]).decode("utf-8", "replace")


def match_names(
    table: NameTable, values: Sequence[str], *, suffixes: bool, whole_modes: int
) -> NameHits:
    """Lists whose keys match ``values``: the whole value against keys of ``whole_modes``,
    and with ``suffixes`` each label suffix against ``SUFFIX`` keys."""
    empty = np.zeros(0, dtype=np.int64)
    if not len(values) or not len(table.hash):
        return NameHits(empty, empty, empty)
    packed = pack(values)
    cand = candidates(packed, table.base, suffixes=suffixes)
    hit, key = _find(table, cand.hash)
    length = cand.end[hit] - cand.start[hit]
    same = table.length[key] == length
    hit, key, length = hit[same], key[same], length[same]
    same = same_bytes(packed.buf, cand.start[hit], table.buf, table.offset[key], length)
    hit, key = hit[same], key[same]
    owner, item = expand_csr(table.ptr, key)
    modes = table.mode[item]
    wanted = np.where(cand.whole[hit[owner]], whole_modes, SUFFIX)
    ok = (modes & wanted) != 0
    return NameHits(
        cand.value[hit[owner]][ok], table.list_id[item][ok].astype(np.int64), key[owner][ok]
    )
