"""Shapes of values already in canonical form, for bulk input that is mostly clean.

A value that matches one of these patterns is exactly what `normalize` returns for it, so
a bulk reader may take it as it is and send only the rest through the normaliser (tests
check the claim on generated values). The shapes are deliberately narrow: anything with
upper case, a trailing dot, IDN or ``xn--`` labels, a port, user info, a percent-escape,
a bracket or brace, whitespace, non-ASCII or a defanged scheme is left to the normaliser.
"""

from __future__ import annotations

import re
from typing import Final

# A label without hyphens at its ends (underscores allowed: service labels), 1-63 long.
_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
# A domain's top-level label: no underscore, not all digits, not onion (its own type).
_TLD: Final = r"(?![0-9]+\Z)(?!onion\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"

CANONICAL_DOMAIN: Final = re.compile(rf"(?=[^\n]{{1,253}}\Z)(?![^\n]*xn--)(?:{_LABEL}\.)+{_TLD}\Z")
"""A domain name `normalize(DOMAIN, v)` returns unchanged (match with ``.match``)."""

# Path and query: printable ASCII without "#" (fragment), "%" (escapes), brackets and
# braces (defanging markers); the query may hold "?".
_PATH: Final = r"/[\x21\x22\x24\x26\x27\x2a-\x3e\x40-\x5a\x5c\x5e-\x7a\x7c\x7e]*+"
_QUERY: Final = r"\?[\x21\x22\x24\x26\x27\x2a-\x5a\x5c\x5e-\x7a\x7c\x7e]*+"

CANONICAL_URL: Final = re.compile(
    # no defanged scheme (hxxp:, fxp: …) anywhere, as `refang` would rewrite it
    r"(?![^\n]*\b(?:[hH][xX][xX]?[pP]|[fF][xX][pP])[sS]?:)"
    # lower-case scheme; a host name (not an IP: it ends in a letter or underscore) of at
    # most 253 characters without xn-- labels; no user info, no port
    rf"[a-z][a-z0-9+.-]*+://(?=[^/\n]{{1,253}}/)(?![^/\n]*xn--){_LABEL}(?:\.{_LABEL})*(?<=[a-z_])"
    rf"{_PATH}(?:{_QUERY})?\Z"
)
"""A URL `normalize(URL, v)` returns unchanged (match with ``.match``)."""
