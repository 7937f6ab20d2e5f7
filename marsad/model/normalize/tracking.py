"""Web tracking and ad-publisher ids: the threads that tie piracy and scam sites together.

Google Analytics ``UA-<account>-<property>`` and GA4 ``G-XXXXXXXXXX``, Google Tag
Manager ``GTM-XXXXXXX`` (prefix and id in upper case), AdSense publisher ids
``ca-pub-<16 digits>`` or ``pub-<16 digits>``, both written ``ca-pub-…`` in lower case
as Google prints them.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable

# (pattern, canonical prefix): the canonical value is the prefix + the upper-cased match.
_TRACKING: Final = (
    (re.compile(r"UA-([0-9]{4,10}-[0-9]{1,4})\Z", re.I), "UA-"),
    (re.compile(r"G-([A-Z0-9]{8,12})\Z", re.I), "G-"),
    (re.compile(r"GTM-([A-Z0-9]{4,9})\Z", re.I), "GTM-"),
    (re.compile(r"(?:ca-)?pub-([0-9]{16})\Z", re.I), "ca-pub-"),
)
PREFIXES: Final = ("UA-", "G-", "GTM-", "CA-PUB-", "PUB-")


def normalize_tracking_id(raw: str) -> str:
    """Google Analytics UA-/G-, Tag Manager GTM-, AdSense ca-pub-/pub- (as ca-pub-)."""
    for pattern, prefix in _TRACKING:
        m = pattern.match(raw)
        if m is not None:
            return prefix + m[1].upper()
    raise InvalidObservable("tracking-id", raw, "expected UA-…-…, G-…, GTM-… or ca-pub-<16 digits>")
