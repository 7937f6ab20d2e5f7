"""Write picked observables the way partners send them: STIX 2.1 bundles, CSV, plain lists."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from marsad.demo.networks import Operation, Pool
from marsad.model.handling import TLP

EPOCH = dt.date(2026, 6, 1)
# STIX 2.1 §2.9: namespace of deterministic SCO ids (UUIDv5 over id-contributing properties).
STIX_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# The published TLP 2.0 marking-definitions (oasis-open/cti-stix-common-objects).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKINGS: dict[TLP, str] = {
    TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# Observable type -> (SCO type, value property; "hashes" means a SHA-256 file hash).
SCO_OF: dict[str, tuple[str, str]] = {
    "domain": ("domain-name", "value"),
    "ipv4": ("ipv4-addr", "value"),
    "url": ("url", "value"),
    "email": ("email-addr", "value"),
    "btc-wallet": ("cryptocurrency-wallet", "value"),
    "eth-wallet": ("cryptocurrency-wallet", "value"),
    "phone": ("phone-number", "value"),
    "iban": ("bank-account", "iban"),
    "tracking-id": ("x-marsad-tracking-id", "value"),
    "sha256": ("file", "hashes"),
}
# What partners put in the CSV type column; "" asks the reader to auto-detect.
CSV_TYPES: dict[str, tuple[str, ...]] = {
    "domain": ("", "domain", "hostname"),
    "url": ("", "url"),
    "ipv4": ("", "ipv4", "ip"),
    "sha256": ("", "sha256"),
    "email": ("", "email"),
    "phone": ("phone",),
    "iban": ("iban",),
    "btc-wallet": ("btc-wallet", "btc"),
    "eth-wallet": ("eth-wallet", "eth"),
    "tracking-id": ("tracking-id",),
}
CSV_HEADER = (
    "value",
    "type",
    "threat_type",
    "first_seen",
    "last_seen",
    "confidence",
    "description",
)
DESCRIPTIONS: dict[str, str] = {
    "phishing": "credential phishing",
    "c2": "botnet controller",
    "malware-distribution": "malware download",
    "investment-scam": "fake trading platform",
    "romance-scam": "romance scam",
    "bec": "business e-mail compromise",
    "piracy": "illegal streaming",
    "iban": "mule account",
    "phone": "scammer contact number",
    "btc-wallet": "payment wallet",
    "eth-wallet": "payment wallet",
    "email": "scammer mailbox",
    "tracking-id": "site analytics id",
}


def day_date(day: int) -> dt.date:
    """The calendar date of a world day."""
    return EPOCH + dt.timedelta(days=day)


def stamp(day: int, hour: int = 6) -> str:
    """A STIX timestamp for a world day."""
    return f"{day_date(day).isoformat()}T{hour:02d}:00:00.000Z"


def tlp_marking(tlp: TLP) -> dict[str, Any]:
    """The standard TLP 2.0 marking-definition object."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKINGS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.label,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def stable_id(kind: str, key: str) -> str:
    """A deterministic STIX id for a named object, shaped as the UUIDv4 SDOs should carry."""
    digest = hashlib.sha256(f"marsad-demo:{kind}:{key}".encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


class StixWriter:
    """Builds bundles from pool items; SCO ids are the STIX deterministic ones."""

    def __init__(self, pool: Pool, rng: random.Random) -> None:
        self.pool = pool
        self.rng = rng
        self._sco_ids: dict[int, str] = {}

    def new_id(self, kind: str) -> str:
        """A fresh random (version 4) STIX id drawn from the world's generator."""
        return f"{kind}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def sco(self, i: int) -> dict[str, Any]:
        """The SCO of pool item ``i``."""
        kind, value = self.pool.items[i]
        sco_type, prop = SCO_OF[kind]
        body: dict[str, Any] = {prop: value} if prop != "hashes" else {"hashes": {"SHA-256": value}}
        sid = self._sco_ids.get(i)
        if sid is None:
            sid = f"{sco_type}--{uuid.uuid5(STIX_NAMESPACE, orjson.dumps(body).decode())}"
            self._sco_ids[i] = sid
        return {"type": sco_type, "spec_version": "2.1", "id": sid, **body}

    def pattern(self, i: int) -> str:
        """A simple STIX pattern matching pool item ``i``."""
        kind, value = self.pool.items[i]
        sco_type, prop = SCO_OF[kind]
        path = "hashes.'SHA-256'" if prop == "hashes" else prop
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"[{sco_type}:{path} = '{escaped}']"

    def relationship(
        self, rel: str, source: str, target: str, who: str, when: str
    ) -> dict[str, Any]:
        """A relationship SRO."""
        return {
            "type": "relationship",
            "spec_version": "2.1",
            "id": self.new_id("relationship"),
            "created_by_ref": who,
            "created": when,
            "modified": when,
            "relationship_type": rel,
            "source_ref": source,
            "target_ref": target,
        }

    def bundle(
        self,
        picks: Sequence[int],
        *,
        author: str,
        day: int,
        markings: Sequence[tuple[TLP | None, float]] = ((None, 1.0),),
        operations: Sequence[Operation] = (),
        extra: Sequence[dict[str, Any]] = (),
    ) -> bytes:
        """One bundle: an indicator per pick, SCOs and relationships for the picks' edges."""
        r, pool, when = self.rng, self.pool, stamp(day)
        who = stable_id("identity", author)
        objects: list[dict[str, Any]] = [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": who,
                "created": "2026-01-05T00:00:00.000Z",
                "modified": "2026-01-05T00:00:00.000Z",
                "name": author,
                "identity_class": "organization",
            }
        ]
        tlps, weights = [m for m, _ in markings], [w for _, w in markings]
        used: set[TLP] = set()
        indicator_of: dict[int, str] = {}
        for i in picks:
            tlp = r.choices(tlps, weights)[0]
            ind: dict[str, Any] = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": self.new_id("indicator"),
                "created_by_ref": who,
                "created": when,
                "modified": when,
                "indicator_types": ["malicious-activity"],
                "labels": [pool.threat[i].value],
                "pattern": self.pattern(i),
                "pattern_type": "stix",
                "valid_from": stamp(pool.birth[i], 0),
                "confidence": r.randrange(40, 100, 5),
            }
            if tlp is not None:
                ind["object_marking_refs"] = [TLP2_MARKINGS[tlp]]
                used.add(tlp)
            indicator_of[i] = ind["id"]
            objects.append(ind)
        scos: dict[int, dict[str, Any]] = {}
        rels: list[dict[str, Any]] = []
        for i in picks:
            for rel, j in pool.edges[i]:
                for k in (i, j):
                    if k not in scos:
                        scos[k] = self.sco(k)
                rels.append(self.relationship(rel, scos[i]["id"], scos[j]["id"], who, when))
        objects += scos.values()
        objects += rels
        for op in operations:
            objects += self._operation(op, picks, indicator_of, scos, who, when)
        objects += extra
        objects[1:1] = [tlp_marking(t) for t in sorted(used, key=lambda t: t.rank)]
        bundle = {"type": "bundle", "id": self.new_id("bundle"), "objects": objects}
        return orjson.dumps(bundle, option=orjson.OPT_INDENT_2 if len(objects) < 400 else 0)

    def _operation(
        self,
        op: Operation,
        picks: Sequence[int],
        indicator_of: dict[int, str],
        scos: dict[int, dict[str, Any]],
        who: str,
        when: str,
    ) -> list[dict[str, Any]]:
        """Threat actor, intrusion set and campaign of an operation, tied to its indicators."""
        actor, iset = (
            stable_id("threat-actor", op.operator),
            stable_id("intrusion-set", op.operator),
        )
        campaign = stable_id("campaign", op.id)
        first, last = stamp(op.start, 0), stamp(op.end, 0)
        out: list[dict[str, Any]] = [
            {
                "type": "threat-actor",
                "spec_version": "2.1",
                "id": actor,
                "created_by_ref": who,
                "created": when,
                "modified": when,
                "name": op.operator,
                "threat_actor_types": ["crime-syndicate"],
                "roles": ["agent"],
            },
            {
                "type": "intrusion-set",
                "spec_version": "2.1",
                "id": iset,
                "created_by_ref": who,
                "created": when,
                "modified": when,
                "name": f"{op.operator} infrastructure",
                "first_seen": first,
                "last_seen": last,
                "primary_motivation": "personal-gain",
            },
            {
                "type": "campaign",
                "spec_version": "2.1",
                "id": campaign,
                "created_by_ref": who,
                "created": when,
                "modified": when,
                "name": f"{op.id} {op.threat.value} campaign",
                "description": f"{op.threat.value} operation against {', '.join(op.victims)}",
                "first_seen": first,
                "last_seen": last,
            },
            self.relationship("attributed-to", iset, actor, who, when),
            self.relationship("attributed-to", campaign, iset, who, when),
        ]
        mine = [i for i in picks if self.pool.owner[i] == op.index]
        out += [
            self.relationship("indicates", indicator_of[i], campaign, who, when) for i in mine[:60]
        ]
        used = [i for i in mine if i in scos and self.pool.items[i][0] == "domain"][:20]
        out += [self.relationship("uses", iset, scos[i]["id"], who, when) for i in used]
        return out


