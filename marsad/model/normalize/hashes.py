"""File hashes, fuzzy hashes and TLS certificate fingerprints.

md5/sha1/sha256/sha512: lower-case hex of exactly 32/40/64/128 digits. ssdeep:
``blocksize:hash:hash`` with a block size of 3·2ⁿ and base64 hash parts; a trailing
``,"file name"`` (ssdeep's own output) is dropped. TLSH: ``T1`` + 70 hex digits, upper
case (a lower-case ``t1`` is accepted), or the legacy 70 hex digits without the version
prefix, kept without it (we do not invent a version). tls-sha256: a certificate SHA-256
fingerprint, colon-separated (``AB:CD:…``) or plain, as 64 lower-case hex digits.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable

HEX_LENGTHS: Final = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
HEX_DIGITS: Final = "0123456789abcdefABCDEF"
_SSDEEP: Final = re.compile(r"([0-9]{1,10}):([A-Za-z0-9/+]*):([A-Za-z0-9/+]*)(?:,.*)?\Z", re.DOTALL)
_SSDEEP_BLOCKS: Final = frozenset(3 << n for n in range(32))


def is_hex(text: str) -> bool:
    """Only hexadecimal digits, and at least one."""
    return bool(text) and not text.strip(HEX_DIGITS)


def normalize_hex_hash(kind: str, text: str) -> str:
    """Lower-case hex of the exact length of the algorithm."""
    want = HEX_LENGTHS[kind]
    if len(text) == want and not text.strip(HEX_DIGITS):
        return text.lower()
    if len(text) != want:
        raise InvalidObservable(
            kind, text, f"{kind} is {want} hex digits, got {len(text)} characters"
        )
    raise InvalidObservable(kind, text, "not hexadecimal")


def normalize_md5(text: str) -> str:
    """32 lower-case hex digits."""
    return normalize_hex_hash("md5", text)


def normalize_sha1(text: str) -> str:
    """40 lower-case hex digits."""
    return normalize_hex_hash("sha1", text)


def normalize_sha256(text: str) -> str:
    """64 lower-case hex digits."""
    return normalize_hex_hash("sha256", text)


def normalize_sha512(text: str) -> str:
    """128 lower-case hex digits."""
    return normalize_hex_hash("sha512", text)


def ssdeep_parts(text: str) -> tuple[int, str, str] | None:
    """(block size, hash, hash) when ``text`` has the ssdeep shape and a valid block size."""
    m = _SSDEEP.match(text)
    if m is None or int(m[1]) not in _SSDEEP_BLOCKS:
        return None
    return int(m[1]), m[2], m[3]


def normalize_ssdeep(text: str) -> str:
    """``blocksize:hash:hash``; a trailing ``,"filename"`` is dropped."""
    parts = ssdeep_parts(text)
    if parts is None:
        if _SSDEEP.match(text) is not None:
            raise InvalidObservable("ssdeep", text, "ssdeep block sizes are 3 times a power of two")
        raise InvalidObservable("ssdeep", text, "expected blocksize:hash:hash (base64 hashes)")
    return "{}:{}:{}".format(*parts)


def normalize_tlsh(text: str) -> str:
    """``T1`` + 70 upper-case hex digits, or the legacy 70 hex digits."""
    body = text[2:] if text[:2] in ("T1", "t1") and len(text) == 72 else text
    if len(body) != 70 or body.strip(HEX_DIGITS):
        raise InvalidObservable("tlsh", text, "expected T1 followed by 70 hex digits")
    return ("T1" if body is not text else "") + body.upper()


def normalize_tls_sha256(text: str) -> str:
    """Certificate SHA-256 fingerprint as 64 lower-case hex digits (colons removed)."""
    plain = text.replace(":", "").replace(" ", "")
    if len(plain) != 64 or plain.strip(HEX_DIGITS):
        raise InvalidObservable("tls-sha256", text, "a SHA-256 fingerprint is 32 bytes of hex")
    return plain.lower()
