"""The demo world: deterministic, internally consistent, realistic in its proportions."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import base58
import orjson
import phonenumbers
import pytest
from Crypto.Hash import keccak

from marsad.access.policy import EVERYTHING
from marsad.demo.names import CDN_IPS, PARKING_NS, UNITS
from marsad.demo.world import DESK, DemoSubmission, DemoWorld, build_world
from marsad.model.handling import TLP, Releasability
from marsad.model.observable import ObservableType
from marsad.model.organisation import OrgKind
from marsad.model.records import ThreatType
from marsad.store.store import ExportFilter, Store

HAS_NORMALIZE = importlib.util.find_spec("marsad.model.normalize") is not None
needs_normalize = pytest.mark.skipif(not HAS_NORMALIZE, reason="marsad.model.normalize missing")
CSV_HEADER = "value,type,threat_type,first_seen,last_seen,confidence,description"
# Markers of the lines the world plants on purpose so parse reports show rejects.
BAD_MARKERS = ("999.1.2.3", "300.20.1.1", "+999123", "2026-13-45", "bad check", "cryptocurrency")
CHECKED_TYPES = {"btc-wallet", "eth-wallet", "iban", "phone"}


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return build_world(2026, 0.01)


def _stix(sub: DemoSubmission) -> list[dict[str, Any]]:
    doc = orjson.loads(sub.raw)
    assert doc["type"] == "bundle" and doc["id"].startswith("bundle--")
    objects: list[dict[str, Any]] = doc["objects"]
    return objects


def _sco_value(o: dict[str, Any]) -> str | None:
    if "hashes" in o:
        return str(o["hashes"]["SHA-256"])
    found = o.get("value", o.get("iban"))
    return None if found is None or o["type"] == "identity" else str(found)


def _edges(world: DemoWorld) -> Iterator[tuple[str, str, str]]:
    """(source value, relationship type, target value) of every SCO-to-SCO relationship."""
    for sub in world.submissions:
        if sub.format != "stix21":
            continue
        objects = _stix(sub)
        value_of = {o["id"]: v for o in objects if (v := _sco_value(o)) is not None}
        for o in objects:
            if (
                o["type"] == "relationship"
                and {o["source_ref"], o["target_ref"]} <= value_of.keys()
            ):
                yield (
                    value_of[o["source_ref"]],
                    o["relationship_type"],
                    value_of[o["target_ref"]],
                )


def _values(sub: DemoSubmission) -> list[tuple[str | None, str]]:
    """(declared type or None, value) of every value line, row or STIX observable."""
    if sub.format == "list":
        lines = sub.raw.decode().splitlines()
        return [(None, ln.split()[-1]) for ln in lines if ln.strip() and not ln.startswith("#")]
    if sub.format == "csv":
        return [
            (r["type"] or None, r["value"]) for r in csv.DictReader(io.StringIO(sub.raw.decode()))
        ]
    out: set[tuple[str | None, str]] = set()
    for o in _stix(sub):
        if o["type"] == "indicator":
            out.add((None, o["pattern"].split(" = '", 1)[1][:-2]))
        elif (value := _sco_value(o)) is not None:
            out.add((None, value))
    return sorted(out, key=lambda t: t[1])


def test_same_seed_same_bytes_other_seed_other_world(world: DemoWorld) -> None:
    again = build_world(2026, 0.01)
    assert again == world
    assert [s.raw for s in again.submissions] == [s.raw for s in world.submissions]
    other = build_world(7, 0.01)
    assert [s.raw for s in other.submissions] != [s.raw for s in world.submissions]
    assert {n.operator for n in other.networks} != {n.operator for n in world.networks}


def test_rejects_a_scale_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="scale"):
        build_world(1, 0)


def test_organisations_and_every_reference_to_them(world: DemoWorld) -> None:
    names = {o.name for o in world.organisations}
    kinds = Counter(o.kind for o in world.organisations)
    assert kinds == {
        OrgKind.HUB: 1,
        OrgKind.REGIONAL_DESK: 1,
        OrgKind.NATIONAL_CYBER_UNIT: 20,
        OrgKind.PRIVATE_PARTNER: 4,
    }
    assert all(o.country for o in world.organisations if o.kind is not OrgKind.HUB)
    assert "Fiji Police Cybercrime Unit" in names and DESK in names
    for sub in world.submissions:
        assert sub.source in names
        assert set(sub.handling.releasable_to.organisations) <= names


def test_networks_have_members_and_links_really_shared(world: DemoWorld) -> None:
    sources_of: dict[str, set[str]] = {}
    for source, _, target in _edges(world):
        sources_of.setdefault(target, set()).add(source)
    everything = b"\n".join(s.raw for s in world.submissions)
    assert {n.threat_type for n in world.networks} == {
        ThreatType.PHISHING,
        ThreatType.C2,
        ThreatType.MALWARE_DISTRIBUTION,
        ThreatType.INVESTMENT_SCAM,
        ThreatType.ROMANCE_SCAM,
        ThreatType.BEC,
        ThreatType.PIRACY,
    }
    for net in world.networks:
        values = {ref.split(":", 1)[1] for ref in net.members}
        assert len(net.members) >= 3 and len(set(net.members)) == len(net.members)
        assert {ref.split(":", 1)[0] for ref in net.members} <= {t.value for t in ObservableType}
        assert net.links and net.countries == tuple(sorted(net.countries))
        for link in net.links:
            tag, value = link.split(":", 1)
            assert tag in {"ip", "ns", "registrant", "tracking-id", "wallet", "phone", "iban"}
            assert value in values and value.encode() in everything, link
            assert len(sources_of.get(value, set()) & values) >= 2, link


def test_benign_hubs_are_shared_across_networks_but_belong_to_none(world: DemoWorld) -> None:
    members = {ref.split(":", 1)[1] for n in world.networks for ref in n.members}
    owner = {ref.split(":", 1)[1]: n.id for n in world.networks for ref in n.members}
    users: dict[str, set[str]] = {}
    for source, _, target in _edges(world):
        if target in CDN_IPS or target in PARKING_NS:
            users.setdefault(target, set()).add(owner.get(source, "noise"))
    assert not (set(CDN_IPS) | set(PARKING_NS)) & members
    assert max(len(u) for u in users.values()) >= 3


def test_stix_bundles_are_well_formed(world: DemoWorld) -> None:
    bundles = [s for s in world.submissions if s.format == "stix21"]
    assert bundles
    for sub in bundles:
        objects = _stix(sub)
        ids = [o["id"] for o in objects]
        assert len(ids) == len(set(ids)), sub.filename
        known = set(ids)
        for o in objects:
            assert o["spec_version"] == "2.1" and o["id"].startswith(o["type"] + "--")
            if o["type"] == "relationship":
                assert o["source_ref"] in known and o["target_ref"] in known
            assert set(o.get("object_marking_refs", ())) <= known
            if o["type"] == "indicator":
                assert o["pattern_type"] == "stix" and o["pattern"].startswith("[")
    everything = [o for s in bundles for o in _stix(s)]
    types = Counter(o["type"] for o in everything)
    assert {"threat-actor", "intrusion-set", "campaign", "marking-definition"} <= set(types)
    rels = Counter(o["relationship_type"] for o in everything if o["type"] == "relationship")
    assert {
        "resolves-to",
        "uses-name-server",
        "registered-by",
        "uses-tracking-id",
        "receives-payments-to",
        "attributed-to",
        "uses",
        "indicates",
    } <= set(rels)


def test_small_slice_has_the_expected_proportions(world: DemoWorld) -> None:
    subs = world.submissions
    formats = Counter(s.format for s in subs)
    assert set(formats) == {"stix21", "csv", "list"}
    assert 25 <= len(subs) <= 80 and 0.15 <= formats["stix21"] / len(subs) <= 0.6
    assert all(s.raw.decode().splitlines()[0] == CSV_HEADER for s in subs if s.format == "csv")
    units = {o.name for o in world.organisations if o.kind is OrgKind.NATIONAL_CYBER_UNIT}
    assert {s.source for s in subs} >= units
    for sub in subs:
        if sub.source in units:
            assert sub.handling.tlp in (TLP.RED, TLP.AMBER_STRICT)
            assert sub.handling.releasable_to == Releasability(organisations=(DESK,))
            assert sub.handling.retain_until is not None
        elif sub.source in {
            o.name for o in world.organisations if o.kind is OrgKind.PRIVATE_PARTNER
        }:
            assert sub.handling.grading in ("B2", "C3") and sub.handling.tlp is not TLP.RED
    resent = Counter((s.source, s.filename, s.raw) for s in subs)
    assert sorted(resent.values(), reverse=True)[:4] == [2, 2, 2, 1]
    values = [v for s in subs for _, v in _values(s)]
    members = {ref.split(":", 1)[1] for n in world.networks for ref in n.members}
    noise = sum(v not in members for v in values) / len(values)
    assert 400 <= len(values) <= 4000 and 0.15 <= noise <= 0.7, (len(values), noise)
    overlap = Counter(v for v in {(s.source, v) for s in subs for _, v in _values(s)})
    assert sum(1 for (_, v) in overlap if v in members) > 0
    by_sources = Counter(v for _, v in overlap)
    assert sum(n >= 2 for n in by_sources.values()) >= 30  # values several sources report
    raw = b"".join(s.raw for s in subs)
    assert all(m.encode() in raw for m in BAD_MARKERS)


def test_member_refs_list_and_csv_types_are_known(world: DemoWorld) -> None:
    for sub in world.submissions:
        for kind, _ in _values(sub):
            assert kind is None or kind in {t.value for t in ObservableType} | {
                "ip",
                "btc",
                "eth",
                "hostname",
            }
    assert set(UNITS) <= {o.country for o in world.organisations}


def _bech32_ok(address: str) -> bool:
    hrp, _, data = address.rpartition("1")
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += ["qpzry9x8gf2tvdw0s3jn54khce6mua7l".index(c) for c in data]
    chk = 1
    for v in values:
        top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ v
        for i, gen in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= gen if (top >> i) & 1 else 0
    return chk == 1


def _checksum_ok(kind: str, value: str) -> bool:
    """Independent checks of the checksums the generator computes."""
    if kind == "btc-wallet":
        if value.startswith("bc1"):
            return _bech32_ok(value)
        try:
            return len(base58.b58decode_check(value)) == 21
        except ValueError:
            return False
    if kind == "eth-wallet":
        digest = keccak.new(digest_bits=256, data=value[2:].lower().encode()).hexdigest()
        return all(
            c == (c.upper() if int(h, 16) >= 8 else c.lower())
            for c, h in zip(value[2:], digest[:40], strict=True)
        )
    if kind == "iban":
        moved = value[4:] + value[:4]
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    return phonenumbers.is_valid_number(phonenumbers.parse(value))


def test_wallets_ibans_and_phones_carry_valid_checksums(world: DemoWorld) -> None:
    seen = Counter[str]()
    for net in world.networks:
        for ref in net.members:
            kind, value = ref.split(":", 1)
            if kind in CHECKED_TYPES:
                assert _checksum_ok(kind, value), ref
                seen[kind] += 1
    assert set(seen) == CHECKED_TYPES, seen
    planted = [
        row
        for s in world.submissions
        if s.format == "csv"
        for row in csv.DictReader(io.StringIO(s.raw.decode()))
        if row["description"].startswith("bad")
    ]
    assert planted and not any(_checksum_ok(r["type"], r["value"]) for r in planted)


@needs_normalize
def test_identifiers_validate_and_members_are_canonical(world: DemoWorld) -> None:
    from marsad.model.normalize import observable

    checked = Counter[str]()
    for net in world.networks:
        for ref in net.members:
            kind, value = ref.split(":", 1)
            assert observable(ObservableType(kind), value).ref == ref
            checked[kind] += kind in CHECKED_TYPES
    for sub in world.submissions:
        if sub.format == "csv":
            for row in csv.DictReader(io.StringIO(sub.raw.decode())):
                if row["type"] in CHECKED_TYPES and not any(
                    m in ",".join(row.values()) for m in BAD_MARKERS
                ):
                    observable(ObservableType(row["type"]), row["value"])
    assert all(checked[k] for k in CHECKED_TYPES), checked


@needs_normalize
def test_every_file_parses_and_only_planted_lines_are_rejected(world: DemoWorld) -> None:
    from marsad.formats.registry import get_format
    from marsad.model.records import AssertionRecord, ParseMeta, Rejected

    rejected: list[Rejected] = []
    asserted = 0
    for sub in world.submissions:
        meta = ParseMeta(filename=sub.filename, default_threat_type=sub.threat_type)
        for record in get_format(sub.format).parse(sub.raw, meta):
            asserted += isinstance(record, AssertionRecord)
            if isinstance(record, Rejected):
                rejected.append(record)
    assert asserted >= 400
    assert len(rejected) >= 6
    for r in rejected:
        assert any(m in r.raw for m in BAD_MARKERS), (r.location, r.reason, r.raw[:200])


def test_demo_loads_through_the_real_ingest_with_its_own_timeline(sqlite_store: Store) -> None:
    from marsad.demo.load import load_world

    result = load_world(sqlite_store, seed=2026, scale=0.01, console=None)
    summary = sqlite_store.summary()
    assert summary["organisations"] == result["organisations"] >= 25
    assert summary["submissions"] == result["submissions"] - result["duplicates"]
    assert result["duplicates"] >= 1  # the world re-sends a few files
    assert result["rejected"] >= 1  # and carries deliberately bad records
    assert summary["assertions"] > 0
    # the dates come from the world (June to October 2026), not from the loading day
    latest = max(a.view.last_seen for a in sqlite_store.iter_assertions(ExportFilter(), EVERYTHING))
    assert latest is not None and latest.year == 2026 and latest.month <= 10
