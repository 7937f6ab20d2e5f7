"""IntelMQ events: JSON lines in IntelMQ's harmonised field names, in and out.

An existing IntelMQ deployment can feed Marsad (its file output) and read from it (its
file collector with the JSON parser). Each event's ``source.url``, ``source.fqdn``,
``source.ip`` and ``source.asn`` become assertions whose threat type comes from
``classification.type``; ``time.source`` is when the feed saw it, ``time.observation`` when
IntelMQ did.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

import orjson

from marsad.formats.feedutil import compact, feed_time, value_of
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType as O
from marsad.model.records import AssertionRecord, AssertionView, ParseMeta, Record, Rejected
from marsad.model.records import ThreatType as T

NAME = "intelmq"
DESCRIPTION = (
    "IntelMQ events, JSON lines with harmonised field names (source.ip, classification.type, …)"
)

# classification.type -> our threat type (IntelMQ's RSIT-based taxonomy)
CLASSIFICATION: Final[dict[str, T]] = {
    "phishing": T.PHISHING, "c2-server": T.C2, "malware-distribution": T.MALWARE_DISTRIBUTION,
    "infected-system": T.COMPROMISED, "malware-configuration": T.MALWARE, "spam": T.SPAM,
    "scanner": T.SCANNING, "brute-force": T.BRUTE_FORCE, "exploit": T.EXPLOITATION,
    "ddos": T.MALICIOUS_ACTIVITY, "blacklist": T.MALICIOUS_ACTIVITY, "proxy": T.ANONYMIZATION,
    "tor": T.ANONYMIZATION, "copyright": T.PIRACY, "masquerade": T.FRAUD,
    "compromised": T.COMPROMISED, "undetermined": T.UNKNOWN, "other": T.MALICIOUS_ACTIVITY,
    "vulnerable-system": T.VULNERABLE, "vulnerable-service": T.VULNERABLE,
    "potentially-unwanted-accessible": T.VULNERABLE,
}  # fmt: skip
# The reverse for export: our threat type -> classification.type
TO_CLASSIFICATION: Final[dict[T, str]] = {
    T.PHISHING: "phishing", T.C2: "c2-server", T.MALWARE_DISTRIBUTION: "malware-distribution",
    T.COMPROMISED: "infected-system", T.MALWARE: "malware-configuration", T.SPAM: "spam",
    T.SCANNING: "scanner", T.BRUTE_FORCE: "brute-force", T.EXPLOITATION: "exploit",
    T.ANONYMIZATION: "proxy", T.PIRACY: "copyright", T.FRAUD: "masquerade",
    T.INVESTMENT_SCAM: "masquerade", T.ROMANCE_SCAM: "masquerade", T.BEC: "masquerade",
    T.UNKNOWN: "undetermined", T.VULNERABLE: "vulnerable-system",
}  # fmt: skip
FIELDS: Final = (("source.url", O.URL), ("source.fqdn", O.DOMAIN), ("source.ip", None),
                 ("source.asn", O.ASN))  # fmt: skip
FIELD_OF: Final = {O.URL: "source.url", O.DOMAIN: "source.fqdn", O.IPV4: "source.ip",
                   O.IPV6: "source.ip", O.ASN: "source.asn"}  # fmt: skip


def sniff(raw: bytes) -> bool:
    """The first line is a JSON object with IntelMQ's harmonised keys."""
    first = raw.lstrip()[:4096].split(b"\n", 1)[0]
    return first[:1] == b"{" and (
        b'"classification.type"' in first or b'"time.observation"' in first
    )


def parse(raw: bytes, meta: ParseMeta) -> Iterator[Record]:
    """One assertion per source value of each event line."""
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        loc = f"line {number}"
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejected(location=f"{loc}, column {exc.colno}", reason=f"not valid JSON: {exc.msg}",
                           raw=line.decode("utf-8", "replace"))  # fmt: skip
            continue
        if not isinstance(event, dict):
            yield Rejected(location=loc, reason="event is not a JSON object", raw=compact(event))
            continue
        kind = str(event.get("classification.type") or "")
        threat = CLASSIFICATION.get(kind, meta.default_threat_type or T.UNKNOWN)
        detail = " ".join(str(event[k]) for k in ("feed.name", "malware.name") if event.get(k))
        found = False
        for field, wanted in FIELDS:
            if field not in event or event[field] in (None, ""):
                continue
            found = True
            try:
                obs = value_of(wanted, event[field])
            except InvalidObservable as exc:
                yield Rejected(location=f"{loc}, {field}", reason=exc.reason, raw=compact(event))
                continue
            yield AssertionRecord(
                observable=obs, threat_type=threat, location=f"{loc}, {field}",
                first_seen=feed_time(event.get("time.source")),
                last_seen=feed_time(event.get("time.observation")), description=detail or None,
            )  # fmt: skip
        if not found:
            yield Rejected(
                location=loc,
                reason="no source.url, source.fqdn, source.ip or source.asn",
                raw=compact(event),
            )


def export_events(views: Iterable[AssertionView]) -> bytes:
    """IntelMQ events, one JSON line per assertion whose type IntelMQ has a field for."""
    lines = []
    for v in views:
        field = FIELD_OF.get(v.observable.type)
        if field is None:
            continue
        value: object = int(v.observable.value[2:]) if field == "source.asn" else v.observable.value
        event = {
            field: value,
            "classification.type": TO_CLASSIFICATION.get(v.threat_type, "other"),
            "feed.name": v.source,
            "time.source": v.first_seen.isoformat() if v.first_seen else None,
            "time.observation": v.last_seen.isoformat() if v.last_seen else None,
        }
        lines.append(orjson.dumps({k: x for k, x in event.items() if x is not None}))
    return b"\n".join(lines) + (b"\n" if lines else b"")
