"""Identifiers: phone numbers, IBANs, ASNs and web tracking ids."""

from __future__ import annotations

import re
from typing import Final

import phonenumbers

from marsad.model.errors import InvalidObservable

# ISO 13616 registry lengths (SWIFT IBAN registry).
IBAN_LENGTHS: Final = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "LY": 25,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SD": 18,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}
# (pattern, canonical prefix): the canonical value is the prefix + the upper-cased match.
_TRACKING: Final = (
    (re.compile(r"UA-(\d{4,10}-\d{1,4})\Z", re.I), "UA-"),
    (re.compile(r"G-([A-Z0-9]{8,12})\Z", re.I), "G-"),
    (re.compile(r"GTM-([A-Z0-9]{4,9})\Z", re.I), "GTM-"),
    (re.compile(r"(?:ca-)?pub-(\d{16})\Z", re.I), "ca-pub-"),
)
_ASN: Final = re.compile(r"(?:AS)?\s*(\d{1,10})\Z", re.I)


def normalize_phone(raw: str) -> str:
    """E.164; the number must carry its country code (``+`` or ``00``)."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        raise InvalidObservable(
            "phone", raw, "needs an international +country code (no region is guessed)"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidObservable("phone", raw, str(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidObservable("phone", raw, "not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_iban(raw: str) -> str:
    """Upper case without spaces; registry length and ISO 7064 mod-97 check."""
    text = raw.replace(" ", "").replace("-", "").strip().upper()
    country = text[:2]
    want = IBAN_LENGTHS.get(country)
    if want is None:
        raise InvalidObservable("iban", raw, f"{country!r} is not an IBAN country")
    if len(text) != want:
        raise InvalidObservable(
            "iban", raw, f"a {country} IBAN has {want} characters, got {len(text)}"
        )
    if not text.isalnum() or not text.isascii() or not text[2:4].isdigit():
        raise InvalidObservable(
            "iban", raw, "IBANs are letters and digits, check digits after the country"
        )
    digits = "".join(str(int(c, 36)) for c in text[4:] + text[:4])
    if int(digits) % 97 != 1:
        raise InvalidObservable("iban", raw, "IBAN check digits do not match (mod 97)")
    return text


def normalize_asn(raw: str) -> str:
    """``AS`` + the number, 1 to 2^32-1."""
    m = _ASN.match(raw.strip())
    if m is None:
        raise InvalidObservable("asn", raw, "expected AS followed by a number")
    number = int(m[1])
    if not 0 < number < 2**32:
        raise InvalidObservable("asn", raw, "AS numbers run from 1 to 4294967295")
    return f"AS{number}"


def normalize_tracking_id(raw: str) -> str:
    """Google Analytics UA-/G-, Tag Manager GTM-, AdSense ca-pub-/pub- (as ca-pub-)."""
    text = raw.strip()
    for pattern, prefix in _TRACKING:
        m = pattern.match(text)
        if m is not None:
            return prefix + m[1].upper()
    raise InvalidObservable("tracking-id", raw, "expected UA-…-…, G-…, GTM-… or ca-pub-<16 digits>")
