"""What a STIX ingest leaves in the store, pinned by a digest of every row it writes.

Speeding up the ingest path (parser, batch building, staging, merging) must not change a
single stored value. Two submissions of generated indicators and SCOs in the bench's
shapes, with what real bundles add (values repeated so they merge within and across
submissions, TLP markings, our handling extension, labels, SDOs, relationships, reports,
rejected objects), go in streamed in small chunks; the rows of every table they touch,
without ids, must digest to what the code before that work stored. On both engines: the
values are compared as text, timestamps as UTC ISO strings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from marsad.formats import stix_vocab as V
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP
from marsad.store import writer
from marsad.store.store import Store
from tests.conftest import NOW

# sha256 of the rows below, as stored by the ingest path of 2026-11-23 (before issue 2's
# third round); regenerate only for a deliberate change of what ingest stores.
GOLDEN = {
    "observables": (875, "980d56cba821938e"),
    "assertions": (1194, "60b548647d82e29d"),
    "assertion_sources": (1252, "23a1b2ed7aeda78c"),
    "entities": (4, "a9a54e25a3a8917d"),
    "relationships": (52, "60601300f091da83"),
    "rejections": (4, "be2222a396c361ce"),
    "submissions": (2, "4d093666acc9258b"),
}
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\Z")
WORDS = ("secure", "login", "bank", "verify", "pay", "wallet", "mail", "portal")
TLDS = ("com", "net", "org", "com.au", "co.nz", "xyz")
MARKS = [[], [], [V.TLP2_MARKING_IDS[TLP.GREEN]], [V.TLP2_MARKING_IDS[TLP.RED]]]


def _uuid(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08x}-0000-4000-8000-{rng.getrandbits(48):012x}"


def _value(i: int) -> tuple[str, str, dict[str, Any]]:
    """(pattern path, value, SCO properties) of value i, the same in every bundle: the
    bench's four shapes, MD5 and e-mail."""
    rng = random.Random(i)
    kind = i % 6
    host = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{i}.{rng.choice(TLDS)}"
    if kind == 0:
        value = f"{11 + i % 200}.{i >> 8 & 255}.{i & 255}.{rng.randrange(256)}"
        return "ipv4-addr:value", value, {"type": "ipv4-addr", "value": value}
    if kind == 1:
        return "domain-name:value", host, {"type": "domain-name", "value": host.upper()}
    if kind == 2:
        value = f"https://{host}/{rng.choice(WORDS)}/{i}?q=%7e{i}"
        return "url:value", value, {"type": "url", "value": value}
    if kind == 3:
        value = f"{rng.getrandbits(256):064x}"
        return "file:hashes.'SHA-256'", value, {"type": "file", "hashes": {"SHA-256": value}}
    if kind == 4:
        value = f"{rng.getrandbits(128):032X}"
        return "file:hashes.MD5", value, {"type": "file", "hashes": {"MD5": value}}
    value = f"{rng.choice(WORDS)}@{host}"
    return "email-addr:value", value, {"type": "email-addr", "value": value}


