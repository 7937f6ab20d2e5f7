"""`detect` and `expand`: the type of one raw token, and what a value implies.

`detect` runs on every line of a plain list, so it dispatches on cheap tests (first
character, length, presence of ``://`` ``@`` ``:`` ``.``) and runs at most one or two
normalisers. Where a token fits several types it decides as follows:

* 32/40/64/128 hex digits are md5/sha1/sha256/sha512 (never tls-sha256, which, like a
  colon-separated fingerprint, only comes from explicit typing); 70 hex digits are TLSH.
* Anything with ``://`` is a URL; a value without a scheme (``example.com/login``) is
  not one and is not guessed.
* A dotted name is a domain only when its top-level label is in the public suffix list,
  so that file names (``setup.exe``) and internal names (``nas.local``) are not.
* A bare number is not an ASN (only ``AS123`` is); ``3…`` Base58Check is btc, not ltc.
* A phone number needs its ``+`` (or ``00``) country code.
"""

from __future__ import annotations

from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.dispatch import NORMALISERS
from marsad.model.normalize.domain import (
    domain_reason,
    has_known_suffix,
    normalize_host,
    registered_domain,
)
from marsad.model.normalize.hashes import HEX_DIGITS, ssdeep_parts
from marsad.model.normalize.ip import is_ipv4, normalize_ipv6
from marsad.model.normalize.onion import normalize_onion
from marsad.model.normalize.refang import refang
from marsad.model.normalize.tracking import PREFIXES as TRACKING_PREFIXES
from marsad.model.normalize.url import url_host
from marsad.model.observable import Observable, ObservableType

T = ObservableType
_URL, _EMAIL, _DOMAIN, _IPV4, _IPV6 = T.URL, T.EMAIL, T.DOMAIN, T.IPV4, T.IPV6
_CIDR, _ONION, _SSDEEP = T.CIDR, T.ONION, T.SSDEEP
_HASH_BY_LENGTH: Final = {32: T.MD5, 40: T.SHA1, 64: T.SHA256, 128: T.SHA512}
_DIGITS: Final = "0123456789"
_IPV6_CHARS: Final = frozenset("0123456789abcdefABCDEF:.")


def _attempt(kind: ObservableType, text: str) -> Observable | None:
    try:
        return Observable(kind, NORMALISERS[kind](text))
    except InvalidObservable:
        return None


def _dotted(text: str) -> Observable | None:
    """A token with dots and no ``:``/``@``: IPv4, CIDR, onion or domain."""
    if text[0] in _DIGITS:
        if "/" in text:
            return _attempt(_CIDR, text)
        if is_ipv4(text):
            return Observable(_IPV4, text)
        if not text.strip(_DIGITS + "."):
            return None  # digits and dots that are no IPv4 (999.1.2.3, 1.2.3): a version
    if "/" in text:
        return None
    try:
        name = normalize_host(text)
    except InvalidObservable:
        return None
    if name.endswith(".onion"):
        return _attempt(_ONION, name)
    if domain_reason(name) is None and has_known_suffix(name):
        return Observable(_DOMAIN, name)
    return None


def _colon(text: str) -> Observable | None:
    """A token with ``:`` and no ``://``/``@``: ssdeep, IPv6 or IPv6 CIDR."""
    if text[0] in _DIGITS and text.count(":") >= 2:
        parts = ssdeep_parts(text)
        if parts is not None and parts[1] and parts[2] and not (parts[1] + parts[2]).isdigit():
            return Observable(_SSDEEP, "{}:{}:{}".format(*parts))
    if text[0] == "[" and text[-1] == "]":
        text = text[1:-1]
    if "/" in text:
        return _attempt(_CIDR, text) if _IPV6_CHARS.issuperset(text.replace("/", "")) else None
    if text.count(":") < 2 or not _IPV6_CHARS.issuperset(text):
        return None
    try:
        return Observable(_IPV6, normalize_ipv6(text))
    except InvalidObservable:
        return None


def _plain(text: str) -> Observable | None:
    """A token without ``.``/``:``/``@``: hashes, wallets, ids."""
    n = len(text)
    first = text[0]
    if not text.strip(HEX_DIGITS):
        kind = _HASH_BY_LENGTH.get(n)
        if kind is not None:
            return Observable(kind, text.lower())
        if n == 70:
            return Observable(T.TLSH, text.upper())
    if first == "+":
        return _attempt(T.PHONE, text)
    if first == "0" and n == 42 and text[1] in "xX":
        return _attempt(T.ETH_WALLET, text)
    head = text[:8].upper()
    if head.startswith("AS") and n > 2 and not text[2:].strip(_DIGITS):
        return _attempt(T.ASN, text)
    if head.startswith(TRACKING_PREFIXES):
        return _attempt(T.TRACKING_ID, text)
    if head.startswith("BC1"):
        return _attempt(T.BTC_WALLET, text)
    if head.startswith("LTC1"):
        return _attempt(T.LTC_WALLET, text)
    if head.startswith("T1") and n == 72:
        return _attempt(T.TLSH, text)
    if first in "13" and 25 <= n <= 35:
        return _attempt(T.BTC_WALLET, text)
    if first == "T" and n == 34:
        return _attempt(T.TRX_WALLET, text)
    if first in "LM" and 33 <= n <= 34:
        return _attempt(T.LTC_WALLET, text)
    if first in "48" and n in (95, 106):
        return _attempt(T.XMR_WALLET, text)
    if n >= 15 and head[:2].isalpha() and head[2:4].isdigit():
        return _attempt(T.IBAN, text)
    return None


def detect(raw: str) -> Observable | None:
    """The observable one raw token most likely is, normalised; None when nothing fits."""
    text = refang(raw.strip())
    if not text:
        return None
    if "://" in text:
        return _attempt(_URL, text)
    if "@" in text:
        return _attempt(_EMAIL, text) if "/" not in text else None
    if ":" in text:
        return _colon(text)
    if "." in text:
        return _dotted(text)
    return _plain(text)


def _host(host: str) -> Observable | None:
    """The observable a canonical URL host is: IPv4, IPv6, onion or domain."""
    if host[:1] == "[":
        return Observable(_IPV6, host[1:-1])
    if is_ipv4(host):
        return Observable(_IPV4, host)
    if host.endswith(".onion"):
        try:
            return Observable(_ONION, normalize_onion(host))
        except InvalidObservable:
            return None
    return Observable(_DOMAIN, host) if domain_reason(host) is None else None


def expand(raw: str) -> list[Observable]:
    """detect(raw), then what it implies: URL → host → registered domain; e-mail → domain → registered."""
    found = detect(raw)
    if found is None:
        return []
    out = [found]
    host: Observable | None = None
    if found.type is _URL:
        host = _host(url_host(found.value))
    elif found.type is _EMAIL:
        host = Observable(_DOMAIN, found.value.rpartition("@")[2])
    elif found.type is _DOMAIN:
        host = found
    if host is None:
        return out
    if host != found:
        out.append(host)
    if host.type is _DOMAIN:
        registered = registered_domain(host.value)
        if registered and registered != host.value:
            out.append(Observable(_DOMAIN, registered))
    return out
