"""The format registry: every format module, and auto-detection by content.

A format module exposes NAME, DESCRIPTION, ``sniff(raw) -> bool`` and
``parse(raw, meta) -> Iterator[Record]``. Detection tries them most specific first; the
plain list is the format of last resort. Formats whose content cannot be told apart from
another's (OpenPhish's URL list, mapped columns, plain-text reports) never claim a file by
sniffing: the submitter names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from marsad.formats import (
    csv_simple,
    feodo,
    freetext,
    intelmq,
    mapped,
    misp,
    openphish,
    phishtank,
    plain,
    shadowserver,
    spamhaus,
    stix21,
    threatfox,
    urlhaus,
)
from marsad.model.errors import FormatError
from marsad.model.records import AssertionBlock, ConsumedBlock, ParseMeta, Record


class Format(NamedTuple):
    """One input format."""

    name: str
    description: str
    sniff: Callable[[bytes], bool]
    parse: Callable[[bytes, ParseMeta], Iterator[Record]]
    # the same records with runs of assertions as blocks (ingest reads these when offered)
    parse_blocks: (
        Callable[[bytes, ParseMeta], Iterator[Record | AssertionBlock | ConsumedBlock]] | None
    ) = None


FORMATS: tuple[Format, ...] = tuple(
    Format(m.NAME, m.DESCRIPTION, m.sniff, m.parse, getattr(m, "parse_blocks", None))
    for m in (
        *(stix21, misp, intelmq, threatfox, feodo, phishtank, urlhaus, spamhaus, shadowserver),
        *(freetext, csv_simple, plain),
        *(openphish, mapped),  # never detected: chosen by name (or by a column mapping)
    )
)


def get_format(name: str) -> Format:
    """The format called ``name``; a clear error lists the known ones."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise FormatError(
        f"unknown format {name!r}; known formats: " + ", ".join(f.name for f in FORMATS)
    )


def detect_format(raw: bytes) -> Format:
    """The first format whose sniffer accepts the content."""
    for fmt in FORMATS:
        if fmt.sniff(raw):
            return fmt
    raise FormatError("the content is not in any supported format (binary or not UTF-8)")
