"""Plain lists: one value per line, type auto-detected.

Accepts ``#``/``//``/``;`` comment lines, trailing comments after whitespace, and hosts
files (``0.0.0.0 example.com``), which is how many blocklists are published.
"""

from __future__ import annotations

from collections.abc import Iterator

from marsad.model.normalize import detect
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "list"
DESCRIPTION = "plain list, one value per line (hosts-file lines accepted), type auto-detected"

_COMMENT_STARTS = ("#", "//", ";", "!")
_HOSTS_SINKS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "::0"})


def sniff(raw: bytes) -> bool:
    """Any UTF-8 text can be a list; this is the format of last resort."""
    try:
        raw[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def value_of_line(line: str) -> str | None:
    """The value on a list line, or None for blank and comment lines."""
    text = line.strip()
    if not text or text.startswith(_COMMENT_STARTS):
        return None
    parts = text.split()
    if len(parts) >= 2 and parts[0] in _HOSTS_SINKS:
        return parts[1]
    return parts[0]


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per recognised line; unrecognised lines are rejected with the line number."""
    threat = meta.default_threat_type or ThreatType.UNKNOWN
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        value = value_of_line(line)
        if value is None:
            continue
        found = detect(value)
        if found is None:
            yield Rejected(
                location=f"line {number}",
                reason=f"{value[:80]!r} is not a recognised observable",
                raw=line,
            )
        else:
            yield AssertionRecord(observable=found, threat_type=threat, location=f"line {number}")