def _bundle(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = [V.tlp2_marking(TLP.GREEN), V.tlp2_marking(TLP.RED)]
    malware = f"malware--{_uuid(rng)}"
    objects.append(
        {"type": "malware", "spec_version": "2.1", "id": malware, "name": "Kit",
         "malware_types": ["ransomware"], "is_family": True, "created": "2026-01-02T00:00:00Z"}
    )  # fmt: skip
    indicators: list[str] = []
    for i in range(n):
        # one in eight values repeats an earlier one (a merge; across chunks: a late row)
        path, value, sco = _value(i if i < 16 or rng.random() > 0.125 else rng.randrange(i))
        ind_id = f"indicator--{_uuid(rng)}"
        indicator: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": ind_id,
            "created": "2026-10-01T00:00:00.000Z",
            "modified": "2026-10-01T00:00:00.000Z",
            "name": rng.choice([f"indicator {i}", f"phishing kit {i}", f"scan {i}"]),
            "indicator_types": [rng.choice(["malicious-activity", "anonymization", "unknown"])],
            "pattern": f"[{path} = '{value}']",
            "pattern_type": "stix",
            "valid_from": f"2026-{rng.randint(1, 9):02d}-0{rng.randint(1, 9)}T00:00:00Z",
            "object_marking_refs": rng.choice(MARKS),
        }
        if rng.random() < 0.8:
            indicator["confidence"] = rng.randint(0, 100)
        if rng.random() < 0.2:
            indicator["labels"] = [rng.choice(["c2", "phishing", "botnet"])]
        if rng.random() < 0.1:
            indicator["description"] = f"seen on {rng.choice(WORDS)} pages"
        if rng.random() < 0.15:
            indicator["extensions"] = {
                V.MARSAD_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "sightings": rng.randint(1, 5),
                    "pap": rng.choice(["green", "amber"]),
                    "last_seen": "2026-10-20T00:00:00Z",
                }
            }
        objects.append(indicator)
        indicators.append(ind_id)
        if rng.random() < 0.9:  # the SCO beside it (consumed), or on its own (asserted)
            objects.append({"spec_version": "2.1", "id": f"{sco['type']}--{_uuid(rng)}", **sco})
        if rng.random() < 0.05:
            sco = _value(n + i)[2]
            objects.append({"spec_version": "2.1", "id": f"{sco['type']}--{_uuid(rng)}", **sco})
    objects.append(
        {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{_uuid(rng)}",
         "pattern": "[domain-name:value = 'not a domain']", "pattern_type": "stix",
         "valid_from": "2026-10-01T00:00:00Z"}
    )  # fmt: skip
    objects.append({"type": "mutex", "spec_version": "2.1", "id": "mutex--1", "name": "m"})
    for source in indicators[:: max(1, n // 20)]:
        objects.append(
            {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{_uuid(rng)}",
             "relationship_type": "indicates", "source_ref": source, "target_ref": malware}
        )  # fmt: skip
    objects.append(
        {"type": "report", "spec_version": "2.1", "id": f"report--{_uuid(rng)}", "name": "Wave",
         "published": "2026-10-02T00:00:00Z", "object_refs": [malware, *indicators[:5]]}
    )  # fmt: skip
    return orjson.dumps({"type": "bundle", "id": f"bundle--{seed}", "objects": objects})


QUERIES = {
    "observables": "SELECT type, value, registered_domain FROM observables",
    "assertions": (
        "SELECT o.type, o.value, a.threat_type, a.first_seen, a.last_seen, a.sightings,"
        " a.confidence, a.tlp, a.pap, a.releasable_to, a.reliability, a.credibility, a.purpose,"
        " a.retain_until, a.review_at, a.location, a.stix_id, a.name, a.description,"
        " a.revoked_at, a.disclose_exists, fs.sha256, ls.sha256"
        " FROM assertions a JOIN observables o ON o.id = a.observable_id"
        " JOIN submissions fs ON fs.id = a.first_submission_id"
        " JOIN submissions ls ON ls.id = a.last_submission_id"
    ),
    "assertion_sources": (
        "SELECT o.type, o.value, a.threat_type, sub.sha256, s.location, s.sightings"
        " FROM assertion_sources s JOIN assertions a ON a.id = s.assertion_id"
        " JOIN observables o ON o.id = a.observable_id"
        " JOIN submissions sub ON sub.id = s.submission_id"
    ),
    "entities": (
        "SELECT ref, kind, name, description, attributes, tlp, pap, releasable_to, first_seen,"
        " last_seen, location FROM entities"
    ),
    "relationships": (
        "SELECT source_ref, type, target_ref, tlp, stix_id, attributes, first_seen, last_seen,"
        " count, location FROM relationships"
    ),
    "rejections": (
        "SELECT sub.sha256, r.location, r.reason, r.raw FROM rejections r"
        " JOIN submissions sub ON sub.id = r.submission_id"
    ),
    "submissions": (
        "SELECT sha256, size, status, format, records, accepted, merged, rejected, entities,"
        " relationships FROM submissions"
    ),
}


def _text(value: Any) -> str:
    if isinstance(value, str) and _TIMESTAMP.match(value):  # SQLite's text for a timestamp
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):  # SQLite's are naive UTC, PostgreSQL's aware
        utc = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return utc.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    return "" if value is None else str(value)


def digests(store: Store) -> dict[str, tuple[int, str]]:
    """Per table: how many rows, and the sha256 (first 16 hex digits) of them sorted."""
    out: dict[str, tuple[int, str]] = {}
    with store.engine.connect() as conn:
        for table, query in QUERIES.items():
            rows = sorted("\x1f".join(map(_text, r)) for r in conn.execute(text(query)).all())
            digest = hashlib.sha256("\x1e".join(rows).encode()).hexdigest()[:16]
            out[table] = (len(rows), digest)
    return out


def test_streamed_ingest_stores_exactly_what_it_stored_before(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "STREAM_CHUNK", 97)  # many chunks, keys merging across them
    for seed, n in ((11, 300), (12, 900)):
        report = ingest(orgs, _bundle(seed, n), source="PhishGuard", now=NOW)
        assert report.status == "ingested", report.error
    assert digests(orgs) == GOLDEN
