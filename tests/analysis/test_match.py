"""Bulk match: input reading, hits under the policy, "exists, ask the owner", sightings, STIX."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_string

from marsad.access.policy import EVERYTHING, grant_for
from marsad.analysis.match import MatchInputError, canonical, parse_input, per_key
from marsad.formats.stix21_sightings import sightings_bundle
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.normalize import detect
from marsad.model.records import ThreatType
from marsad.store import match_reads as mr
from marsad.store.store import Store
from tests.analysis import marked_world

GREEN = SubmissionDefaults(handling=Handling(tlp=TLP.GREEN, releasable_to=Releasability()))
RED = SubmissionDefaults(handling=Handling(tlp=TLP.RED))
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def test_lines_are_normalised_once_and_bad_lines_counted_with_their_numbers() -> None:
    raw = (b"# firewall export\n198.51.100.7\n198[.]51.100.7\n\nnot-a-thing\n"
           b"hxxp://Evil.example.com/x\n0.0.0.0 ads.example.net\n999.1.1.1\n")  # fmt: skip
    p = parse_input(raw, "auto", None, "fw.log")
    assert p.keys == [("ipv4", "198.51.100.7"), ("url", "http://evil.example.com/x"),
                      ("domain", "evil.example.com"), ("domain", "ads.example.net")]  # fmt: skip
    assert (p.values, p.distinct, p.unparseable) == (4, 3, 2)
    assert [(b.line, b.text) for b in p.bad] == [(5, "not-a-thing"), (8, "999.1.1.1")]
    seen, first = per_key(p)
    assert seen.tolist() == [2, 1, 1, 1] and first.tolist() == [2, 6, 6, 7]
    derived = [
        (int(k), int(n)) for k, n, d in zip(p.pair_key, p.pair_line, p.derived, strict=True) if d
    ]
    assert derived == [(2, 6)]  # the URL's host, from line 6


def test_csv_reads_a_named_column_or_every_column() -> None:
    raw = b"time,src,dst\n1,10.0.0.1,198.51.100.7\n2,10.0.0.2,nope\n3,,\n"
    by_col = parse_input(raw, "csv", "DST", "x.csv")
    assert by_col.keys == [("ipv4", "198.51.100.7")] and by_col.unparseable == 2
    assert [(b.line, b.reason) for b in by_col.bad] == [
        (3, "'nope' is not a recognised value"),
        (4, "no value in column 'DST'"),
    ]
    every = parse_input(raw, "auto", None, "x.csv")
    assert {v for _, v in every.keys} == {"10.0.0.1", "10.0.0.2", "198.51.100.7"}
    assert every.unparseable == 1 and every.bad[0].line == 4  # a row with no value at all
    with pytest.raises(MatchInputError, match="no column 'ip'"):
        parse_input(raw, "csv", "ip", "x.csv")
    with pytest.raises(MatchInputError, match="not UTF-8"):
        parse_input(b"\xff\xfe1.2.3.4", "lines", None, "x.txt")


def _list(store: Store, source: str, lines: str, defaults: SubmissionDefaults) -> None:
    report = ingest(store, lines.encode(), source=source, fmt="list", defaults=defaults,
                    threat_type=ThreatType.C2)  # fmt: skip
    assert report.status == "ingested", report


def test_hits_carry_handling_and_grading_and_become_sightings(store: Store) -> None:
    from marsad.model.organisation import make_organisation

    for name, kind in (("PhishGuard", "private-partner"), ("Fiji CCU", "national-cyber-unit"),
                       ("ASP Desk", "regional-desk")):  # fmt: skip
        store.add_org(make_organisation(name, kind, "FJ", "asia-south-pacific"))
    _list(store, "PhishGuard", "198.51.100.7\nevil.example.com\n", GREEN)
    _list(store, "ASP Desk", "198.51.100.7\n", RED)
    p = parse_input(b"198.51.100.7\n10.1.1.1\nhttps://evil.example.com/a\n198.51.100.7\n",
                    "lines", None, "fw.log")  # fmt: skip
    fiji_viewer = store.viewer("Fiji CCU")
    fiji = grant_for(fiji_viewer, marked_world.TODAY)
    hits, asked = mr.find(store, fiji, p.keys)
    assert sorted((p.keys[h.key][1], h.source, h.tlp, h.grading) for h in hits) == [
        ("198.51.100.7", "PhishGuard", "TLP:GREEN", "F6"),
        ("evil.example.com", "PhishGuard", "TLP:GREEN", "F6"),
    ]
    assert asked == []
    everything, _ = mr.find(store, EVERYTHING, p.keys)
    assert {h.source for h in everything} == {"PhishGuard", "ASP Desk"}
    seen, _ = per_key(p)
    counts = [(h.assertion_id, int(seen[h.key])) for h in hits]
    assert mr.record_sightings(store, fiji_viewer, counts, "fw.log", NOW) == 2
    mr.record_sightings(store, fiji_viewer, counts, "fw.log", NOW + dt.timedelta(hours=1))
    partner = grant_for(store.viewer("PhishGuard"), marked_world.TODAY)
    rows = {(r.value, r.seen_by): r for r in mr.sightings_of(store, partner)}
    assert rows[("198.51.100.7", "Fiji CCU")].count == 4  # twice in the file, matched twice
    assert rows[("evil.example.com", "Fiji CCU")].count == 2
    assert rows[("198.51.100.7", "Fiji CCU")].last_at > rows[("198.51.100.7", "Fiji CCU")].first_at
    assert mr.sightings_of(store, grant_for(store.viewer("ASP Desk"), marked_world.TODAY)) == []
    by_id = {s.id: s.view for s in mr.stored_views(store, fiji, [a for a, _ in counts])}
    views = [(by_id[a], c) for a, c in counts]
    bundle = sightings_bundle(views, observer="Fiji CCU", now=NOW)
    result = validate_string(bundle.decode(), ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for e in result.errors]
    objects = json.loads(bundle)["objects"]
    sightings = [o for o in objects if o["type"] == "sighting"]
    indicators = {o["id"] for o in objects if o["type"] == "indicator"}
    assert {s["sighting_of_ref"] for s in sightings} == indicators and len(sightings) == 2
    assert sorted(s["count"] for s in sightings) == [1, 2]


@pytest.mark.parametrize("seed", [11, 12])
def test_match_never_reveals_what_the_policy_denies(store: Store, seed: int) -> None:
    world = marked_world.build(store, seed)
    names = {v: k for k, v in world.org_ids.items()}
    lines = [v for _, v in world.values.values()] + ["203.0.113.9", "miss.example.org"]
    p = parse_input("\n".join(lines).encode(), "lines", None, "all.txt")
    obs_of_key = {k: oid for oid, key in world.values.items() for k, pk in enumerate(p.keys)
                  if pk == key}  # fmt: skip
    for viewer, grant in world.viewers(store):
        hits, asked = mr.find(store, grant, p.keys)
        got = {(h.key, h.assertion_id) for h in hits}
        want = {(k, a) for k, oid in obs_of_key.items() for a in world.visible(grant, oid)}
        assert got == want, viewer.label
        ask_want = {
            (k, names[o]) for k, oid in obs_of_key.items() for o in world.askable(grant, oid)
        }
        assert set(asked) == ask_want, viewer.label
        if viewer.org_id is not None:
            mr.record_sightings(store, viewer, [(h.assertion_id, 1) for h in hits], "all.txt", NOW)
    # every sighting is of an assertion its matcher may see
    for viewer, grant in world.viewers(store)[1:]:
        for row in mr.sightings_of(store, EVERYTHING, limit=100_000):
            if row.seen_by == viewer.org_name:
                assert row.assertion_id in world.visible(
                    grant, world.observable_of[row.assertion_id]
                )


@given(
    st.lists(
        st.text(alphabet="abcxn0129-_.onioncomnet", min_size=1, max_size=12), min_size=1, max_size=4
    ).map(".".join)
    | st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", fullmatch=True)
    | st.from_regex(r"[a-z0-9_-]{1,10}(\.[a-z0-9_-]{1,10}){1,3}", fullmatch=True)
)
@example("d12.bench-bad.com")
@example("_dmarc.example.com")
@example("123.example.org")
@example("a-.example.com")
@example("xn--bcher-kva.example")
@example("abc.onion")
def test_the_canonical_fast_path_agrees_with_detect(token: str) -> None:
    fast = canonical(token)
    if fast is not None:
        found = detect(token)
        assert found is not None and (found.type.value, found.value) == fast, token
