"""The STIX fast paths give exactly what the general paths give.

- typed decoding (msgspec structs, per-object orjson dicts) against orjson dicts only;
- the string-splitting shortcut of the pattern reader against its regex scanner;
- canonical IPv4 and hex digests taken as they are against the normaliser.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from marsad.formats import stix21, stix21_decode
from marsad.formats import stix_vocab as V
from marsad.formats.stix_patterns import escape_literal, parse_general, parse_simple
from marsad.model.errors import InvalidObservable
from marsad.model.observable import ObservableType
from marsad.model.records import AssertionRecord, ParseMeta, ThreatType

BIG = 2**70  # beyond 64 bits orjson reads a float, msgspec an int: both must agree anyway
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-BIG, BIG),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
IDS = [f"{t}--00000000-0000-4000-8000-00000000000{i}" for t in ("indicator", "x") for i in range(4)]
MALWARE = "malware--00000000-0000-4000-8000-000000000009"
TLP_RED = V.TLP2_MARKING_IDS[next(iter(V.TLP2_MARKING_IDS))]
VALUES = {
    "ipv4-addr": [
        "203.0.113.7",
        "203.0.113.07",
        "10.0.0.0/8",
        " 10.1.2.3",
        "10[.]1.2.3",
        "999.1.1.1",
    ],
    "domain-name": [
        "Example.COM",
        "example.com",
        "bücher.example",
        "a..b",
        "x.onion",
        "phish.example.",
    ],
    "url": ["hxxps://Login[.]Example.COM:443/a", "https://example.com/a", "not a url"],
    "file": [
        "d41d8cd98f00b204e9800998ecf8427e",
        "D41D8CD98F00B204E9800998ECF8427E",
        "abc",
        "xyz" * 11,
    ],
}
PATHS = {
    "ipv4-addr": "value",
    "domain-name": "value",
    "url": "value",
    "file": "hashes.'SHA-256'",
}


def _maybe(draw: st.DrawFn, value: st.SearchStrategy[Any]) -> Any:
    """A property value, or the marker that leaves the property out."""
    return draw(st.one_of(st.just(_ABSENT), value))


_ABSENT = object()


def _obj(**props: Any) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not _ABSENT}


@st.composite
def indicators(draw: st.DrawFn) -> dict[str, Any]:
    sco = draw(st.sampled_from(sorted(VALUES)))
    value = draw(st.sampled_from(VALUES[sco]))
    pattern = st.sampled_from(
        [
            f"[{sco}:{PATHS[sco]} = {escape_literal(value)}]",
            f"[{sco}:{PATHS[sco]} = {escape_literal(value)}] OR [ipv4-addr:value = '198.51.100.1']",
            f"[{sco}:{PATHS[sco]} = {escape_literal(value)}] AND [ipv4-addr:value = '1.2.3.4']",
            f"[x-unknown:value = {escape_literal(value)}]",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:size = 3]",
        ]
    )
    ext = {V.MARSAD_EXTENSION_ID: {"sightings": draw(SCALARS), "last_seen": "2024-02-01T00:00Z"}}
    return _obj(
        type="indicator",
        id=_maybe(draw, st.sampled_from([*IDS[:4], 7, BIG])),
        pattern=draw(st.one_of(pattern, SCALARS))
        if draw(st.integers(0, 9)) == 0
        else draw(pattern),
        pattern_type=_maybe(draw, st.sampled_from(["stix", "snort", None])),
        valid_from=_maybe(draw, st.sampled_from(["2024-01-02T03:04:05Z", "garbage", 5])),
        confidence=_maybe(draw, st.one_of(st.integers(-5, 105), SCALARS)),
        name=_maybe(draw, st.one_of(st.sampled_from(["C2 server", "phishing kit", "x"]), SCALARS)),
        description=_maybe(draw, st.one_of(st.just("ransomware drop"), SCALARS)),
        labels=_maybe(draw, st.one_of(st.lists(st.sampled_from(["c2", "tor", "x", 3])), JSON)),
        indicator_types=_maybe(
            draw, st.lists(st.sampled_from(["malicious-activity", "benign", "unknown", 1]))
        ),
        kill_chain_phases=_maybe(
            draw, st.lists(st.fixed_dictionaries({"phase_name": st.sampled_from(["exploitation"])}))
        ),
        object_marking_refs=_maybe(draw, st.one_of(st.just([TLP_RED]), st.none(), JSON)),
        extensions=_maybe(draw, st.one_of(st.just(ext), JSON)),
    )


@st.composite
def scos(draw: st.DrawFn, refs: bool = True) -> dict[str, Any]:
    t = draw(st.sampled_from([*sorted(VALUES), "mac-addr", "autonomous-system"]))
    value = draw(st.one_of(st.sampled_from(VALUES.get(t, ["x"])), SCALARS))
    props: dict[str, Any] = {"type": t, "id": draw(st.sampled_from([*IDS[4:], BIG]))}
    if t == "file":
        props["hashes"] = draw(st.one_of(st.just({"SHA-256": value}), JSON))
    elif t == "autonomous-system":
        props["number"] = draw(st.one_of(st.integers(-BIG, BIG), SCALARS))
    else:
        props["value"] = value
    return _obj(
        **props,
        resolves_to_refs=_maybe(draw, st.lists(st.sampled_from([*IDS, BIG]), max_size=2))
        if refs
        else _ABSENT,
        object_marking_refs=_maybe(draw, st.one_of(st.just([TLP_RED]), JSON)),
        extensions=_maybe(draw, JSON),
    )


OTHERS = st.sampled_from(
    [
        {"type": "malware", "id": MALWARE, "name": "Locky", "malware_types": ["ransomware"]},
        {
            "type": "relationship",
            "id": "relationship--00000000-0000-4000-8000-000000000010",
            "relationship_type": "indicates",
            "source_ref": IDS[0],
            "target_ref": MALWARE,
        },
        {
            "type": "relationship",
            "id": "relationship--00000000-0000-4000-8000-000000000011",
            "relationship_type": "based-on",
            "source_ref": IDS[1],
            "target_ref": IDS[4],
        },
        V.tlp2_marking(next(iter(V.TLP2_MARKING_IDS))),
    ]
)


@st.composite
def pairs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An indicator and the SCO of its value beside it, as feeds write them."""
    indicator, sco = draw(indicators()), draw(scos(refs=False))
    sco_type = draw(st.sampled_from(sorted(VALUES)))
    value = draw(st.sampled_from(VALUES[sco_type]))
    indicator["pattern"] = f"[{sco_type}:{PATHS[sco_type]} = {escape_literal(value)}]"
    sco["type"] = sco_type
    sco.pop("number", None)
    if sco_type == "file":
        sco.pop("value", None)
        sco["hashes"] = {"SHA-256": value}
    else:
        sco.pop("hashes", None)
        sco["value"] = value
    return draw(st.permutations([indicator, sco]))


