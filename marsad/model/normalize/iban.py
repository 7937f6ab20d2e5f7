"""IBANs (ISO 13616): the account number fraud reports and money-mule cases carry.

Canonical form is upper case without spaces or hyphens. The country code must be one of
the SWIFT IBAN registry countries below and the length the registry length for it; the
check digits are verified with ISO 7064 mod 97-10. The national account format (BBAN
layout) is not checked beyond letters and digits.
"""

from __future__ import annotations

from typing import Final

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


def iban_reason(text: str) -> str | None:
    """Why an upper-case, space-free string is not a valid IBAN, or None when it is one."""
    country = text[:2]
    want = IBAN_LENGTHS.get(country)
    if want is None:
        return f"{country!r} is not an IBAN country"
    if len(text) != want:
        return f"a {country} IBAN has {want} characters, got {len(text)}"
    if not text.isascii() or not text.isalnum() or not text[2:4].isdigit():
        return "IBANs are letters and digits, check digits after the country"
    rearranged = text[4:] + text[:4]
    if int("".join(str(int(c, 36)) for c in rearranged)) % 97 != 1:
        return "IBAN check digits do not match (mod 97)"
    return None


def normalize_iban(raw: str) -> str:
    """Upper case without spaces; registry length and ISO 7064 mod-97 check."""
    text = raw.replace(" ", "").replace("-", "").upper()
    reason = iban_reason(text)
    if reason is not None:
        raise InvalidObservable("iban", raw, reason)
    return text
