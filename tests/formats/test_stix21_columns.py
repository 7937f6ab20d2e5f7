"""The columnar STIX path (`stix21.parse_blocks`) gives exactly what the per-object path gives.

Bundles mix plain indicators (canonical values, values the normaliser must change: upper
case, default ports, defanged, IDN, trailing dots; invalid values) with complex patterns,
odd properties, SCOs, markings and relationships. Compared record for record (blocks
expanded), as merged rows (`build_batch`), and streamed in small chunks; and the canonical
shapes are checked against the normaliser itself.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from marsad.formats import stix21
from marsad.formats import stix_vocab as V
from marsad.formats.stix_patterns import escape_literal, split_single
from marsad.ingest.batch import BatchBuilder, SubmissionDefaults, build_batch
from marsad.model.errors import InvalidObservable
from marsad.model.handling import TLP
from marsad.model.normalize import normalize
from marsad.model.normalize.canonical import CANONICAL_DOMAIN, CANONICAL_URL
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionBlock, ConsumedBlock, ParseMeta, Record, ThreatType
from marsad.store.bulk import Dialect
from tests.formats.test_stix21_fast import OTHERS, indicators, scos

D = Dialect("sqlite")
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MALWARE = "malware--00000000-0000-4000-8000-000000000009"

VALUES: dict[str, list[str]] = {
    "ipv4-addr": [
        "203.0.113.7",
        "203.0.113.07",
        "10.0.0.0/8",
        "10[.]1.2.3",
        "999.1.1.1",
        " 1.2.3.4",
    ],
    "domain-name": [
        "example.com",
        "login-secure.example.com",
        "a_b.example.org",
        "Example.COM",
        "example.com.",
        "bücher.example",
        "xn--bcher-kva.example",
        "xn--zz.example",
        "evil[.]example.net",
        "a..b",
        "-a.example",
        "x.onion",
        "host",
        "a.123",
        "exp.example",
    ],
    "url": [
        "https://example.com/a",
        "https://example.com/a?q=1&r=%2f",
        "https://example.com/a?",
        "http://localhost/x",
        "https://example.com",
        "https://Example.COM/a",
        "https://example.com:443/a",
        "https://example.com:8443/a",
        "hxxps://login[.]example.com/a",
        "https://example.com/hxxp:x",
        "https://bücher.example/ü",
        "https://example.com./a",
        "https://user@example.com/a",
        "http://203.0.113.7/a",
        "https://example.com/a#frag",
        "https://example.com/a b",
        "not a url",
    ],
    "file": [
        "d41d8cd98f00b204e9800998ecf8427e",
        "D41D8CD98F00B204E9800998ECF8427E",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "abc",
    ],
}
PATHS = {
    "ipv4-addr": "value",
    "domain-name": "value",
    "url": "value",
    "file": "hashes.'SHA-256'",
}
MD5_PATH = "hashes.MD5"
TLP_GREEN = V.TLP2_MARKING_IDS[TLP.GREEN]
TLP_RED = V.TLP2_MARKING_IDS[TLP.RED]
IDS = [f"indicator--00000000-0000-4000-8000-0000000001{i:02d}" for i in range(12)]
RELATIONSHIP = {
    "type": "relationship",
    "id": "relationship--00000000-0000-4000-8000-000000000010",
    "relationship_type": "indicates",
    "source_ref": IDS[0],
    "target_ref": MALWARE,
}


@st.composite
def plain(draw: st.DrawFn) -> dict[str, Any]:
    """An indicator of the common shape (sometimes with a complex pattern instead)."""
    sco = draw(st.sampled_from(sorted(VALUES)))
    value = draw(st.sampled_from(VALUES[sco]) | st.text(max_size=6))
    path = PATHS[sco] if sco != "file" or len(value) != 32 else MD5_PATH
    pattern = draw(
        st.sampled_from(
            [
                f"[{sco}:{path} = {escape_literal(value)}]",
                f"[{sco}:{path} = {escape_literal(value)}]",
                f"[{sco}:{path} = {escape_literal(value)}] OR [ipv4-addr:value = '1.2.3.4']",
                f"[{sco}:{path} = {escape_literal(value)}] AND [ipv4-addr:value = '1.2.3.4']",
                f"[x-unknown:value = {escape_literal(value)}]",
                f"[ {sco}:{path} = {escape_literal(value)} ]",
            ]
        )
    )
    o: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": draw(st.sampled_from(IDS)),
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": draw(
            st.sampled_from(["2026-10-01T00:00:00.000Z", "2026-10-02T00:00:00Z", "garbage"])
        ),
    }
    optional = {
        "name": st.sampled_from(
            ["indicator 1", "C2 server", "Phishing kit", "xphish", "a\x00scam"]
        ),
        "description": st.sampled_from(["ransomware drop", "nothing", ""]),
        "confidence": st.sampled_from([70, 0, 100, 101, -1, True, "50"]),
        "indicator_types": st.sampled_from(
            [["malicious-activity"], ["benign"], ["unknown", "compromised"], [], ["x", 1]]
        ),
        "object_marking_refs": st.sampled_from([[TLP_GREEN], [TLP_RED, TLP_GREEN], [], ["x"]]),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            o[key] = draw(values)
    return o


@st.composite
def feed(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Plain indicators, each maybe with the SCO of its value beside it."""
    out: list[dict[str, Any]] = []
    for o in draw(st.lists(plain(), min_size=1, max_size=12)):
        out.append(o)
        found = split_single(o["pattern"])
        if found is not None and draw(st.booleans()):
            sco, path, value = found
            sco_obj: dict[str, Any] = {"type": sco, "id": f"{sco}--{len(out)}"}
            if sco == "file":
                sco_obj["hashes"] = {path.removeprefix("hashes."): value}
            else:
                sco_obj["value"] = value
            out.append(sco_obj)
    return out


