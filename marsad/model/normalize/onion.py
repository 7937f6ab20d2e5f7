"""Tor onion service addresses, version 3 only (v2 was retired in 2021).

Canonical form is ``<56 base32 characters>.onion`` in lower case; subdomains, a
``scheme://`` prefix, a port and any path are dropped, since they name the same service. The
checksum is verified as rend-spec-v3 defines it:
``checksum = SHA3-256(".onion checksum" | pubkey | version)[:2]``, version byte 3.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from marsad.model.errors import InvalidObservable

_NAME: Final = re.compile(r"[a-z2-7]{56}\Z")


def onion_reason(name: str) -> str | None:
    """Why a 56-character lower-case name is not a valid v3 onion name, or None."""
    if _NAME.match(name) is None:
        return "a v3 onion name is 56 base32 characters (v2 is retired)"
    data = base64.b32decode(name.upper())
    pubkey, checksum, version = data[:32], data[32:34], data[34]
    if version != 3:
        return f"onion version byte is {version}, expected 3"
    if checksum != hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]:
        return "onion checksum does not match the public key"
    return None


def normalize_onion(raw: str) -> str:
    """A v3 onion address ``<56 base32>.onion`` with a valid checksum; subdomains dropped."""
    text = raw.lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rpartition("@")[2].partition(":")[0].rstrip(".")
    labels = text.split(".")
    if len(labels) < 2 or labels[-1] != "onion":
        raise InvalidObservable("onion", raw, "an onion address ends in .onion")
    reason = onion_reason(labels[-2])
    if reason is not None:
        raise InvalidObservable("onion", raw, reason)
    return f"{labels[-2]}.onion"
