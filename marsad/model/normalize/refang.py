"""Refanging: undo the defanging analysts apply so that values cannot be clicked.

Recognised: ``hxxp``/``hxxps``/``hxp``/``fxp`` schemes (any case), and the bracketed
forms ``[.]`` ``(.)`` ``{.}`` ``[dot]`` ``(dot)`` ``{dot}``, ``[:]`` ``[://]``, ``[@]``
``(@)`` ``{@}`` ``[at]`` ``(at)``, with any spaces inside or around the brackets (so
``john (at) example [dot] com`` becomes ``john@example.com``). Text with no bracket and
no ``xp`` is returned as is without touching a regex: this runs on every ingested value.
"""

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


def _bracket(m: re.Match[str]) -> str:
    token = next(g for g in m.groups() if g is not None)
    return _PLAIN[token.lower()]


def _scheme(m: re.Match[str]) -> str:
    return _SCHEME_OF[m.group(1).lower()] + m.group(2).lower()


def refang(text: str) -> str:
    """``text`` with every defanging marker replaced by the character it stands for."""
    if "[" in text or "(" in text or "{" in text:
        text = _BRACKETED.sub(_bracket, text)
    elif "xp" not in text and "XP" not in text and "xP" not in text and "Xp" not in text:
        return text
    return _SCHEMES.sub(_scheme, text)
