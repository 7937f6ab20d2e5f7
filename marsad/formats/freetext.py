"""Free-text threat reports (PDF, HTML, Markdown, plain text): indicators with their context.

PDF (by its ``%PDF-`` magic) and HTML (by ``<!doctype html``/``<html``) are detected by
content; Markdown and plain text only with ``--format text``, since any list is also text.
The document becomes a ``report`` entity (its title, sha256, format, pages) with a
``refers-to`` edge to every indicator it mentions; each indicator is one assertion, located
at its first mention (``page 2, line 14`` for PDF, the source line for HTML and text) with
the context of that mention and the number of mentions in its description. A report names
indicators without saying what they are, so the threat type is ``unknown`` unless
``--threat-type`` says otherwise. Text comes from pypdf (pure Python) and the standard
library's HTML parser; extraction and false-positive rules are in ``textextract``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Final, NamedTuple

from marsad.formats.textextract import Hit, find_indicators, refang_text
from marsad.model.errors import FormatError
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    RelationshipRecord,
    ThreatType,
)

NAME = "text"
DESCRIPTION = "free-text report: PDF, HTML (detected), Markdown/plain text (--format text only)"

REPORT_NS: Final = uuid.UUID("2b9f4c1e-7d3a-5e6b-8c0d-1f2e3a4b5c6d")
_BLOCKS: Final = frozenset(
    {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
     "table", "ul", "ol", "dt", "dd", "blockquote", "section", "article", "header", "footer",
     "title", "hr", "figcaption", "caption", "main", "nav", "form"}
)  # fmt: skip
_SKIP: Final = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HEADING: Final = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


class Line(NamedTuple):
    """A line of document text and where each stretch of it came from (offset, location)."""

    text: str
    anchors: list[tuple[int, str]]

    def locator(self) -> Callable[[int], str]:
        """Where the text at an offset of the *refanged* line came from."""
        anchors = self.anchors
        if len(anchors) > 1:  # refanging shortens the text before later anchors
            anchors = [(len(refang_text(self.text[:o])), loc) for o, loc in anchors]
        starts = [a[0] for a in anchors]
        return lambda offset: anchors[max(bisect_right(starts, offset) - 1, 0)][1]


class Document(NamedTuple):
    kind: str  # pdf | html | markdown | text
    title: str | None
    lines: list[Line]
    pages: int | None = None


def _is_pdf(raw: bytes) -> bool:
    return b"%PDF-" in raw[:1024]


def _is_html(raw: bytes) -> bool:
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith((b"<!--", b"<?xml")) and b"<html" in head
    )


def sniff(raw: bytes) -> bool:
    """PDF and HTML documents; plain text and Markdown are read only when named."""
    return _is_pdf(raw) or _is_html(raw)


def _pdf(raw: bytes) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the user's
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise FormatError("the PDF is encrypted; send it unencrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"not a readable PDF: {exc}") from None
    lines = [
        Line(text, [(0, f"page {p}, line {n}")])
        for p, page in enumerate(pages, start=1)
        for n, text in enumerate(page.splitlines(), start=1)
    ]
    return Document("pdf", str(title) if title else None, lines, len(pages))


class _HTMLText(HTMLParser):
    """Visible text in blocks, each piece anchored to its source line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.skipping = 0
        self.title: list[str] = []
        self.in_title = False
        self._text = ""
        self._anchors: list[tuple[int, str]] = []

    def _flush(self) -> None:
        if self._text.strip():
            self.lines.append(Line(self._text, self._anchors))
        self._text, self._anchors = "", []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        self.in_title = tag == "title" or self.in_title
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        if tag == "title":
            self.in_title = False
        if tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skipping:
            return
        line = self.getpos()[0]
        for n, piece in enumerate(data.split("\n")):
            self._text += " " if n else ""
            if piece.strip():
                self._anchors.append((len(self._text), f"line {line + n}"))
                self._text += piece


def _html(raw: bytes) -> Document:
    parser = _HTMLText()
    parser.feed(raw.decode("utf-8", errors="replace"))
    parser.close()
    parser._flush()
    title = " ".join("".join(parser.title).split()) or None
    return Document("html", title, parser.lines)


def _text(raw: bytes, filename: str | None) -> Document:
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    heading = _HEADING.search(text)
    markdown = heading is not None or (filename or "").lower().endswith((".md", ".markdown"))
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    title = heading.group(1) if heading else first[:120] if first else None
    lines = [Line(t, [(0, f"line {n}")]) for n, t in enumerate(text.splitlines(), start=1)]
    return Document("markdown" if markdown else "text", title, lines)


def read_document(raw: bytes, filename: str | None) -> Document:
    """The document's lines, title and kind, whatever it was sent as."""
    if _is_pdf(raw):
        return _pdf(raw)
    if _is_html(raw):
        return _html(raw)
    return _text(raw, filename)


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """The report entity, one assertion per distinct indicator, and a refers-to edge to each."""
    doc = read_document(raw, meta.filename)
    digest = hashlib.sha256(raw).hexdigest()
    ref = f"report--{uuid.uuid5(REPORT_NS, digest)}"
    first: dict[str, tuple[Hit, str]] = {}
    mentions: dict[str, int] = {}
    for line in doc.lines:
        hits = list(find_indicators(line.text))
        locate = line.locator() if hits else None
        for hit in hits:
            key = hit.observable.ref
            mentions[key] = mentions.get(key, 0) + 1
            if key not in first and locate is not None:
                first[key] = (hit, locate(hit.offset))
    attributes: dict[str, object] = {"format": doc.kind, "sha256": digest, "indicators": len(first)}
    if doc.pages is not None:
        attributes["pages"] = doc.pages
    if meta.filename:
        attributes["filename"] = meta.filename
    yield EntityRecord(
        ref=ref, kind="report", name=doc.title or meta.filename or f"report {digest[:12]}",
        location="document", attributes=attributes,
        description=f"{doc.kind} report, {len(first)} indicators in {len(doc.lines)} lines of text",
    )  # fmt: skip
    threat = meta.default_threat_type or ThreatType.UNKNOWN
    for key, (hit, loc) in first.items():
        times = mentions[key]
        said = f"mentioned {times} times, first: " if times > 1 else ""
        yield AssertionRecord(
            observable=hit.observable, threat_type=threat, location=loc,
            description=f"{said}“{hit.context}”",
        )  # fmt: skip
        yield RelationshipRecord(source_ref=ref, target_ref=key, type="refers-to", location=loc)