def csv_file(
    pool: Pool,
    picks: Sequence[int],
    rng: random.Random,
    day: int,
    *,
    note: str = "",
    bad: Sequence[Sequence[str]] = (),
) -> bytes:
    """The simple CSV format with a header row; the type column is sometimes left empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    seen = day_date(day).isoformat()
    for i in picks:
        kind, value = pool.items[i]
        threat = pool.threat[i].value
        described = DESCRIPTIONS.get(kind) or DESCRIPTIONS.get(threat, threat)
        writer.writerow(
            (
                value,
                rng.choice(CSV_TYPES[kind]),
                threat,
                day_date(pool.birth[i]).isoformat(),
                seen if rng.random() < 0.7 else "",
                rng.randrange(30, 100, 5) if rng.random() < 0.8 else "",
                f"{described}{note}",
            )
        )
    for row in bad:
        writer.writerow(row)
    return out.getvalue().encode()


def list_file(
    pool: Pool,
    picks: Sequence[int],
    title: str,
    day: int,
    *,
    hosts: bool = False,
    bad: Sequence[str] = (),
) -> bytes:
    """A plain list with ``#`` header lines; as a hosts file when ``hosts``."""
    lines = [f"# {title}", f"# generated {day_date(day).isoformat()}", f"# entries: {len(picks)}"]
    prefix = "0.0.0.0 " if hosts else ""
    lines += [prefix + pool.items[i][1] for i in picks]
    lines += [prefix + b for b in bad]
    return ("\n".join(lines) + "\n").encode()
