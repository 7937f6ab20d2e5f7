"""A small, fast reader of *simple* STIX patterns.

Simple means: equality comparisons ``[type:path = 'v']`` joined by OR (inside one bracket
or between brackets, parentheses allowed), plus ANDs inside one bracket when every
comparison is a hash of the same object (``[file:hashes.MD5 = 'a' AND file:hashes.'SHA-1'
= 'b']``: one file, several names for it). Anything else (AND between observations,
FOLLOWEDBY, qualifiers, !=, LIKE, MATCHES, IN, …) is *complex* and returns None, so the
caller keeps the whole pattern instead of guessing. A hand-written regex scanner rather
than the ANTLR grammar, because it runs once per indicator on million-object bundles.
"""

from __future__ import annotations

import re
from typing import Final

Comparison = tuple[str, str, str]
"""(SCO type, property path without quotes, literal value unescaped)."""

_PATH: Final = r"(?:[A-Za-z0-9_-]+|'[^']*')(?:\.(?:[A-Za-z0-9_-]+|'[^']*')|\[(?:\d+|\*)\])*"
_CMP: Final = rf"([a-z0-9][a-z0-9-]*):({_PATH})\s*=\s*(?:'([^'\\]*(?:\\.[^'\\]*)*)'|(-?\d+))"
_SINGLE: Final = re.compile(rf"\s*\[\s*{_CMP}\s*\]\s*")
_TOKEN: Final = re.compile(rf"\s*(?:([\[\]()])|(OR|AND)(?![A-Za-z0-9_])|{_CMP})")
_ESCAPE: Final = re.compile(r"\\(.)")
_HEAD: Final = re.compile(rf"\s*([a-z0-9][a-z0-9-]*):({_PATH})\s*")
_heads: dict[str, tuple[str, str] | None] = {}


def _comparison(sco: str, path: str, text: str | None, number: str | None) -> Comparison:
    if "'" in path:
        path = path.replace("'", "")
    if text is None:
        return sco, path, number or ""
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return sco, path, text


def parse_simple(pattern: str) -> list[Comparison] | None:
    """The comparisons of a simple pattern, or None when the pattern is complex."""
    found = split_single(pattern)
    return [found] if found is not None else parse_general(pattern)


def split_single(pattern: str) -> Comparison | None:
    """The one comparison of ``[type:path = 'v']`` with a plain literal, read by string
    splitting (heads repeat, so they are cached); None for any other pattern, which
    `parse_general` reads (or finds complex)."""
    if pattern[:1] == "[" and pattern[-2:] == "']":
        head, sep, literal = pattern[1:-2].partition("= '")
        if sep and "'" not in literal and "\\" not in literal:
            if head in _heads:
                found = _heads[head]
            else:
                m = _HEAD.fullmatch(head)
                found = (m.group(1), m.group(2).replace("'", "")) if m else None
                if len(_heads) < 4096:
                    _heads[head] = found
            if found is not None:
                return found[0], found[1], literal
    return None


def parse_general(pattern: str) -> list[Comparison] | None:
    """`parse_simple` without its string-splitting shortcut (the reference for tests)."""
    single = _SINGLE.fullmatch(pattern)
    if single is not None:
        return [_comparison(*single.groups())]
    out: list[Comparison] = []
    in_bracket = False
    bracket: list[Comparison] = []
    ops: set[str] = set()
    pos, end = 0, len(pattern)
    expect_operand = True
    while pos < end:
        m = _TOKEN.match(pattern, pos)
        if m is None:
            if pattern[pos:].strip():
                return None
            break
        pos = m.end()
        punct, op, sco = m.group(1), m.group(2), m.group(3)
        if sco is not None:
            if not in_bracket or not expect_operand:
                return None
            bracket.append(_comparison(sco, m.group(4), m.group(5), m.group(6)))
            expect_operand = False
        elif op is not None:
            if expect_operand:
                return None
            if op == "AND" and not in_bracket:
                return None
            if in_bracket:
                ops.add(op)
            expect_operand = True
        elif punct == "[":
            if in_bracket or not expect_operand:
                return None
            in_bracket, bracket, ops = True, [], set()
        elif punct == "]":
            if not in_bracket or expect_operand or not _bracket_ok(bracket, ops):
                return None
            out.extend(bracket)
            in_bracket, expect_operand = False, False
        # parentheses group ORs only, so they change nothing here
    if in_bracket or expect_operand or not out:
        return None
    return out


def _bracket_ok(comparisons: list[Comparison], ops: set[str]) -> bool:
    """ORs alone are fine; ANDs only when all are hashes of one object type."""
    if "AND" not in ops:
        return True
    if "OR" in ops:
        return False
    first = comparisons[0][0]
    return all(sco == first and path.startswith("hashes.") for sco, path, _ in comparisons)


def escape_literal(value: str) -> str:
    """A value quoted as a STIX pattern string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
