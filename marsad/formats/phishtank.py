"""PhishTank verified-online JSON: phishing URLs, their target brand and hosting IPs."""

from __future__ import annotations

from collections.abc import Iterator

from marsad.formats.feedutil import compact, feed_time, json_list, value_of
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import (
    AssertionRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)

NAME = "phishtank"
DESCRIPTION = "PhishTank online-valid JSON: phishing URLs, targets and hosting IPs"


def sniff(raw: bytes) -> bool:
    """A JSON array whose entries carry phish_id."""
    head = raw[:2048].lstrip()
    return head[:1] == b"[" and b'"phish_id"' in head


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """A phishing assertion per URL, one per hosting IP, and a hosted-on edge between them."""
    for i, entry in enumerate(json_list(raw, "PhishTank")):
        loc = f"$[{i}]"
        if not isinstance(entry, dict):
            yield Rejected(location=loc, reason="entry is not a JSON object", raw=compact(entry))
            continue
        try:
            url = value_of(ObservableType.URL, entry.get("url"))
        except InvalidObservable as exc:
            yield Rejected(location=loc, reason=f"url: {exc.reason}", raw=compact(entry))
            continue
        seen = feed_time(entry.get("submission_time"))
        target = entry.get("target")
        yield AssertionRecord(
            observable=url, threat_type=ThreatType.PHISHING, location=loc, first_seen=seen,
            last_seen=feed_time(entry.get("verification_time")) or seen,
            description=f"phishing {target}" if target else None,
            stix_id=None, name=f"PhishTank {entry.get('phish_id')}",
        )  # fmt: skip
        for d, detail in enumerate(entry.get("details") or []):
            where = f"{loc}.details[{d}]"
            try:
                ip = value_of(None, (detail or {}).get("ip_address"))
            except InvalidObservable as exc:
                yield Rejected(
                    location=where, reason=f"ip_address: {exc.reason}", raw=compact(detail)
                )
                continue
            yield AssertionRecord(
                observable=ip, threat_type=ThreatType.PHISHING, location=where,
                first_seen=feed_time(detail.get("detail_time")) or seen,
            )  # fmt: skip
            yield RelationshipRecord(
                source_ref=url.ref, target_ref=ip.ref, type="hosted-on", location=where
            )
