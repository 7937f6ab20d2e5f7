"""abuse.ch Feodo Tracker IP blocklist (JSON): botnet C2 servers and their malware family."""

from __future__ import annotations

from collections.abc import Iterator

from marsad.formats.feedutil import compact, feed_time, json_list, value_of
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import (
    AssertionRecord,
    EntityRecord,
    ParseMeta,
    Record,
    Rejected,
    RelationshipRecord,
    ThreatType,
)

NAME = "feodo"
DESCRIPTION = "abuse.ch Feodo Tracker IP blocklist (JSON): C2 servers, port and malware family"


def sniff(raw: bytes) -> bool:
    """A JSON array whose entries carry ip_address and malware."""
    head = raw[:2048].lstrip()
    return head[:1] == b"[" and b'"ip_address"' in head and b'"malware"' in head


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One C2 assertion per entry, and an edge to its malware family."""
    families: dict[str, str] = {}
    for i, entry in enumerate(json_list(raw, "Feodo Tracker")):
        loc = f"$[{i}]"
        if not isinstance(entry, dict):
            yield Rejected(location=loc, reason="entry is not a JSON object", raw=compact(entry))
            continue
        try:
            ip = value_of(None, entry.get("ip_address"))
        except InvalidObservable as exc:
            yield Rejected(location=loc, reason=f"ip_address: {exc.reason}", raw=compact(entry))
            continue
        if ip.type not in (ObservableType.IPV4, ObservableType.IPV6):
            yield Rejected(
                location=loc, reason="ip_address is not an IP address", raw=compact(entry)
            )
            continue
        malware = str(entry.get("malware") or "unknown")
        yield AssertionRecord(
            observable=ip, threat_type=ThreatType.C2, location=loc,
            first_seen=feed_time(entry.get("first_seen")),
            last_seen=feed_time(entry.get("last_online")),
            description=f"{malware} C2 on port {entry.get('port')} ({entry.get('status')})",
        )  # fmt: skip
        ref = families.setdefault(malware, f"malware--feodo-{malware.lower()}")
        yield RelationshipRecord(source_ref=ip.ref, target_ref=ref, type="c2-of", location=loc)
    for name, ref in families.items():
        yield EntityRecord(ref=ref, kind="malware", name=name, location="$")