# A feed (pairs, nothing referring to ids: consumed SCOs take the shortcut) or a mix.
OBJECTS = st.one_of(
    st.lists(pairs(), max_size=4).map(lambda found: [o for pair in found for o in pair]),
    st.lists(st.one_of(indicators(), scos(), OTHERS), max_size=8),
)


@given(
    objects=OBJECTS,
    shape=st.sampled_from(["bundle", "array", "odd element"]),
    default=st.sampled_from([None, ThreatType.PHISHING]),
)
def test_typed_decoding_gives_the_generic_records(
    objects: list[Any], shape: str, default: ThreatType | None
) -> None:
    doc: Any = objects
    if shape == "bundle":
        doc = {"type": "bundle", "id": "bundle--1", "objects": objects}
    elif shape == "odd element":  # not an object: the whole document takes the generic path
        doc = [*objects, "not an object"]
    raw = json.dumps(doc).encode()  # json, not orjson: it writes integers beyond 64 bits
    meta = ParseMeta(default_threat_type=default)
    typed, generic = list(stix21.parse(raw, meta)), list(stix21.parse_generic(raw, meta))
    # as JSON: 2**70 == float(2**70) in Python, but a record must not change type
    assert msgspec.json.encode(typed) == msgspec.json.encode(generic)


def test_integers_beyond_64_bits_read_as_orjson_reads_them() -> None:
    big = 3**50  # 24 digits, printed by a float in 22 characters
    doc = [
        {"type": "indicator", "id": big, "pattern": "[ipv4-addr:value = '1.2.3.4']", "name": big},
        {"type": "autonomous-system", "id": IDS[4], "number": big},
        {"type": "file", "id": IDS[5], "hashes": {"MD5": big}},
        {"type": "ipv4-addr", "id": IDS[6], "value": "1.2.3.5", "resolves_to_refs": [big]},
        {"type": "relationship", "id": "relationship--1", "source_ref": IDS[4], "target_ref": "x",
         "relationship_type": "related-to"},
    ]  # fmt: skip
    raw = json.dumps(doc).encode()
    typed = list(stix21.parse(raw, ParseMeta()))
    generic = list(stix21.parse_generic(raw, ParseMeta()))
    assert msgspec.json.encode(typed) == msgspec.json.encode(generic)
    assert any(isinstance(r, AssertionRecord) and r.name == float(big) for r in typed)


