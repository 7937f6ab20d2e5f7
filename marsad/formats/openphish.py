"""OpenPhish community feed (``feed.txt``): one phishing URL per line.

The feed has no banner, header or other mark: by content it is any list of URLs, so this
format is never detected; name it with ``--format openphish``. (Detected as a plain list,
the same file gets the threat type of ``--threat-type`` instead.)
"""

from __future__ import annotations

from collections.abc import Iterator

from marsad.formats.feedutil import value_of
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "openphish"
DESCRIPTION = "OpenPhish feed.txt, one phishing URL per line (only with --format openphish)"


def sniff(raw: bytes) -> bool:
    """Never: a list of URLs cannot be told apart from any other list by its content."""
    return False


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """A phishing assertion per URL line; lines that are no URL are rejected with their number."""
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        try:
            url = value_of(ObservableType.URL, value)
        except InvalidObservable as exc:
            yield Rejected(location=f"line {number}", reason=exc.reason, raw=line)
            continue
        yield AssertionRecord(
            observable=url, threat_type=ThreatType.PHISHING, location=f"line {number}"
        )
