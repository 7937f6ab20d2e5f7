"""Table tests for `detect` (one raw token → its type) and `expand` (what a value implies)."""

from __future__ import annotations

import pytest

from marsad.model.normalize import detect, expand
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as T

TOR_PROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("hxxps://Evil[.]Example.COM:443/a", T.URL, "https://evil.example.com/a"),
        ("  http://192.0.2.1/x  ", T.URL, "http://192.0.2.1/x"),
        (f"http://{TOR_PROJECT}/", T.URL, f"http://{TOR_PROJECT}/"),
        ("Evil[.]Example.COM.", T.DOMAIN, "evil.example.com"),
        ("bücher.de", T.DOMAIN, "xn--bcher-kva.de"),
        ("3com.com", T.DOMAIN, "3com.com"),
        ("invoice.zip", T.DOMAIN, "invoice.zip"),  # .zip is a real TLD
        ("8(.)8(.)8(.)8", T.IPV4, "8.8.8.8"),
        ("192.0.2.0/24", T.CIDR, "192.0.2.0/24"),
        ("2001:DB8::1", T.IPV6, "2001:db8::1"),
        ("[2001:db8::1]", T.IPV6, "2001:db8::1"),
        ("2001:db8::/32", T.CIDR, "2001:db8::/32"),
        ("::ffff:192.0.2.1", T.IPV6, "::ffff:c000:201"),
        ("User[@]Mail.Example.org", T.EMAIL, "User@mail.example.org"),
        ("D41D8CD98F00B204E9800998ECF8427E", T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            T.SHA1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (SHA256.upper(), T.SHA256, SHA256),
        (SHA256 * 2, T.SHA512, SHA256 * 2),
        (
            "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
            T.SSDEEP,
            "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
        ),
        ("www." + TOR_PROJECT, T.ONION, TOR_PROJECT),
        (
            "0x52908400098527886e0f7030069857d2e4169ee7",
            T.ETH_WALLET,
            "0x52908400098527886E0F7030069857D2E4169EE7",
        ),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", T.BTC_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", T.TRX_WALLET, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ("GB82WEST12345698765432", T.IBAN, "GB82WEST12345698765432"),
        ("GB82 WEST 1234 5698 7654 32", T.IBAN, "GB82WEST12345698765432"),
        ("+6799123456", T.PHONE, "+6799123456"),
        ("AS64500", T.ASN, "AS64500"),
        ("UA-1234567-1", T.TRACKING_ID, "UA-1234567-1"),
        ("G-ABCDE12345", T.TRACKING_ID, "G-ABCDE12345"),
        ("GTM-ABC1234", T.TRACKING_ID, "GTM-ABC1234"),
        ("ca-pub-1234567890123456", T.TRACKING_ID, "ca-pub-1234567890123456"),
    ],
)
def test_detect(raw: str, kind: T, value: str) -> None:
    assert detect(raw) == Observable(kind, value)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "\x00",
        "[",
        "[.]",
        "hxxp://",
        "http://",
        "version 1.2.3",
        "1.2.3",
        "999.1.2.3",
        "01.2.3.4",
        "1.2.3.4.5",
        "12345",  # a bare number is not an ASN
        "hello",
        "not a value",
        "setup.exe",
        "setup.exe.",
        "config.local",
        "example.com/login.php",  # no scheme: not guessed to be a URL
        "12:30:45",  # a time, not ssdeep
        "::::",
        "2001:db8::1::2",
        "a@b",
        "@example.com",
        "%%%",
        "0x1234",
        "AS",
        "ASX",
        "bc1qqqqqqqq",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # checksum
        "d41d8cd98f00b204e9800998ecf8427",  # 31 hex digits
        "ab:cd:ef",
        "AB:" * 31 + "CD",  # a colon fingerprint only comes from explicit typing
        "expyuzz4wqqyqhjn.onion",  # v2
        "+1",
        "GB00WEST12345698765432",
        "http://exa mple.com",
        "😀😀😀",
    ],
)
def test_detect_says_none_for_what_is_not_an_observable(raw: str) -> None:
    assert detect(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "hxxps://Evil[.]Example.COM:443/a",
            [
                (T.URL, "https://evil.example.com/a"),
                (T.DOMAIN, "evil.example.com"),
                (T.DOMAIN, "example.com"),
            ],
        ),
        (
            "hxxps://Login.Evil[.]Example.co.uk/a",
            [
                (T.URL, "https://login.evil.example.co.uk/a"),
                (T.DOMAIN, "login.evil.example.co.uk"),
                (T.DOMAIN, "example.co.uk"),
            ],
        ),
        ("http://example.com", [(T.URL, "http://example.com/"), (T.DOMAIN, "example.com")]),
        ("http://192.0.2.1:8080/x", [(T.URL, "http://192.0.2.1:8080/x"), (T.IPV4, "192.0.2.1")]),
        ("http://[2001:DB8::1]/", [(T.URL, "http://[2001:db8::1]/"), (T.IPV6, "2001:db8::1")]),
        (
            f"http://www.{TOR_PROJECT}/x",
            [(T.URL, f"http://www.{TOR_PROJECT}/x"), (T.ONION, TOR_PROJECT)],
        ),
        ("http://localhost/x", [(T.URL, "http://localhost/x")]),
        (
            "a[@]b.example.com",
            [(T.EMAIL, "a@b.example.com"), (T.DOMAIN, "b.example.com"), (T.DOMAIN, "example.com")],
        ),
        ("a@example.com", [(T.EMAIL, "a@example.com"), (T.DOMAIN, "example.com")]),
        ("WWW.Example.com", [(T.DOMAIN, "www.example.com"), (T.DOMAIN, "example.com")]),
        ("example.com", [(T.DOMAIN, "example.com")]),
        ("foo.github.io", [(T.DOMAIN, "foo.github.io")]),
        ("192.0.2.1", [(T.IPV4, "192.0.2.1")]),
        (SHA256, [(T.SHA256, SHA256)]),
        ("garbage text", []),
        ("", []),
    ],
)
def test_expand(raw: str, expected: list[tuple[T, str]]) -> None:
    got = expand(raw)
    assert got == [Observable(kind, value) for kind, value in expected]
    assert len(set(got)) == len(got)
