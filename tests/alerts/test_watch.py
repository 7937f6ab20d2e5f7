"""Watchlist entries and the columnar matcher, against a per-row reference."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marsad.model.normalize import registered_domain
from marsad.products.watch import Batch, WatchError, match, match_orgs, normalise_entry
from tests.alerts.naive import naive_match


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("country", " fj ", "FJ"),
        ("asn", "AS64500", "64500"),
        ("asn", "as0064500", "64500"),
        ("cidr", "203.0.113.7/24", "203.0.113.0/24"),
        ("cidr", "2001:DB8::/32", "2001:db8::/32"),
        ("cctld", ".FJ", "fj"),
        ("domain", "Police.GOV.fj.", "police.gov.fj"),
        ("domain", "example[.]org", "example.org"),
        ("keyword", "Bank ", "bank"),
        ("value", "hxxp://Evil[.]example.com/a", "http://evil.example.com/a"),
        ("threat-type", "Phishing", "phishing"),
    ],
)
def test_entries_are_normalised(kind: str, raw: str, stored: str) -> None:
    assert normalise_entry(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw", "words"),
    [
        ("colour", "red", "is not one of"),
        ("country", "FJI", "ISO 3166-1"),
        ("asn", "ASX", "AS number"),
        ("asn", "AS0", "AS number"),
        ("cidr", "10.0.0.0/33", "not a network"),
        ("cctld", "com.fj", "country-code"),
        ("domain", "not a domain", "not a domain"),
        ("threat-type", "mischief", "unknown"),
        ("keyword", "  ", "needs a value"),
    ],
)
def test_bad_entries_are_refused_with_a_reason(kind: str, raw: str, words: str) -> None:
    with pytest.raises(WatchError, match=words):
        normalise_entry(kind, raw)


def _batch(rows: list[tuple[str, str, str, str, str, int]]) -> Batch:
    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    return Batch(
        *(np.asarray(c, dtype=np.int64 if i == 5 else np.str_) for i, c in enumerate(cols))
    )


def test_each_kind_matches_what_it_says() -> None:
    rows = [
        ("ipv4", "202.170.32.9", "", "c2", "FJ", 64500),
        ("domain", "login.bank.com.fj", "bank.com.fj", "phishing", "", 0),
        ("url", "http://203.0.113.5:8080/x", "", "malware-distribution", "", 0),
        ("email", "ceo@shop.example.org", "example.org", "bec", "", 0),
        ("ipv6", "2001:db8::1", "", "scanning", "", 0),
        ("domain", "example.net", "example.net", "piracy", "", 0),
    ]
    entries = [(k, normalise_entry(k, v)) for k, v in [
        ("country", "FJ"), ("asn", "AS64500"), ("cidr", "203.0.113.0/24"),
        ("cidr", "2001:db8::/32"), ("cctld", "fj"), ("domain", "example.org"),
        ("domain", "com.fj"), ("keyword", "shop"), ("value", "example.net"),
        ("threat-type", "piracy"),
    ]]  # fmt: skip
    hits = {row: set(keys) for row, keys in match(_batch(rows), entries).items()}
    assert hits == {
        0: {"country:FJ", "asn:64500"},
        1: {"cctld:fj", "domain:com.fj"},
        2: {"cidr:203.0.113.0/24"},
        3: {"domain:example.org", "keyword:shop"},
        4: {"cidr:2001:db8::/32"},
        5: {"value:example.net", "threat-type:piracy"},
    }


def test_organisations_get_only_their_entries() -> None:
    rows = [("domain", "a.example.org", "example.org", "c2", "", 0),
            ("domain", "b.example.fj", "example.fj", "c2", "", 0)]  # fmt: skip
    found = match_orgs(_batch(rows), {1: [("cctld", "fj"), ("threat-type", "c2")],
                                      2: [("threat-type", "c2")], 3: []})  # fmt: skip
    got = [
        (o, r, set(orjson.loads(x)))
        for o, r, x in zip(
            found.org.tolist(), found.row.tolist(), found.reasons.tolist(), strict=True
        )
    ]
    assert got == [(1, 0, {"threat-type:c2"}), (1, 1, {"cctld:fj", "threat-type:c2"}),
                   (2, 0, {"threat-type:c2"}), (2, 1, {"threat-type:c2"})]  # fmt: skip


_labels = st.sampled_from(["a", "bank", "shop", "example", "gov", "x1"])
_tlds = st.sampled_from(["fj", "org", "com.fj", "net", "ws"])


@st.composite
def _row(draw: st.DrawFn) -> tuple[str, str, str, str, str, int]:
    kind = draw(st.sampled_from(["domain", "url", "email", "ipv4", "ipv6", "sha256"]))
    host = ".".join(draw(st.lists(_labels, min_size=1, max_size=3))) + "." + draw(_tlds)
    ip = f"203.0.{draw(st.integers(112, 114))}.{draw(st.integers(0, 255))}"
    value = {
        "domain": host,
        "url": f"http://{draw(st.sampled_from([host, ip]))}/{draw(_labels)}",
        "email": f"{draw(_labels)}@{host}",
        "ipv4": ip,
        "ipv6": f"2001:db8:{draw(st.integers(0, 3))}::{draw(st.integers(1, 9))}",
        "sha256": "ab" * 32,
    }[kind]
    url_host = value.partition("://")[2].partition("/")[0]
    domain = {"domain": host, "email": host, "url": url_host}.get(kind)
    registered = (registered_domain(domain) or "") if domain else ""
    threat = draw(st.sampled_from(["c2", "phishing", "piracy"]))
    country = draw(st.sampled_from(["FJ", "WS", ""])) if kind.startswith("ip") else ""
    asn = draw(st.sampled_from([0, 64500, 64501])) if kind.startswith("ip") else 0
    return kind, value, registered, threat, country, asn


_entries = st.lists(
    st.one_of(
        st.tuples(st.just("country"), st.sampled_from(["FJ", "WS", "AU"])),
        st.tuples(st.just("asn"), st.sampled_from(["64500", "64501"])),
        st.tuples(st.just("cidr"), st.sampled_from(
            ["203.0.113.0/24", "203.0.112.0/23", "203.0.113.128/25", "2001:db8:1::/48"])),
        st.tuples(st.just("cctld"), st.sampled_from(["fj", "ws", "org"])),
        st.tuples(st.just("domain"), st.sampled_from(["example.org", "bank.com.fj", "com.fj", "gov.fj"])),
        st.tuples(st.just("keyword"), st.sampled_from(["bank", "shop", "x1.", "ample"])),
        st.tuples(st.just("value"), st.sampled_from(["bank.fj", "203.0.113.7"])),
        st.tuples(st.just("threat-type"), st.sampled_from(["c2", "piracy"])),
    ),
    max_size=8,
)  # fmt: skip


@given(rows=st.lists(_row(), max_size=30), entries=_entries)
def test_columnar_matcher_agrees_with_the_per_row_reference(
    rows: list[tuple[str, str, str, str, str, int]], entries: list[tuple[str, str]]
) -> None:
    got = {row: set(keys) for row, keys in match(_batch(rows), entries).items()}
    assert got == naive_match(rows, entries)
    pairs = match_orgs(_batch(rows), {7: entries})
    assert {r: set(orjson.loads(x)) for r, x in zip(pairs.row.tolist(), pairs.reasons.tolist(),
                                                    strict=True)} == got  # fmt: skip
