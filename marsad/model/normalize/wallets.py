"""Cryptocurrency wallet addresses (mainnet), each with its checksum verified.

btc: Base58Check P2PKH ``1…`` (version 0x00) / P2SH ``3…`` (0x05), or segwit ``bc1…``.
ltc: Base58Check ``L…`` (0x30), ``M…`` (0x32), legacy P2SH ``3…`` (0x05), or ``ltc1…``.
A ``3…`` address is both; `detect` calls it btc. trx: Base58Check ``T…`` (0x41).
Base58Check values are case-sensitive and kept as written; segwit ones are lower-cased.
eth: ``0x`` + 40 hex; a mixed-case input must carry a valid EIP-55 checksum (all-lower
and all-upper carry none); the canonical form is the EIP-55 checksummed address.
xmr: Monero block Base58 (8-byte blocks → 11 characters), network byte 18 (standard
``4…``, 95 characters), 42 (subaddress ``8…``, 95) or 19 (integrated ``4…``, 106), and
a checksum of the first 4 bytes of Keccak-256 over the rest.
"""

from __future__ import annotations

from typing import Final

import base58
from Crypto.Hash import keccak

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.bech32 import normalize_segwit

B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(B58_ALPHABET)}
XMR_BLOCK_CHARS: Final = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # encoded length of 0..8 bytes
_XMR_LENGTHS: Final = {18: 95, 42: 95, 19: 106}  # network byte -> address length
_HEX: Final = "0123456789abcdefABCDEF"


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (the pre-standard SHA-3 that Ethereum and Monero use)."""
    return keccak.new(digest_bits=256, data=data).digest()


def _base58check(kind: str, raw: str, versions: tuple[int, ...]) -> str:
    if not 25 <= len(raw) <= 35:
        raise InvalidObservable(kind, raw, "a Base58Check address is 25 to 35 characters")
    bad = raw.strip(B58_ALPHABET)
    if bad:
        raise InvalidObservable(kind, raw, f"{bad[0]!r} is not a base58 character")
    try:
        payload = base58.b58decode_check(raw)
    except ValueError:
        raise InvalidObservable(kind, raw, "Base58Check checksum does not match") from None
    if len(payload) != 21 or payload[0] not in versions:
        version = payload[0] if payload else 0
        raise InvalidObservable(kind, raw, f"version byte {version:#04x} is not a {kind} address")
    return raw


def _looks_segwit(raw: str, hrp: str) -> bool:
    """Segwit for ``hrp``, or too long for Base58Check with an hrp-like head (``tb1…``)."""
    head = raw[: len(hrp) + 1].lower()
    return head == hrp + "1" or (len(raw) > 35 and 0 < raw.find("1") <= 4)


def normalize_btc(raw: str) -> str:
    """Bitcoin mainnet: P2PKH ``1…``, P2SH ``3…``, segwit ``bc1…``."""
    if _looks_segwit(raw, "bc"):
        return normalize_segwit("btc-wallet", raw, "bc")
    return _base58check("btc-wallet", raw, (0x00, 0x05))


def normalize_ltc(raw: str) -> str:
    """Litecoin mainnet: ``L…``, ``M…``, ``3…`` and segwit ``ltc1…``."""
    if _looks_segwit(raw, "ltc"):
        return normalize_segwit("ltc-wallet", raw, "ltc")
    return _base58check("ltc-wallet", raw, (0x30, 0x32, 0x05))


def normalize_trx(raw: str) -> str:
    """Tron: Base58Check, version 0x41, ``T…``."""
    return _base58check("trx-wallet", raw, (0x41,))


def eip55(lower_hex: str) -> str:
    """The EIP-55 mixed-case spelling of 40 lower-case hex digits."""
    digest = keccak256(lower_hex.encode()).hex()
    return "".join(
        c.upper() if d in "89abcdef" else c for c, d in zip(lower_hex, digest, strict=False)
    )


def normalize_eth(raw: str) -> str:
    """EIP-55 checksummed ``0x`` + 40 hex; a mixed-case input must carry a valid checksum."""
    body = raw[2:]
    if raw[:2] not in ("0x", "0X") or len(body) != 40 or body.strip(_HEX):
        raise InvalidObservable("eth-wallet", raw, "expected 0x followed by 40 hex digits")
    lower = body.lower()
    checksummed = eip55(lower)
    if body != lower and body != body.upper() and body != checksummed:
        raise InvalidObservable("eth-wallet", raw, "EIP-55 mixed-case checksum does not match")
    return "0x" + checksummed


def _xmr_decode(raw: str) -> bytes:
    out = bytearray()
    for start in range(0, len(raw), 11):
        block = raw[start : start + 11]
        size = XMR_BLOCK_CHARS.index(len(block)) if len(block) in XMR_BLOCK_CHARS else -1
        if size < 0:
            raise InvalidObservable("xmr-wallet", raw, "not a Monero base58 length")
        number = 0
        for c in block:
            digit = _B58_INDEX.get(c)
            if digit is None:
                raise InvalidObservable("xmr-wallet", raw, f"{c!r} is not a base58 character")
            number = number * 58 + digit
        if number >> (8 * size):
            raise InvalidObservable("xmr-wallet", raw, "Monero base58 block overflows")
        out += number.to_bytes(size, "big")
    return bytes(out)


def normalize_xmr(raw: str) -> str:
    """Monero mainnet standard (``4…``), subaddress (``8…``) or integrated address."""
    if len(raw) not in (95, 106):
        raise InvalidObservable("xmr-wallet", raw, "a Monero address is 95 or 106 characters")
    data = _xmr_decode(raw)
    want = _XMR_LENGTHS.get(data[0])
    if want is None:
        raise InvalidObservable("xmr-wallet", raw, f"network byte {data[0]} is not Monero mainnet")
    if want != len(raw):
        raise InvalidObservable(
            "xmr-wallet", raw, f"network byte {data[0]} needs a {want}-character address"
        )
    if keccak256(data[:-4])[:4] != data[-4:]:
        raise InvalidObservable("xmr-wallet", raw, "Monero checksum does not match")
    return raw