def test_a_plain_bundle_takes_the_typed_path() -> None:
    raw = json.dumps({"type": "bundle", "objects": [{"type": "ipv4-addr", "value": "1.2.3.4"}]})
    assert isinstance(
        stix21._parser(raw.encode(), ParseMeta(), typed=True).dict_of, stix21_decode.LazyDicts
    )


HEAD = st.tuples(
    st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,10}\Z"),
    st.sampled_from(["value", "hashes.'SHA-256'", "hashes.MD5", "x_y.z[0]", "a b", ""]),
    st.sampled_from(["", " ", "  ", "\t"]),
)


@given(head=HEAD, literal=st.text(max_size=12), raw_quote=st.booleans())
def test_pattern_shortcut_agrees_with_the_scanner(
    head: tuple[str, str, str], literal: str, raw_quote: bool
) -> None:
    sco, path, space = head
    quoted = f"'{literal}'" if raw_quote else escape_literal(literal)
    for pattern in (
        f"[{space}{sco}:{path}{space}= {quoted}]",
        f"[{sco}:{path} {space}= {quoted}]{space}",
        f"[{sco}:{path} = {quoted}] OR [{sco}:{path} = {quoted}]",
    ):
        assert parse_simple(pattern) == parse_general(pattern), pattern


@given(st.text(max_size=40))
def test_pattern_shortcut_agrees_on_any_text(pattern: str) -> None:
    assert parse_simple(pattern) == parse_general(pattern)


_OCTETS = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "1a", ""]))
CANDIDATES = st.one_of(
    st.lists(_OCTETS, min_size=3, max_size=5).map(".".join),
    st.sampled_from([31, 32, 40, 64, 128]).flatmap(
        lambda n: (
            st.text(alphabet="0123456789abcdefABCDEF", min_size=n, max_size=n)
            | st.text(alphabet="0123456789abcdefxg ", min_size=n, max_size=n)
        )
    ),
    st.sampled_from(["d41d8cd98f00b204e9800998ecf8427e", " 1.2.3.4", "1.2.3.4\n", "1.2.3.4/24"]),
    st.text(max_size=70),
)


@given(
    kind=st.sampled_from(
        [
            ObservableType.IPV4,
            ObservableType.MD5,
            ObservableType.SHA1,
            ObservableType.SHA256,
            ObservableType.SHA512,
            ObservableType.DOMAIN,
        ]
    ),
    value=CANDIDATES,
)
def test_canonical_values_are_taken_as_the_normaliser_would(
    kind: ObservableType, value: str
) -> None:
    def outcome(make: Any) -> Any:
        try:
            return make(kind, value, "x")
        except InvalidObservable as exc:
            return ("invalid", exc.reason)

    assert outcome(stix21.observe) == outcome(V.make_observable)


def test_keyword_threat_finds_what_the_plain_keyword_search_finds() -> None:
    # The first-letter lookahead only skips positions: the same keyword at the same place
    # as the plain lookbehind-and-alternation search, on names mixing keywords and
    # look-alikes (inside words, after digits, accents, underscores).
    import random
    import re

    from marsad.formats.stix_vocab import _KEYWORDS, NAME_KEYWORDS, keyword_threat

    plain = re.compile("(?<![a-z0-9])(" + "|".join(re.escape(k) for k, _ in NAME_KEYWORDS) + ")")
    words = [k for k, _ in NAME_KEYWORDS] + ["indicator", "9", "-", " ", "x", "é", "_", "C2"]
    rng = random.Random(2)
    for _ in range(20_000):
        text = "".join(rng.choice(words) for _ in range(rng.randint(0, 6))).lower()
        ours, theirs = _KEYWORDS.search(text), plain.search(text)
        assert (ours and (ours.start(), ours.group(1))) == (
            theirs and (theirs.start(), theirs.group(1))
        ), text
    assert keyword_threat("Cobalt Strike C2 10.0.0.1") == "c2"
    assert keyword_threat("xphish kit") is None and keyword_threat("a-Phish kit") == "phishing"
