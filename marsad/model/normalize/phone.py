"""Phone numbers in E.164 (``+`` country code and national number, digits only).

The number must carry its country code: ``+…`` or the ``00…`` international prefix (read
as ``+``). Nothing else is accepted — no default region is guessed, since a feed's
country says nothing about a number's. The number must be valid for its country by the
`phonenumbers` metadata; spaces, dots, dashes and brackets are allowed in the input.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from phonenumbers import NumberParseException

from marsad.model.errors import InvalidObservable

_PARSE_REASONS: Final = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "national number too short",
    NumberParseException.TOO_LONG: "too long for a phone number",
}


def normalize_phone(raw: str) -> str:
    """E.164; the number must carry its country code (``+`` or ``00``)."""
    text = "+" + raw[2:] if raw[:2] == "00" else raw
    if text[:1] != "+":
        raise InvalidObservable(
            "phone", raw, "needs an international +country code (no region is guessed)"
        )
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        raise InvalidObservable("phone", raw, reason) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidObservable("phone", raw, "not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