OBJECTS = st.one_of(
    feed(),
    st.lists(st.one_of(plain(), indicators(), scos(), OTHERS, st.just(RELATIONSHIP)), max_size=12),
    st.tuples(feed(), st.lists(st.one_of(indicators(), OTHERS), max_size=3), feed()).map(
        lambda parts: [o for part in parts for o in part]
    ),
)


def _expanded(items: list[Any]) -> list[Record]:
    out: list[Record] = []
    for item in items:
        out.extend(item.records() if type(item) in (AssertionBlock, ConsumedBlock) else [item])
    return out


def _batch(records: Any) -> Any:
    return build_batch(records, SubmissionDefaults(), NOW, time=D.time, date=D.date)


def _both(raw: bytes, meta: ParseMeta) -> tuple[list[Record], list[Any]]:
    return list(stix21.parse(raw, meta)), list(stix21.parse_blocks(raw, meta))


@settings(max_examples=400, deadline=None)
@given(
    objects=OBJECTS,
    shape=st.sampled_from(["bundle", "array"]),
    default=st.sampled_from([None, ThreatType.PHISHING]),
)
def test_blocks_are_the_records_of_the_per_object_path(
    objects: list[Any], shape: str, default: ThreatType | None
) -> None:
    doc: Any = {"type": "bundle", "id": "bundle--1", "objects": objects}
    if shape == "array":
        doc = objects
    raw = json.dumps(doc).encode()
    meta = ParseMeta(default_threat_type=default)
    records, items = _both(raw, meta)
    # as JSON too: a record must not change type (2**70 == float(2**70) in Python)
    assert _expanded(items) == records
    assert msgspec.json.encode(_expanded(items)) == msgspec.json.encode(records)
    assert _batch(items) == _batch(records)
    # streamed: a few records at a time, rows taken between (what write_stream does)
    for chunk in (1, 3):
        builder = BatchBuilder(SubmissionDefaults(), NOW, time=D.time, date=D.date)
        taken: list[Any] = [row for _, rows in builder.chunks(items, chunk) for row in rows]
        streamed = builder.finish()
        whole = _batch(records)
        # rows as first written, then fixed up by the late rows, are the merged rows
        written = {(r[0], r[1], r[3]): r for r in taken + streamed.assertions}
        assert list(written.values()) == taken + streamed.assertions
        for late in streamed.late:
            first = written[(late[0], late[1], late[3])]
            written[(late[0], late[1], late[3])] = (*late[:6], first[6] + late[6], *late[7:])
        assert list(written.values()) == whole.assertions
        assert streamed.rejections == whole.rejections
        assert streamed.records == whole.records and streamed.consumed == whole.consumed


def test_a_large_feed_is_read_in_blocks_across_chunks() -> None:
    """Several chunks of the reader (8,192 objects each), a few odd objects among them."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from ingest import make_bundle  # the benchmark's own workload

    doc = json.loads(make_bundle(9_000))  # two chunks of indicators, two of SCOs
    objects = doc["objects"]
    objects[100]["pattern"] = "[url:value = 'hxxps://Login[.]Example.COM:443/a']"
    objects[5001]["pattern"] = "[domain-name:value = 'a..b']"  # rejected
    objects[9001]["labels"] = ["c2"]
    objects.insert(7000, RELATIONSHIP | {"source_ref": objects[7001]["id"]})
    objects.insert(17000, {"type": "malware", "id": MALWARE, "name": "x", "malware_types": []})
    raw = json.dumps(doc).encode()
    records, items = _both(raw, ParseMeta())
    blocks = [i for i in items if type(i) is AssertionBlock]
    assert len(blocks) >= 4 and sum(map(len, blocks)) > 8_900
    assert _expanded(items) == records
    assert _batch(items) == _batch(records)


URLISH = st.text(alphabet="abcxnp-_.:/?#%@[]()01234 HXAü", max_size=30)


def _normalised(kind: ObservableType, value: str) -> str | None:
    try:
        return normalize(kind, value)
    except InvalidObservable:
        return None


@given(
    value=st.one_of(
        st.from_regex(CANONICAL_DOMAIN, fullmatch=True),
        URLISH,
        st.sampled_from(VALUES["domain-name"]),
    )
)
def test_a_canonical_domain_is_what_the_normaliser_returns(value: str) -> None:
    if CANONICAL_DOMAIN.match(value):
        assert _normalised(ObservableType.DOMAIN, value) == value
        assert V.make_observable(ObservableType.DOMAIN, value).type is ObservableType.DOMAIN


@given(
    value=st.one_of(
        st.from_regex(CANONICAL_URL, fullmatch=True),
        URLISH.map(lambda s: "https://" + s),
        URLISH.map(lambda s: "hxxp://ex.com/" + s),
        st.sampled_from(VALUES["url"]),
    )
)
def test_a_canonical_url_is_what_the_normaliser_returns(value: str) -> None:
    if CANONICAL_URL.match(value):
        assert _normalised(ObservableType.URL, value) == value


def test_the_canonical_shapes_take_the_usual_values() -> None:
    assert CANONICAL_DOMAIN.match("login-secure.example.com")
    assert CANONICAL_URL.match("https://login-secure.example.com/a/b?c=d")
    for value in ("Example.com", "example.com.", "xn--bcher-kva.example", "x.onion", "a.123"):
        assert not CANONICAL_DOMAIN.match(value), value
    for value in (
        "https://example.com:443/a",
        "hxxps://example.com/a",
        "https://example.com/%7e",
        "https://example.com",
        "https://Example.com/a",
        "https://example.com/a#f",
        "https://1.2.3.4/a",
    ):
        assert not CANONICAL_URL.match(value), value
