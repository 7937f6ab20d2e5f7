"""TAXII inbox: a posted envelope becomes one submission; its status is that submission.

The envelope's objects are wrapped in a bundle (our STIX reader takes bundles) and go
through the ordinary ingest pipeline with the caller's organisation as the source: the
same atomicity, de-duplication (the same envelope twice is one submission) and handling
rules as any upload. Objects with ``revoked: true`` also mark the source's matching
assertions revoked (`marsad.store.federation.revoke`). The status id encodes the
submission id with this instance's prefix; only the submitting organisation may read it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from marsad.exchange.auth import Caller
from marsad.exchange.problems import Problem
from marsad.exchange.taxii_objects import IdCodec, ts
from marsad.formats import stix21
from marsad.formats.stix21_export import MARSAD_NS
from marsad.ingest.pipeline import ParseReport, ingest
from marsad.model.errors import MarsadError
from marsad.model.records import AssertionRecord, ParseMeta
from marsad.products import alerting
from marsad.store import federation
from marsad.store.store import Store, SubmissionRow

MAX_LISTED = 1000  # failures listed in one status resource


def bundle_of(objects: list[Any], digest: str) -> bytes:
    """A bundle with a deterministic id, so the same objects give the same bytes."""
    bundle_id = uuid.uuid5(MARSAD_NS, f"taxii-envelope/{digest}")
    return orjson.dumps({"type": "bundle", "id": f"bundle--{bundle_id}", "objects": objects})


def envelope_objects(body: bytes) -> list[Any]:
    """The objects of a TAXII envelope (or bundle); a 400 naming what is wrong."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise Problem(400, "the body must be a TAXII envelope: a JSON object with an objects array")
    return list(doc["objects"])


def revoked_keys(objects: list[Any]) -> list[tuple[str, str, str]]:
    """(type, value, threat type) of the assertions the revoked objects speak of."""
    revoked = [o for o in objects if isinstance(o, dict) and o.get("revoked") is True]
    if not revoked:
        return []
    raw = bundle_of(revoked, "revoked")
    return [
        (r.observable.type.value, r.observable.value, r.threat_type.value)
        for r in stix21.parse(raw, ParseMeta(filename="revoked"))
        if isinstance(r, AssertionRecord)
    ]


def ingest_objects(
    store: Store, objects: list[Any], source: str, digest: str, filename: str
) -> tuple[ParseReport, int]:
    """Ingest objects as one submission from ``source``, apply their revocations, raise alerts.

    Revocations are applied before the ingest too: merging then moves the revoked
    assertions' date added past their revocation, so an incremental reader sees them.
    Returns the parse report and how many assertions were newly revoked.
    """
    org = store.org(source)
    keys = revoked_keys(objects)
    now = dt.datetime.now(dt.UTC)
    revoked = federation.revoke(store, org.id, keys, now) if keys else 0
    report = ingest(store, bundle_of(objects, digest), source=source, fmt="stix21",
                    filename=filename)  # fmt: skip
    if keys:
        revoked += federation.revoke(store, org.id, keys, dt.datetime.now(dt.UTC))
    if report.status == "ingested":  # alerts for the organisations watching; never fatal
        alerting.evaluate_quietly(store, report.submission_id)
    return report, revoked


def submit(who: Caller, body: bytes, codec: IdCodec) -> dict[str, Any]:
    """Ingest a posted envelope for the caller's organisation; the status resource."""
    objects = envelope_objects(body)
    digest = hashlib.sha256(body).hexdigest()
    assert who.viewer.org_name is not None
    try:
        report, revoked = ingest_objects(
            who.store, objects, who.viewer.org_name, digest, "taxii-inbox.json"
        )
        sub_id = report.submission_id
    except MarsadError as exc:
        raise Problem(422, str(exc)) from None
    who.audit("taxii-submit", f"taxii inbox of {who.viewer.org_name}",
              submission_id=sub_id, objects=len(objects), revoked=revoked)  # fmt: skip
    return status_resource(who.store, who.store.submission(sub_id), codec)


async def submit_async(who: Caller, body: bytes, codec: IdCodec) -> dict[str, Any]:
    """`submit` off the event loop (ingest is blocking database work)."""
    return await run_in_threadpool(submit, who, body, codec)


def _object_ids(store: Store, submission_id: int) -> list[str]:
    try:
        doc = orjson.loads(store.raw(submission_id))
    except orjson.JSONDecodeError:
        return []
    objects = doc.get("objects") if isinstance(doc, dict) else None
    return [str(o.get("id")) for o in objects or () if isinstance(o, dict)]


def _failed_id(raw: str, location: str) -> str:
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return location
    return str(found.get("id", location)) if isinstance(found, dict) else location


def status_resource(store: Store, sub: SubmissionRow, codec: IdCodec) -> dict[str, Any]:
    """The TAXII status resource of one submission."""
    ids = _object_ids(store, sub.id)
    total = len(ids)
    status: dict[str, Any] = {
        "id": codec.status_id(sub.id),
        "request_timestamp": ts(sub.received_at),
        "total_count": total,
    }
    if sub.status == "pending":
        return {**status, "status": "pending", "success_count": 0, "failure_count": 0,
                "pending_count": total}  # fmt: skip
    failures = [
        {"id": _failed_id(r.raw, r.location), "message": f"{r.location}: {r.reason}"}
        for r in store.rejections(sub.id, limit=MAX_LISTED)
    ]
    failed = sub.rejected
    if sub.status == "rejected":
        failed = total
        if not failures:
            failures = [{"id": i, "message": sub.error or "rejected"} for i in ids[:MAX_LISTED]]
    failed = min(failed, total)
    return {
        **status, "status": "complete", "success_count": total - failed,
        "failure_count": failed, "pending_count": 0, **({"failures": failures} if failures else {}),
    }  # fmt: skip


def status_of(store: Store, who: Caller, status_id: str, codec: IdCodec) -> dict[str, Any]:
    """The status a caller asks for: only its own organisation's submissions (404 else)."""
    target = f"taxii status {status_id}"
    sub_id = codec.submission_id(status_id)
    sub = None
    if sub_id is not None:
        found = [s for s in [_submission(store, sub_id)] if s is not None]
        sub = found[0] if found else None
    if sub is None or sub.source != who.viewer.org_name:
        who.deny("taxii-read", target, 404, f"there is no status {status_id} for you")
    who.audit("taxii-read", target, submission_id=sub.id)
    return status_resource(store, sub, codec)


def _submission(store: Store, sub_id: int) -> SubmissionRow | None:
    try:
        return store.submission(sub_id)
    except MarsadError:
        return None
