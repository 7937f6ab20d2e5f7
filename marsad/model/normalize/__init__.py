"""Observable normalisers: pure functions from raw text to the one canonical value.

`normalize(type, raw)` refangs, validates and canonicalises, raising `InvalidObservable`
with the reason; `detect(raw)` guesses the type of one token cheaply (it runs on every line
of a list) and never raises; `expand(raw)` adds what a value implies, for search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.domain import (
    has_known_suffix,
    normalize_domain,
    normalize_email,
    normalize_onion,
    registered_domain,
)
from marsad.model.normalize.hashes import (
    HEX_LENGTHS,
    is_hex,
    normalize_hex_hash,
    normalize_ssdeep,
    normalize_tls_sha256,
    normalize_tlsh,
)
from marsad.model.normalize.ids import (
    normalize_asn,
    normalize_iban,
    normalize_phone,
    normalize_tracking_id,
)
from marsad.model.normalize.net import normalize_cidr, normalize_ipv4, normalize_ipv6
from marsad.model.normalize.refang import refang
from marsad.model.normalize.url import normalize_url, url_host
from marsad.model.normalize.wallets import (
    normalize_btc,
    normalize_eth,
    normalize_ltc,
    normalize_trx,
    normalize_xmr,
)
from marsad.model.observable import Observable, ObservableType

__all__ = ["detect", "expand", "normalize", "observable", "refang", "registered_domain"]

T = ObservableType
NORMALISERS: Final[dict[ObservableType, Callable[[str], str]]] = {
    T.IPV4: normalize_ipv4,
    T.IPV6: normalize_ipv6,
    T.CIDR: normalize_cidr,
    T.DOMAIN: normalize_domain,
    T.URL: normalize_url,
    T.EMAIL: normalize_email,
    T.MD5: lambda v: normalize_hex_hash("md5", v),
    T.SHA1: lambda v: normalize_hex_hash("sha1", v),
    T.SHA256: lambda v: normalize_hex_hash("sha256", v),
    T.SHA512: lambda v: normalize_hex_hash("sha512", v),
    T.SSDEEP: normalize_ssdeep,
    T.TLSH: normalize_tlsh,
    T.BTC_WALLET: normalize_btc,
    T.ETH_WALLET: normalize_eth,
    T.TRX_WALLET: normalize_trx,
    T.LTC_WALLET: normalize_ltc,
    T.XMR_WALLET: normalize_xmr,
    T.PHONE: normalize_phone,
    T.IBAN: normalize_iban,
    T.ASN: normalize_asn,
    T.TRACKING_ID: normalize_tracking_id,
    T.TLS_SHA256: normalize_tls_sha256,
    T.ONION: normalize_onion,
}
_HASH_BY_LENGTH: Final = {n: T(kind) for kind, n in HEX_LENGTHS.items()}
_TRACKING_PREFIXES: Final = ("UA-", "G-", "GTM-", "CA-PUB-", "PUB-")


def normalize(type: ObservableType, raw: str) -> str:
    """The canonical value of ``raw`` as ``type``; InvalidObservable says why not."""
    text = refang(raw.strip())
    if not text:
        raise InvalidObservable(type.value, raw, "empty value")
    try:
        return NORMALISERS[type](text)
    except InvalidObservable as exc:
        if exc.raw == raw:
            raise
        raise InvalidObservable(type.value, raw, exc.reason) from None


def observable(type: ObservableType, raw: str) -> Observable:
    """A normalised Observable of the given type."""
    return Observable(type, normalize(type, raw))


def _guess(text: str) -> ObservableType | None:
    """The one type worth trying for a refanged token, from cheap character tests."""
    if "://" in text:
        return T.URL
    if "@" in text:
        return T.EMAIL if "/" not in text else None
    n = len(text)
    if n in _HASH_BY_LENGTH and is_hex(text):
        return _HASH_BY_LENGTH[n]
    first = text[0]
    if ":" in text:
        if "/" in text:
            return T.CIDR
        if text[0].isdigit() and text.split(":", 1)[0].isdigit() and text.count(":") == 2:
            return T.SSDEEP
        if n == 95 and text.count(":") == 31:
            return T.TLS_SHA256
        return T.IPV6
    if first.isdigit() and text.replace(".", "").replace("/", "").isdigit():
        return T.CIDR if "/" in text else T.IPV4 if text.count(".") == 3 else None
    if first == "+":
        return T.PHONE
    upper = text[:8].upper()
    if upper.startswith(_TRACKING_PREFIXES):
        return T.TRACKING_ID
    if first == "0" and text[1:2] in ("x", "X"):
        return T.ETH_WALLET
    if "." in text:
        if text.rstrip(".").lower().endswith(".onion"):
            return T.ONION
        return T.DOMAIN
    if upper.startswith("AS") and text[2:].strip().isdigit():
        return T.ASN
    if upper.startswith("BC1"):
        return T.BTC_WALLET
    if upper.startswith("LTC1"):
        return T.LTC_WALLET
    if upper.startswith("T1") and n == 72:
        return T.TLSH
    if first in "13" and 25 <= n <= 35:
        return T.BTC_WALLET
    if first == "T" and n == 34:
        return T.TRX_WALLET
    if first in "LM" and 33 <= n <= 34:
        return T.LTC_WALLET
    if first in "48" and n in (95, 106):
        return T.XMR_WALLET
    if n >= 15 and text[:2].isalpha() and text[2:4].isdigit():
        return T.IBAN
    return None


def detect(raw: str) -> Observable | None:
    """The observable one raw token most likely is, normalised; None when nothing fits."""
    text = refang(raw.strip())
    if not text:
        return None
    kind = _guess(text)
    if kind is None:
        return None
    try:
        value = NORMALISERS[kind](text)
    except InvalidObservable:
        return None
    if kind is T.DOMAIN and not has_known_suffix(value):
        return None  # file names and internal names look like domains
    return Observable(kind, value)


def _host_observable(host: str) -> Observable | None:
    if host.startswith("["):
        return Observable(T.IPV6, host[1:-1])
    if host.replace(".", "").isdigit():
        return Observable(T.IPV4, host)
    try:
        return Observable(T.DOMAIN, normalize_domain(host))
    except InvalidObservable:
        return None


def expand(raw: str) -> list[Observable]:
    """A value and what it implies: URL → host → registered domain; e-mail → domain → registered."""
    found = detect(raw)
    if found is None:
        return []
    out = [found]
    host: Observable | None = None
    if found.type is T.URL:
        host = _host_observable(url_host(found.value))
    elif found.type is T.EMAIL:
        host = Observable(T.DOMAIN, found.value.rpartition("@")[2])
    elif found.type is T.DOMAIN:
        host = found
    if host is not None and host is not found:
        out.append(host)
    if host is not None and host.type is T.DOMAIN:
        registered = registered_domain(host.value)
        if registered and registered != host.value:
            out.append(Observable(T.DOMAIN, registered))
    return out
