"""E-mail addresses: ``local@domain``.

The local part is kept exactly as written: RFC 5321 lets a server treat it
case-sensitively, and lower-casing would merge two values a source kept apart. The domain
is normalised as a domain (lower case, IDNA A-labels). A ``mailto:`` prefix is dropped.
The local part is checked loosely (1-64 characters, no spaces or ``<>()[],;:"@``): feeds
carry real-world addresses, not RFC 5322 showcase ones.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.domain import normalize_domain

_LOCAL: Final = re.compile(r'[^\s<>()\[\],;:"@]{1,64}\Z')


def normalize_email(raw: str) -> str:
    """``local@domain`` with the local part as written and the domain canonical."""
    text = raw[7:] if raw[:7].lower() == "mailto:" else raw
    local, at, host = text.rpartition("@")
    if not at or not local or not host:
        raise InvalidObservable("email", raw, "an e-mail address is local@domain")
    if _LOCAL.match(local) is None:
        raise InvalidObservable("email", raw, f"local part {local[:64]!r} is not valid")
    try:
        domain = normalize_domain(host)
    except InvalidObservable as exc:
        raise InvalidObservable("email", raw, f"domain: {exc.reason}") from None
    return f"{local}@{domain}"
