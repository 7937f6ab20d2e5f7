"""abuse.ch URLhaus CSV feeds: malware download URLs with their date, status and threat.

Columns are read from the commented header line (``# Dateadded (UTC),URL,…`` in the
TLD/country feeds, ``# id,dateadded,url,…`` in the full dumps), so every variant maps.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final

from marsad.formats.feedutil import feed_time, value_of
from marsad.model.errors import FormatError, InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, Record, Rejected, ThreatType

NAME = "urlhaus"
DESCRIPTION = "abuse.ch URLhaus CSV feed: malware download URLs"

THREATS: Final = {"malware_download": ThreatType.MALWARE_DISTRIBUTION}


def sniff(raw: bytes) -> bool:
    """The URLhaus banner in the comment header."""
    return b"URLhaus" in raw[:1024] and raw.lstrip()[:1] == b"#"


def _columns(lines: list[str]) -> tuple[list[str], int]:
    header, start = None, 0
    for number, line in enumerate(lines):
        if not line.startswith("#"):
            start = number
            break
        columns = [c.strip().split(" ")[0] for c in line.lstrip("# ").lower().split(",")]
        if "url" in columns:
            header = columns
    if header is None:
        raise FormatError("URLhaus feed without its '# …,url,…' header line")
    return header, start


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per URL row; a bad URL rejects its row with the line number."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    header, start = _columns(lines)
    rows = csv.reader(io.StringIO("\n".join(lines[start:])))
    for offset, cells in enumerate(rows):
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue  # blank lines and the trailing '# of entries' comment
        number = start + offset + 1
        row = dict(zip(header, cells, strict=False))
        try:
            url = value_of(ObservableType.URL, row.get("url"))
        except InvalidObservable as exc:
            yield Rejected(
                location=f"line {number}, column url", reason=exc.reason, raw=",".join(cells)
            )
            continue
        threat = THREATS.get(
            row.get("threat", ""), meta.default_threat_type or ThreatType.MALWARE_DISTRIBUTION
        )
        status = row.get("url_status", "")
        yield AssertionRecord(
            observable=url, threat_type=threat, location=f"line {number}",
            first_seen=feed_time(row.get("dateadded")), last_seen=feed_time(row.get("last_online")),
            description=f"URLhaus: {status}".strip(": ") if status else None,
        )  # fmt: skip
