"""Observable types and the observable value object.

An observable's identity is (type, value) with the value already normalised; the
normalisers in `marsad.model.normalize` are the only way to build one from raw text.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class ObservableType(StrEnum):
    """Every kind of value Marsad tracks; the string is the stored type name."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    SSDEEP = "ssdeep"
    TLSH = "tlsh"
    BTC_WALLET = "btc-wallet"
    ETH_WALLET = "eth-wallet"
    TRX_WALLET = "trx-wallet"
    LTC_WALLET = "ltc-wallet"
    XMR_WALLET = "xmr-wallet"
    PHONE = "phone"
    IBAN = "iban"
    ASN = "asn"
    TRACKING_ID = "tracking-id"
    TLS_SHA256 = "tls-sha256"
    ONION = "onion"


class Observable(msgspec.Struct, frozen=True, order=True):
    """A typed, normalised value; build it with `marsad.model.normalize.observable`."""

    type: ObservableType
    value: str

    @property
    def ref(self) -> str:
        """The stable textual reference used by relationships: ``type:value``."""
        return f"{self.type.value}:{self.value}"


def parse_ref(ref: str) -> Observable | None:
    """Turn an observable ``type:value`` reference back into an Observable, else None."""
    kind, sep, value = ref.partition(":")
    if not sep:
        return None
    try:
        return Observable(ObservableType(kind), value)
    except ValueError:
        return None
