"""IP addresses as numbers, for whole columns.

IPv4 text is parsed with numpy on the packed buffer (one gather per octet digit), never
with `ipaddress` per value; IPv6 keys are 16-byte big-endian strings (numpy ``S16``),
whose byte order is their numeric order, so `searchsorted` works on them directly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from marsad.enrich.columns import chunks

U32 = NDArray[np.uint32]
Bool = NDArray[np.bool_]
V6 = NDArray[np.bytes_]
DIGIT0, DOT, NEWLINE = 48, 46, 10


def _ipv4_chunk(values: Sequence[str]) -> tuple[U32, Bool]:
    n = len(values)
    raw = "\n".join(values).encode("utf-8", "replace")
    total = len(raw)
    buf = np.frombuffer(raw + b"\n\n\n", dtype=np.uint8)
    body = buf[:total]
    digit = (body - DIGIT0) < 10
    cut = np.flatnonzero((body == DOT) | (body == NEWLINE))
    if not (len(cut) == 4 * n - 1 and np.all(digit | (body == DOT) | (body == NEWLINE))):
        return _ipv4_checked(values)
    kinds = np.append(body[cut], NEWLINE).reshape(n, 4)
    if not (np.all(kinds[:, :3] == DOT) and np.all(kinds[:, 3] == NEWLINE)):
        return _ipv4_checked(values)
    first = np.empty(4 * n, dtype=np.int64)
    first[0] = 0
    first[1:] = cut + 1
    last = np.append(cut, total)
    width = last - first
    d0 = buf[first].astype(np.uint16) - DIGIT0
    d1 = buf[first + 1].astype(np.uint16) - DIGIT0
    d2 = buf[first + 2].astype(np.uint16) - DIGIT0
    octet = np.where(width == 1, d0, np.where(width == 2, d0 * 10 + d1, d0 * 100 + d1 * 10 + d2))
    good = (width >= 1) & (width <= 3) & (octet <= 255)
    octets = octet.astype(np.uint32).reshape(n, 4)
    ints = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
    return ints.astype(np.uint32), np.asarray(good.reshape(n, 4).all(axis=1), dtype=np.bool_)


def _ipv4_checked(values: Sequence[str]) -> tuple[U32, Bool]:
    """The slow path for a chunk holding something that is no dotted quad."""
    ints = np.zeros(len(values), dtype=np.uint32)
    ok = np.zeros(len(values), dtype=np.bool_)
    for i, text in enumerate(values):
        try:
            ints[i] = int(ipaddress.IPv4Address(text))
            ok[i] = True
        except ValueError:
            pass
    return ints, ok


def parse_ipv4(values: Sequence[str]) -> tuple[U32, Bool]:
    """Dotted-quad text to uint32, with a validity mask (invalid values give 0)."""
    parts = [_ipv4_chunk(values[lo:hi]) for lo, hi in chunks(len(values))]
    if not parts:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.bool_)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def v6_key(number: int) -> bytes:
    """The 16-byte big-endian key of an IPv6 address number."""
    return number.to_bytes(16, "big")


def key_number(key: bytes) -> int:
    """Back from a key (numpy drops trailing zero bytes of ``S16`` items)."""
    return int.from_bytes(key.ljust(16, b"\0"), "big")


def parse_ipv6(values: Sequence[str]) -> tuple[V6, Bool]:
    """IPv6 text to ``S16`` keys, with a validity mask."""
    keys = np.zeros(len(values), dtype="S16")
    ok = np.zeros(len(values), dtype=np.bool_)
    for i, text in enumerate(values):
        try:
            keys[i] = ipaddress.IPv6Address(text).packed
            ok[i] = True
        except ValueError:
            pass
    return keys, ok
