"""The simple STIX pattern reader: what it accepts, and what it leaves as complex."""

from __future__ import annotations

import pytest

from marsad.formats.stix_patterns import escape_literal, parse_simple


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '10.0.0.1']", [("ipv4-addr", "value", "10.0.0.1")]),
        ("[ ipv4-addr:value = '10.0.0.0' ]", [("ipv4-addr", "value", "10.0.0.0")]),
        (
            "[file:hashes.'SHA-256' = 'abc']",
            [("file", "hashes.SHA-256", "abc")],
        ),
        ("[file:hashes.MD5='ab']", [("file", "hashes.MD5", "ab")]),
        ("[autonomous-system:number = 15169]", [("autonomous-system", "number", "15169")]),
        (
            "[url:value = 'http://a.example/'] OR [domain-name:value = 'b.example']",
            [("url", "value", "http://a.example/"), ("domain-name", "value", "b.example")],
        ),
        (
            "[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
            [("domain-name", "value", "a.example"), ("domain-name", "value", "b.example")],
        ),
        (
            "([domain-name:value = 'a.example'] OR ([ipv4-addr:value = '1.2.3.4']))",
            [("domain-name", "value", "a.example"), ("ipv4-addr", "value", "1.2.3.4")],
        ),
        (
            r"[url:value = 'http://x.example/it\'s\\here']",
            [("url", "value", "http://x.example/it's\\here")],
        ),
        (
            "[file:hashes.MD5 = 'a' AND file:hashes.'SHA-1' = 'b']",
            [("file", "hashes.MD5", "a"), ("file", "hashes.SHA-1", "b")],
        ),
        (
            "[email-message:from_ref.value = 'x@example.com']",
            [("email-message", "from_ref.value", "x@example.com")],
        ),
    ],
)
def test_simple_patterns(pattern: str, expected: list[tuple[str, str, str]]) -> None:
    assert parse_simple(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value = 'a' AND domain-name:resolves_to_refs[*].value = '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']",
        "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.example']",
        "[email-message:subject MATCHES '^x']",
        "[file:name LIKE 'x%']",
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')]",
        "[ipv4-addr:value = '1.2.3.4'] WITHIN 60 SECONDS",
        "[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES",
        "[NOT ipv4-addr:value = '1.2.3.4']",
        "[file:hashes.MD5 = 'a' AND file:hashes.SHA1 = 'b' OR file:name = 'c']",
        "[file:hashes.MD5 = 'a' AND artifact:hashes.MD5 = 'b']",
        "[ipv4-addr:value = '1.2.3.4'",
        "ipv4-addr:value = '1.2.3.4'",
        "[]",
        "",
        "[ipv4-addr:value = '1.2.3.4'] OR",
        "[artifact:payload_bin = b'AAAA']",
    ],
)
def test_complex_patterns_are_left_whole(pattern: str) -> None:
    assert parse_simple(pattern) is None


@pytest.mark.parametrize("value", ["plain", "it's", "back\\slash", "\\'", "''\\\\"])
def test_escaped_literals_read_back(value: str) -> None:
    assert parse_simple(f"[url:value = {escape_literal(value)}]") == [("url", "value", value)]
