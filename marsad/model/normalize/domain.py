"""Domains, e-mail addresses, onion v3 addresses and the registered domain.

Domains are lower case without the trailing dot; Unicode names become their IDNA A-label
(punycode) form, so that ``bücher.example`` and ``xn--bcher-kva.example`` are one value.
The registered domain comes from the public suffix list that the `publicsuffixlist`
package ships; nothing is downloaded at run time. E-mail addresses are lower-cased whole:
providers treat the local part case-insensitively and correlation across feeds needs one
spelling.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from typing import Final

import idna
from publicsuffixlist import PublicSuffixList

from marsad.model.errors import InvalidObservable

_LABEL: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_ONION: Final = re.compile(r"[a-z2-7]{56}\Z")
_PSL: Final = PublicSuffixList()


def _host_labels(kind: str, raw: str, text: str) -> str:
    if not text.isascii():
        try:
            text = idna.encode(text, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidObservable(
                kind, raw, f"not a valid internationalised name ({exc})"
            ) from None
    if len(text) > 253:
        raise InvalidObservable(kind, raw, "longer than 253 characters")
    for label in text.split("."):
        if not label:
            raise InvalidObservable(kind, raw, "empty label (two dots in a row)")
        if not _LABEL.match(label):
            raise InvalidObservable(kind, raw, f"label {label[:63]!r} is not a valid DNS label")
    return text


def normalize_host(raw: str, *, kind: str = "domain") -> str:
    """A host name of one or more labels (URL hosts may be single-label)."""
    text = raw.strip().rstrip(".").lower()
    if not text:
        raise InvalidObservable(kind, raw, "empty name")
    return _host_labels(kind, raw, text)


def normalize_domain(raw: str) -> str:
    """A fully qualified domain name: two labels or more, alphabetic top-level label."""
    text = normalize_host(raw)
    _, dot, tld = text.rpartition(".")
    if not dot:
        raise InvalidObservable("domain", raw, "a domain needs at least two labels")
    if tld.isdigit() or "_" in tld:
        raise InvalidObservable("domain", raw, f"top-level label {tld!r} is not a valid TLD")
    if tld == "onion":
        raise InvalidObservable("domain", raw, "onion addresses are their own type (onion)")
    return text


def normalize_email(raw: str) -> str:
    """``local@domain``, lower-cased, domain normalised."""
    text = raw.strip().removeprefix("mailto:")
    local, at, host = text.rpartition("@")
    if not at or not local or not host:
        raise InvalidObservable("email", raw, "an e-mail address is local@domain")
    if len(local) > 64 or any(c.isspace() or c in '<>()[],;:"' for c in local) or "@" in local:
        raise InvalidObservable("email", raw, f"local part {local[:64]!r} is not valid")
    try:
        domain = normalize_domain(host)
    except InvalidObservable as exc:
        raise InvalidObservable("email", raw, exc.reason) from None
    return f"{local.lower()}@{domain}"


def normalize_onion(raw: str) -> str:
    """A v3 onion address ``<56 base32>.onion`` with a valid checksum; subdomains dropped."""
    text = raw.strip().rstrip(".").lower().removeprefix("http://").removeprefix("https://")
    text = text.split("/", 1)[0]
    labels = text.split(".")
    if len(labels) < 2 or labels[-1] != "onion":
        raise InvalidObservable("onion", raw, "an onion address ends in .onion")
    name = labels[-2]
    if not _ONION.match(name):
        raise InvalidObservable(
            "onion", raw, "a v3 onion name is 56 base32 characters (v2 is retired)"
        )
    data = base64.b32decode(name.upper())
    pubkey, checksum, version = data[:32], data[32:34], data[34]
    if version != 3:
        raise InvalidObservable("onion", raw, f"onion version byte is {version}, expected 3")
    expected = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    if checksum != expected:
        raise InvalidObservable("onion", raw, "onion checksum does not match the public key")
    return f"{name}.onion"


def has_known_suffix(domain: str) -> bool:
    """Whether a normalised domain ends in a suffix of the public suffix list.

    Auto-detection uses it to tell ``setup.exe`` or ``config.local`` from a domain.
    """
    return _PSL.publicsuffix(domain, accept_unknown=False) is not None


@lru_cache(maxsize=65536)
def registered_domain(domain: str) -> str | None:
    """The registered domain (eTLD+1) of a normalised domain; None for a bare public suffix."""
    found = _PSL.privatesuffix(domain)
    return str(found) if found else None
