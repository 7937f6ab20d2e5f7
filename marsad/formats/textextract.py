"""Indicators in free text: refang, find candidates, type them with our normalisers, drop noise.

Why our own and not a library: of the maintained extractors on PyPI, iocsearcher pulls in
some fifteen packages (a Solana binding, libmagic, docx and readability stacks), drops
documentation ranges and read 0.27 MB/s of report text here; ioc-finder (pyparsing) gives
no positions, so no context snippet, at 0.47 MB/s (this module: 1.2 MB/s, same text);
iocextract is unmaintained since 2023, imports ``requests`` and took 4 s for 50 kB with
many false hits (``9800998``, ``billingatacme…``). What a hit *is*
must anyway be decided by our normalisers (the same canonical values every format
produces), so this module only finds candidates: one compiled pattern over each refanged
line, each candidate typed by ``marsad.model.normalize.detect``.

False positives dropped: dotted versions taken for IPv4 (``version 1.2.3.4``, ``v1.2.3.4``,
``build 10.0.1.2``), file names taken for domains (``invoice.pdf`` fails the TLD check;
``payload.zip``, ``run.sh``, ``notes.md`` have real TLDs, so a two-label name with a
file-like TLD counts only when the author defanged it, and a name inside a file path never
does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, NamedTuple

from marsad.model.normalize import detect, refang
from marsad.model.observable import Observable, ObservableType

CONTEXT: Final = 60  # characters of context on each side of a hit

# Real TLDs that are also common file extensions (payload.zip, run.sh, notes.md, x.one).
FILE_TLDS: Final = frozenset(
    {"zip", "mov", "py", "sh", "pl", "rs", "md", "ps", "one", "pm", "ai", "cat", "mk", "app",
     "pub", "run", "ml", "so", "ms", "sc"}
)  # fmt: skip
_VERSION_BEFORE: Final = re.compile(
    r"(?i)(?:\bv|\bver|\bversion|\brelease|\bbuild|\brev|\brevision|\bfirmware|\bfw|\bupdate)"
    r"[.:]?\s*$"
)
_HOST: Final = r"[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?"
_B58: Final = "1-9A-HJ-NP-Za-km-z"
CANDIDATES: Final = re.compile(
    r"(?P<url>\b(?:https?|ftps?|sftp)://[^\s<>\"'`{}|\\^]+)"
    r"|(?P<email>(?<![\w.+-])[\w.+-]{1,64}@(?:" + _HOST + r"\.)+[a-z\u00a1-\uffff]{2,63}(?![\w-]))"
    r"|(?P<ipv6>(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:/\d{1,3})?(?![\w:]))"
    r"|(?P<ipv4>(?<![\w.-])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w-]|\.\w))"
    r"|(?P<hash>(?<![\w-])[0-9a-f]{32,128}(?![\w-]))"
    r"|(?P<eth>\b0x[0-9a-f]{40}\b)"
    r"|(?P<domain>(?<![\w@.-])(?:"
    + _HOST
    + r"\.)+[a-z\u00a1-\uffff][a-z0-9\u00a1-\uffff-]{1,62}(?![\w-]|\.\w))"
    r"|(?P<wallet>\b(?:bc1[02-9ac-hj-np-z]{11,87}|ltc1[02-9ac-hj-np-z]{11,87}|[13LMT]["
    + _B58
    + r"]{25,34}|[48]["
    + _B58
    + r"]{94,105})\b)"
    r"|(?P<asn>\bAS\d{1,10}\b)",
    re.IGNORECASE,
)
_TRAILING: Final = ".,;:!?'\")]}>*"
_PAIRS: Final = {")": "(", "]": "[", "}": "{"}


class Hit(NamedTuple):
    """One indicator found in a line: its value, where it starts, and the text around it."""

    observable: Observable
    offset: int
    context: str


def refang_text(text: str) -> str:
    """``text`` refanged until nothing changes, so that refanging it again is a no-op.

    Nested markers (``[[.]]``) need a pass per level. Every pass that changes something
    shortens the text, except scheme fixes (``hxxp``), which cannot recur, so this ends.
    """
    while True:
        again = refang(text)
        if again == text:
            return text
        text = again


def _trim_url(url: str) -> str:
    """A URL without the sentence punctuation after it; closing brackets only when unbalanced."""
    while url and url[-1] in _TRAILING:
        last = url[-1]
        if last in _PAIRS and url.count(_PAIRS[last]) >= url.count(last):
            break
        url = url[:-1]
    return url


def _context(line: str, start: int, end: int) -> str:
    """The hit with up to CONTEXT characters each side, cut at word boundaries."""
    left, right = max(0, start - CONTEXT), min(len(line), end + CONTEXT)
    if left:
        space = line.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < len(line):
        space = line.rfind(" ", end, right)
        right = space if space >= 0 else right
    snippet = " ".join(line[left:right].split())
    return ("…" if left else "") + snippet + ("…" if right < len(line) else "")


def _is_file_name(token: str, line: str, start: int, original: str) -> bool:
    """A dotted name that is a file, not a domain: in a path, or name.ext not defanged."""
    if start and line[start - 1] in "/\\":
        return True
    labels = token.lower().split(".")
    return len(labels) == 2 and labels[-1] in FILE_TLDS and token.lower() in original.lower()


def _noise(kind: str | None, token: str, line: str, start: int, original: str) -> bool:
    """A version number taken for an IPv4, or a file name taken for a domain."""
    if kind == "ipv4":
        return _VERSION_BEFORE.search(line, max(0, start - 16), start) is not None
    return kind == "domain" and _is_file_name(token, line, start, original)


def find_indicators(original: str) -> Iterator[Hit]:
    """The indicators in one line of text (defanged or not), each with its context."""
    line = refang_text(original)
    for m in CANDIDATES.finditer(line):
        kind = m.lastgroup
        token = m.group()
        start = m.start()
        if kind == "url":
            token = _trim_url(token)
        elif _noise(kind, token, line, start, original):
            continue
        found = detect(token)
        if found is None or (kind == "domain" and found.type is ObservableType.IPV4):
            continue
        yield Hit(found, start, _context(line, start, start + len(token)))
