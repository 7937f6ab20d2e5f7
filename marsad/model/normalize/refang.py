"""Refanging: undo the defanging analysts apply so that values cannot be clicked."""

from __future__ import annotations

import re
from typing import Final

_BRACKETED: Final = re.compile(
    r"\s*(?:\[\s*(\.|dot|:|://|@|at)\s*\]|\(\s*(\.|dot|@|at)\s*\)|\{\s*(\.|dot|@)\s*\})\s*",
    re.IGNORECASE,
)
_SCHEMES: Final = re.compile(r"(?i)\b(hxxp|hxp|fxp)(s?)(?=:)")
_PLAIN: Final = {".": ".", "dot": ".", ":": ":", "://": "://", "@": "@", "at": "@"}
_SCHEME_OF: Final = {"hxxp": "http", "hxp": "http", "fxp": "ftp"}
_MARKERS: Final = ("[", "(", "{", "xp")


def _bracket(m: re.Match[str]) -> str:
    token = next(g for g in m.groups() if g is not None)
    return _PLAIN[token.lower()]


def _scheme(m: re.Match[str]) -> str:
    return _SCHEME_OF[m.group(1).lower()] + m.group(2)


def refang(text: str) -> str:
    """Undo ``hxxp``/``fxp``, ``[.]`` ``(.)`` ``{.}`` ``[dot]``, ``[:]`` ``[://]``, ``[@]`` ``(at)``."""
    if not any(marker in text for marker in _MARKERS) and "XP" not in text.upper():
        return text
    return _SCHEMES.sub(_scheme, _BRACKETED.sub(_bracket, text))
