"""`normalize` and `observable`: one normaliser per observable type, behind one door.

Every normaliser takes text already stripped and refanged and returns the canonical
value or raises `InvalidObservable` with the reason; `normalize` does the stripping and
refanging and reports the raw text as the caller gave it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.asn import normalize_asn
from marsad.model.normalize.domain import normalize_domain
from marsad.model.normalize.email import normalize_email
from marsad.model.normalize.hashes import (
    normalize_md5,
    normalize_sha1,
    normalize_sha256,
    normalize_sha512,
    normalize_ssdeep,
    normalize_tls_sha256,
    normalize_tlsh,
)
from marsad.model.normalize.iban import normalize_iban
from marsad.model.normalize.ip import normalize_cidr, normalize_ipv4, normalize_ipv6
from marsad.model.normalize.onion import normalize_onion
from marsad.model.normalize.phone import normalize_phone
from marsad.model.normalize.refang import refang
from marsad.model.normalize.tracking import normalize_tracking_id
from marsad.model.normalize.url import normalize_url
from marsad.model.normalize.wallets import (
    normalize_btc,
    normalize_eth,
    normalize_ltc,
    normalize_trx,
    normalize_xmr,
)
from marsad.model.observable import Observable, ObservableType

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""C0 controls and DEL: never part of an indicator, and PostgreSQL cannot store NUL."""

T = ObservableType
NORMALISERS: Final[dict[ObservableType, Callable[[str], str]]] = {
    T.IPV4: normalize_ipv4,
    T.IPV6: normalize_ipv6,
    T.CIDR: normalize_cidr,
    T.DOMAIN: normalize_domain,
    T.URL: normalize_url,
    T.EMAIL: normalize_email,
    T.MD5: normalize_md5,
    T.SHA1: normalize_sha1,
    T.SHA256: normalize_sha256,
    T.SHA512: normalize_sha512,
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


def normalize(type: ObservableType, raw: str) -> str:
    """The canonical value of ``raw`` as ``type``; InvalidObservable(.reason) says why not."""
    text = refang(raw.strip())
    if not text:
        raise InvalidObservable(type.value, raw, "empty value")
    if not text.isprintable() and (control := _CONTROL.search(text)):
        raise InvalidObservable(
            type.value, raw, f"contains the control character U+{ord(control.group()):04X}"
        )
    try:
        return NORMALISERS[type](text)
    except InvalidObservable as exc:
        if exc.raw == raw and exc.type_name == type.value:
            raise
        raise InvalidObservable(type.value, raw, exc.reason) from None


def observable(type: ObservableType, raw: str) -> Observable:
    """A normalised Observable of the given type; InvalidObservable when ``raw`` is not one."""
    return Observable(type, normalize(type, raw))
