"""Cryptocurrency wallet addresses, each with its checksum verified.

Bitcoin and Litecoin: Base58Check (BIP-13 versions) and segwit bech32/bech32m (BIP-173,
BIP-350), bech32 canonical in lower case. Ethereum: EIP-55 mixed-case checksum, verified
when the input is mixed case; the canonical form is the checksummed address. Tron:
Base58Check with version 0x41. Monero: Monero's block Base58 with a Keccak-256 checksum.
"""

from __future__ import annotations

from typing import Final

import base58
from Crypto.Hash import keccak

from marsad.model.errors import InvalidObservable

_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M: Final = 0x2BC830A3
_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58)}
_XMR_BLOCK_CHARS: Final = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # encoded length of 0..8 bytes
_XMR_NETWORKS: Final = {18: "standard", 19: "integrated", 42: "subaddress"}


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
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


def _segwit(kind: str, raw: str, hrp: str) -> str:
    text = raw.strip()
    if text != text.lower() and text != text.upper():
        raise InvalidObservable(kind, raw, "bech32 addresses are not mixed case")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90 or text[:pos] != hrp:
        raise InvalidObservable(kind, raw, f"not a {hrp}1… segwit address")
    try:
        data = [_CHARSET.index(c) for c in text[pos + 1 :]]
    except ValueError:
        raise InvalidObservable(kind, raw, "character outside the bech32 alphabet") from None
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _polymod(expanded + data)
    version = data[0]
    program = _convertbits(
        data[1:-6],
        5,
        8,
    )
    if const not in (1, _BECH32M):
        raise InvalidObservable(kind, raw, "bech32 checksum does not match")
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        raise InvalidObservable(kind, raw, "invalid witness program")
    if (version == 0) != (const == 1):
        raise InvalidObservable(kind, raw, "witness v0 needs bech32, v1+ needs bech32m (BIP-350)")
    if version == 0 and len(program) not in (20, 32):
        raise InvalidObservable(kind, raw, "witness v0 program must be 20 or 32 bytes")
    return text


def _base58check(kind: str, raw: str, versions: tuple[int, ...]) -> str:
    text = raw.strip()
    try:
        payload = base58.b58decode_check(text)
    except ValueError as exc:
        reason = (
            "Base58Check checksum does not match" if "checksum" in str(exc).lower() else str(exc)
        )
        raise InvalidObservable(kind, raw, reason) from None
    if len(payload) != 21 or payload[0] not in versions:
        raise InvalidObservable(
            kind, raw, f"version byte {payload[0]:#04x} is not a {kind} address"
        )
    return text


def normalize_btc(raw: str) -> str:
    """Bitcoin mainnet: P2PKH ``1…``, P2SH ``3…``, segwit ``bc1…``."""
    text = raw.strip()
    if text[:3].lower() == "bc1":
        return _segwit("btc-wallet", text, "bc")
    return _base58check("btc-wallet", text, (0x00, 0x05))


def normalize_ltc(raw: str) -> str:
    """Litecoin mainnet: ``L…``, ``M…``, ``3…`` and segwit ``ltc1…``."""
    text = raw.strip()
    if text[:4].lower() == "ltc1":
        return _segwit("ltc-wallet", text, "ltc")
    return _base58check("ltc-wallet", text, (0x30, 0x32, 0x05))


def normalize_trx(raw: str) -> str:
    """Tron: Base58Check, version 0x41, ``T…``."""
    return _base58check("trx-wallet", raw, (0x41,))


def _keccak(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def normalize_eth(raw: str) -> str:
    """EIP-55 checksummed ``0x`` + 40 hex; a mixed-case input must carry a valid checksum."""
    text = raw.strip()
    body = text[2:]
    if (
        text[:2] not in ("0x", "0X")
        or len(body) != 40
        or any(c not in "0123456789abcdefABCDEF" for c in body)
    ):
        raise InvalidObservable("eth-wallet", raw, "expected 0x followed by 40 hex digits")
    lower = body.lower()
    digest = _keccak(lower.encode()).hex()
    checksummed = "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True)
    )
    if body not in (lower, body.upper()) and body != checksummed:
        raise InvalidObservable("eth-wallet", raw, "EIP-55 mixed-case checksum does not match")
    return "0x" + checksummed


def _xmr_decode(kind: str, raw: str, text: str) -> bytes:
    out = bytearray()
    for start in range(0, len(text), 11):
        block = text[start : start + 11]
        try:
            size = _XMR_BLOCK_CHARS.index(len(block))
        except ValueError:
            raise InvalidObservable(kind, raw, "not a Monero base58 length") from None
        number = 0
        for c in block:
            digit = _B58_INDEX.get(c)
            if digit is None:
                raise InvalidObservable(kind, raw, f"{c!r} is not a base58 character")
            number = number * 58 + digit
        if number >= 1 << (8 * size):
            raise InvalidObservable(kind, raw, "Monero base58 block overflows")
        out += number.to_bytes(size, "big")
    return bytes(out)


def normalize_xmr(raw: str) -> str:
    """Monero mainnet standard (``4…``), subaddress (``8…``) or integrated address."""
    text = raw.strip()
    if len(text) not in (95, 106):
        raise InvalidObservable("xmr-wallet", raw, "a Monero address is 95 or 106 characters")
    data = _xmr_decode("xmr-wallet", raw, text)
    if data[0] not in _XMR_NETWORKS:
        raise InvalidObservable("xmr-wallet", raw, f"network byte {data[0]} is not Monero mainnet")
    if _keccak(data[:-4])[:4] != data[-4:]:
        raise InvalidObservable("xmr-wallet", raw, "Monero checksum does not match")
    return text
