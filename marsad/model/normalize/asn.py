"""Autonomous system numbers: ``AS12345``, ``as12345``, ``AS 12345`` or ``12345``.

Canonical form is ``AS`` + the decimal number without leading zeros, 1 to 2³²-1
(AS0 is reserved and never routed). Dotted ``AS1.10`` (asdot) notation is not accepted.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable

_ASN: Final = re.compile(r"(?:[Aa][Ss] ?)?([0-9]{1,10})\Z")


def normalize_asn(raw: str) -> str:
    """``AS`` + the number, 1 to 4294967295."""
    m = _ASN.match(raw)
    if m is None:
        raise InvalidObservable("asn", raw, "expected AS followed by a number")
    number = int(m[1])
    if not 0 < number < 2**32:
        raise InvalidObservable("asn", raw, "AS numbers run from 1 to 4294967295")
    return f"AS{number}"
