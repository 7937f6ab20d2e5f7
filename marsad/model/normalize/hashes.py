"""File hashes, fuzzy hashes and TLS certificate fingerprints."""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable

HEX_LENGTHS: Final = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_SSDEEP: Final = re.compile(r"(\d+):([A-Za-z0-9/+]+):([A-Za-z0-9/+]+)(?:,.*)?\Z")
_TLSH: Final = re.compile(r"(T1)?([0-9A-Fa-f]{70})\Z")


def is_hex(text: str) -> bool:
    """Only hexadecimal digits."""
    return bool(text) and all(c in _HEX for c in text)


def normalize_hex_hash(kind: str, raw: str) -> str:
    """Lower-case hex of the exact length of the algorithm."""
    text = raw.strip()
    want = HEX_LENGTHS[kind]
    if len(text) != want:
        raise InvalidObservable(
            kind, raw, f"{kind} is {want} hex digits, got {len(text)} characters"
        )
    if not is_hex(text):
        raise InvalidObservable(kind, raw, "not hexadecimal")
    return text.lower()


def normalize_ssdeep(raw: str) -> str:
    """``blocksize:hash:hash``; a trailing ``,"filename"`` is dropped."""
    m = _SSDEEP.match(raw.strip())
    if m is None:
        raise InvalidObservable("ssdeep", raw, "expected blocksize:hash:hash")
    return f"{int(m.group(1))}:{m.group(2)}:{m.group(3)}"


def normalize_tlsh(raw: str) -> str:
    """TLSH digest in upper case, keeping the ``T1`` version prefix when present."""
    m = _TLSH.match(raw.strip())
    if m is None:
        raise InvalidObservable("tlsh", raw, "expected T1 followed by 70 hex digits")
    return (m.group(1) or "") + m.group(2).upper()


def normalize_tls_sha256(raw: str) -> str:
    """Certificate SHA-256 fingerprint as 64 lower-case hex digits (colons removed)."""
    text = raw.strip().replace(":", "").replace(" ", "")
    if len(text) != 64 or not is_hex(text):
        raise InvalidObservable("tls-sha256", raw, "a SHA-256 fingerprint is 32 bytes of hex")
    return text.lower()
