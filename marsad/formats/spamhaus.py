"""Spamhaus DROP / EDROP / ASN-DROP lists: netblocks and networks run by criminals.

``CIDR ; SBL-id`` and ``ASnnn ; CC | name`` lines; the ``Last-Modified`` header dates them.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator

from marsad.formats.feedutil import value_of
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "spamhaus"
DESCRIPTION = "Spamhaus DROP/EDROP/ASN-DROP lists (CIDR or AS with the Spamhaus reference)"


def sniff(raw: bytes) -> bool:
    """The Spamhaus banner in the comment header."""
    head = raw[:512]
    return head.lstrip()[:1] == b";" and b"Spamhaus" in head and b"DROP" in head


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per listed network, dated by the list's Last-Modified header."""
    modified: dt.datetime | None = None
    for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        text = line.strip()
        if text.startswith(";"):
            if text.lower().startswith("; last-modified:"):
                modified = email.utils.parsedate_to_datetime(text.split(":", 1)[1].strip())
            continue
        if not text:
            continue
        value, _, reference = (part.strip() for part in text.partition(";"))
        kind = ObservableType.ASN if value.upper().startswith("AS") else ObservableType.CIDR
        try:
            network = value_of(kind, value)
        except InvalidObservable as exc:
            yield Rejected(location=f"line {number}", reason=exc.reason, raw=line)
            continue
        yield AssertionRecord(
            observable=network, threat_type=meta.default_threat_type or ThreatType.MALICIOUS_ACTIVITY,
            location=f"line {number}", first_seen=modified, description=reference or None,
        )  # fmt: skip
