"""Assertions to one MISP event (JSON that PyMISP's ``MISPEvent().load`` reads).

Each assertion becomes an attribute: its type from the table below, ``to_ids`` when the
threat type is a malicious one, tags for TLP, PAP and the threat type
(``marsad:threat-type="…"``), first/last seen, and a deterministic uuid so a re-export
updates rather than duplicates. The event carries the most restrictive TLP of its content.
Observable types MISP has no attribute type for (ETH/TRX/LTC wallets, tracking ids) are
written as ``text`` with a ``marsad:observable-type`` tag, which our importer reads back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Final

import orjson

from marsad.model.handling import TLP
from marsad.model.observable import ObservableType as O
from marsad.model.records import AssertionView
from marsad.model.records import ThreatType as T

NAMESPACE: Final = uuid.UUID("6f0c1f0e-5a3c-4d55-9f55-6d6172736164")
MISP_TYPES: Final[dict[O, tuple[str, str]]] = {
    O.IPV4: ("ip-dst", "Network activity"), O.IPV6: ("ip-dst", "Network activity"),
    O.CIDR: ("ip-dst", "Network activity"), O.DOMAIN: ("domain", "Network activity"),
    O.ONION: ("domain", "Network activity"), O.URL: ("url", "Network activity"),
    O.EMAIL: ("email", "Payload delivery"), O.MD5: ("md5", "Payload delivery"),
    O.SHA1: ("sha1", "Payload delivery"), O.SHA256: ("sha256", "Payload delivery"),
    O.SHA512: ("sha512", "Payload delivery"), O.SSDEEP: ("ssdeep", "Payload delivery"),
    O.TLSH: ("tlsh", "Payload delivery"), O.BTC_WALLET: ("btc", "Financial fraud"),
    O.XMR_WALLET: ("xmr", "Financial fraud"), O.PHONE: ("phone-number", "Financial fraud"),
    O.IBAN: ("iban", "Financial fraud"), O.ASN: ("AS", "Network activity"),
    O.TLS_SHA256: ("x509-fingerprint-sha256", "Network activity"),
}  # fmt: skip
NOT_IDS: Final = frozenset({T.UNKNOWN, T.BENIGN, T.VULNERABLE})
TYPE_TAG: Final = "marsad:observable-type"
THREAT_TAG: Final = "marsad:threat-type"


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def export_event(
    views: Iterable[AssertionView], *, info: str, now: dt.datetime, producer: str = "Marsad"
) -> bytes:
    """One MISP event holding every assertion as an attribute."""
    attributes = []
    strictest = TLP.CLEAR
    for v in views:
        h = v.handling
        strictest = h.tlp if h.tlp.rank > strictest.rank else strictest
        kind, category = MISP_TYPES.get(v.observable.type, ("text", "Other"))
        tags = [h.tlp.label.lower(), h.pap.label, f'{THREAT_TAG}="{v.threat_type.value}"']
        if kind == "text":
            tags.append(f'{TYPE_TAG}="{v.observable.type.value}"')
        key = f"{v.source}|{v.observable.ref}|{v.threat_type.value}"
        attributes.append(
            {
                "uuid": str(uuid.uuid5(NAMESPACE, key)),
                "type": kind,
                "category": category,
                "value": v.observable.value,
                "to_ids": v.threat_type not in NOT_IDS,
                "comment": v.description or "",
                "distribution": "5",
                "first_seen": _iso(v.first_seen),
                "last_seen": _iso(v.last_seen),
                "timestamp": str(int((v.last_seen or now).timestamp())),
                "Tag": [{"name": t} for t in tags],
            }
        )
    event = {
        "uuid": str(uuid.uuid5(NAMESPACE, f"event|{info}|{now.date().isoformat()}")),
        "info": info, "date": now.date().isoformat(), "timestamp": str(int(now.timestamp())),
        "threat_level_id": "4", "analysis": "2", "distribution": "0", "published": False,
        "Orgc": {"name": producer}, "Tag": [{"name": strictest.label.lower()}],
        "Attribute": attributes,
    }  # fmt: skip
    return orjson.dumps({"Event": event}, option=orjson.OPT_INDENT_2)
