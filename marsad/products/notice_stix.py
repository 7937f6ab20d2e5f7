"""A modus-operandi notice as STIX 2.1: the indicators and relationships of the project's
exporter, plus one ``report`` (the notice) and one ``note`` (its prose sections). Pure."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from marsad.formats import stix_vocab as V
from marsad.formats.stix21_export import export_bundle
from marsad.model.handling import TLP
from marsad.model.records import AssertionView, RelationshipRecord
from marsad.products.notice import Notice

_FRAME = frozenset({"identity", "marking-definition", "extension-definition"})
NOTICE_NS = uuid.UUID("3d0f5a8e-6c1b-4f7a-9e2d-8b4c6a1f0e37")


def _uid(*parts: str) -> str:
    """Deterministic, shaped as the UUIDv4 STIX asks SDO ids to be."""
    return str(uuid.UUID(bytes=uuid.uuid5(NOTICE_NS, "|".join(parts)).bytes, version=4))


def _prose(n: Notice) -> str:
    parts = [f"Method: {n.text.method}"]
    if n.text.targets:
        parts.append(f"Targets: {n.text.targets}")
    if n.hosting_countries:
        parts.append("Infrastructure registered in: " + ", ".join(n.hosting_countries))
    if n.text.tools:
        parts.append(f"Tools and infrastructure: {n.text.tools}")
    if n.text.countermeasures:
        parts.append("Countermeasures:\n" + "\n".join(f"- {c}" for c in n.text.countermeasures))
    parts.append(f"Issued by {n.issuer}; handling {n.tlp}, {n.pap}.")
    return "\n\n".join(parts)


def notice_bundle(
    notice: Notice, views: Sequence[AssertionView], rels: Sequence[RelationshipRecord]
) -> bytes:
    """The bundle; the report and the note carry the notice's TLP marking."""
    bundle: dict[str, Any] = orjson.loads(
        export_bundle(views, relationships=rels, producer=notice.issuer, now=notice.generated_at)
    )
    objects: list[dict[str, Any]] = bundle["objects"]
    issuer = next(
        o["id"] for o in objects if o["type"] == "identity" and o["name"] == notice.issuer
    )
    tlp = TLP(notice.tlp.removeprefix("TLP:").lower())
    marking = V.TLP2_MARKING_IDS[tlp]
    if not any(o["id"] == marking for o in objects):
        objects.insert(2, V.tlp2_marking(tlp))
    stamp = notice.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    listed = [o["id"] for o in objects if o["type"] not in _FRAME]
    report_id = f"report--{_uid('report', notice.issuer, str(notice.cluster), notice.title)}"
    common = {"spec_version": "2.1", "created_by_ref": issuer, "created": stamp,
              "modified": stamp, "object_marking_refs": [marking]}  # fmt: skip
    objects.append({
        "type": "report", "id": report_id, **common, "name": notice.title,
        "description": notice.text.method, "report_types": ["threat-report", "attack-pattern"],
        "published": stamp, "labels": ["modus-operandi"],
        "object_refs": listed or [issuer],
    })  # fmt: skip
    objects.append({
        "type": "note", "id": f"note--{_uid('note', report_id)}", **common,
        "abstract": f"Modus operandi notice: {notice.title}", "content": _prose(notice),
        "authors": [notice.issuer], "object_refs": [report_id],
    })  # fmt: skip
    return orjson.dumps(bundle)
