"""Segwit addresses: bech32 (BIP-173) and bech32m (BIP-350), reference algorithm.

Canonical form is lower case (the encoding is case-insensitive but mixed case is
invalid). Witness version 0 must use bech32 with a 20- or 32-byte program; versions
1-16 must use bech32m with a 2- to 40-byte program.
"""

from __future__ import annotations

from typing import Final

from marsad.model.errors import InvalidObservable

CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_INDEX: Final = {c: i for i, c in enumerate(CHARSET)}
_BECH32: Final = 1
_BECH32M: Final = 0x2BC830A3
_GEN: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def polymod(values: list[int]) -> int:
    """The BCH checksum polynomial of BIP-173."""
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def hrp_expand(hrp: str) -> list[int]:
    """The human-readable part as it enters the checksum."""
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    """Regroup bits without padding (decoding direction); None on non-zero padding."""
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


def _reason(text: str, hrp: str) -> str | None:
    if text != text.lower() and text != text.upper():
        return "bech32 addresses are not mixed case"
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90 or text[:pos] != hrp:
        return f"not a {hrp}1… segwit address"
    if pos + 8 > len(text):
        return "empty data part (no witness version and program)"
    data = [_INDEX.get(c, -1) for c in text[pos + 1 :]]
    if -1 in data:
        return "character outside the bech32 alphabet"
    const = polymod(hrp_expand(hrp) + data)
    if const not in (_BECH32, _BECH32M):
        return "bech32 checksum does not match"
    version = data[0]
    program = convertbits(data[1:-6], 5, 8)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        return "invalid witness program"
    if (version == 0) != (const == _BECH32):
        return "witness v0 needs bech32, v1+ needs bech32m (BIP-350)"
    if version == 0 and len(program) not in (20, 32):
        return "witness v0 program must be 20 or 32 bytes"
    return None


def normalize_segwit(kind: str, raw: str, hrp: str) -> str:
    """A segwit address for ``hrp`` (``bc``, ``ltc``) in lower case, checksum verified."""
    reason = _reason(raw, hrp)
    if reason is not None:
        raise InvalidObservable(kind, raw, reason)
    return raw.lower()
