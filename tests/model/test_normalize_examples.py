"""Table tests: canonical forms of the inputs analysts actually paste, and precise reasons."""

from __future__ import annotations

import pytest

from marsad.model.errors import InvalidObservable
from marsad.model.normalize import normalize, observable, registered_domain
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as T

# The Tor Project's own onion service (https://www.torproject.org, "Onion-Location").
TOR_PROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
TLSH = "T1" + "A" * 6 + "0123456789ABCDEF" * 4


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        (T.IPV4, " 8(.)8(.)8(.)8 ", "8.8.8.8"),
        (T.IPV4, "192.0.2.0", "192.0.2.0"),
        (T.IPV6, "2001:0DB8:0000::0001", "2001:db8::1"),
        (T.IPV6, "[2001:db8:0:0:1:0:0:1]", "2001:db8::1:0:0:1"),
        (T.CIDR, "192.0.2.77/24", "192.0.2.0/24"),
        (T.CIDR, "192.0.2.77/32", "192.0.2.77/32"),
        (T.CIDR, "2001:DB8::1/128", "2001:db8::1/128"),
        (T.CIDR, "2001:db8::ff/64", "2001:db8::/64"),
        (T.DOMAIN, "Evil[.]Example.COM.", "evil.example.com"),
        (T.DOMAIN, "bücher.example", "xn--bcher-kva.example"),
        (T.DOMAIN, "BÜCHER。example", "xn--bcher-kva.example"),  # ideographic full stop
        (T.DOMAIN, "faß.de", "xn--fa-hia.de"),  # UTS 46 non-transitional
        (T.DOMAIN, "xn--ls8h.la", "xn--ls8h.la"),  # emoji A-label, registered, kept
        (T.DOMAIN, "_dmarc.Example.com", "_dmarc.example.com"),
        (T.URL, "hxxps://Evil[.]Example.COM:443/a", "https://evil.example.com/a"),
        (T.URL, "HTTP://Example.com:80", "http://example.com/"),
        (T.URL, "ftp://files.example.org:21", "ftp://files.example.org/"),
        (T.URL, "http://example.com:443/", "http://example.com:443/"),
        (T.URL, "https://example.com:0443/", "https://example.com/"),
        (
            T.URL,
            "http://example.com:8080/%7euser/%2f?q=%aa#frag",
            "http://example.com:8080/~user/%2F?q=%AA",
        ),
        (T.URL, "http://example.com/%41%62c", "http://example.com/Abc"),
        (T.URL, "http://example.com/ü?q=ä", "http://example.com/%C3%BC?q=%C3%A4"),
        (T.URL, "http://[2001:DB8::1]:8443/x", "http://[2001:db8::1]:8443/x"),
        (T.URL, "http://bücher.example/", "http://xn--bcher-kva.example/"),
        (T.URL, "http://User:Pw@Example.com/", "http://User:Pw@example.com/"),
        (T.URL, "tcp://203.0.113.5:4444", "tcp://203.0.113.5:4444/"),
        (T.URL, "http://example.com/a?", "http://example.com/a?"),
        (T.URL, "hXXp[:]//example[.]com/x", "http://example.com/x"),
        (T.URL, "fxp://example[.]com/pub", "ftp://example.com/pub"),
        (T.EMAIL, "User[@]Mail.Example.org", "User@mail.example.org"),
        (T.EMAIL, "john.doe (at) example [dot] com", "john.doe@example.com"),
        (T.EMAIL, "mailto:a@Example.com", "a@example.com"),
        (T.MD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        (
            T.SHA1,
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            T.SSDEEP,
            '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C,"x.exe"',
            "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
        ),
        (T.TLSH, "t1" + TLSH[2:].lower(), TLSH),
        (T.TLSH, TLSH[2:].lower(), TLSH[2:]),  # legacy, no version prefix
        (T.ONION, "www." + TOR_PROJECT.upper(), TOR_PROJECT),
        (T.ONION, f"http://{TOR_PROJECT}:80/index.html", TOR_PROJECT),
        (T.IBAN, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        (T.IBAN, "de89-3704-0044-0532-0130-00", "DE89370400440532013000"),
        (T.PHONE, "+679 912 3456", "+6799123456"),
        (T.PHONE, "+44 (20) 7946-0958", "+442079460958"),
        (T.PHONE, "0044 20 7946 0958", "+442079460958"),
        (T.ASN, "as64500", "AS64500"),
        (T.ASN, "AS 0064500", "AS64500"),
        (T.ASN, "4294967295", "AS4294967295"),
        (T.TRACKING_ID, "ua-1234567-1", "UA-1234567-1"),
        (T.TRACKING_ID, "g-abcde12345", "G-ABCDE12345"),
        (T.TRACKING_ID, "gtm-abc1234", "GTM-ABC1234"),
        (T.TRACKING_ID, "pub-1234567890123456", "ca-pub-1234567890123456"),
        (T.TRACKING_ID, "CA-PUB-1234567890123456", "ca-pub-1234567890123456"),
        (T.TLS_SHA256, "AB:" * 31 + "CD", "ab" * 31 + "cd"),
    ],
)
def test_canonical_forms(kind: T, raw: str, value: str) -> None:
    assert normalize(kind, raw) == value
    assert normalize(kind, value) == value
    assert observable(kind, raw) == Observable(kind, value)


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        (T.IPV4, "", "empty value"),
        (T.IPV4, "999.1.2.3", "above 255"),
        (T.IPV4, "01.2.3.4", "leading zero"),
        (T.IPV4, "1.2.3", "four dot-separated octets"),
        (T.IPV4, "1.2.3.x", "not a number"),
        (T.IPV6, "2001:db8::1::2", "'::'"),
        (T.IPV6, "fe80::1%eth0", "zone ids"),
        (T.CIDR, "10.0.0.0", "/prefix"),
        (T.CIDR, "10.0.0.0/33", "longer than 32 bits"),
        (T.CIDR, "010.0.0.0/8", "leading zero"),
        (T.DOMAIN, "example", "at least two labels"),
        (T.DOMAIN, "exa mple.com", "not a valid DNS label"),
        (T.DOMAIN, "1.2.3.4", "not a valid TLD"),
        (T.DOMAIN, "a..example.com", "empty label"),
        (T.DOMAIN, "-bad.example.com", "not a valid DNS label"),
        (T.DOMAIN, "a" * 64 + ".com", "longer than 63"),
        (T.DOMAIN, ("a" * 60 + ".") * 5 + "com", "longer than 253"),
        (T.DOMAIN, "xn--zz.com", "punycode"),
        (T.DOMAIN, "😀.com", "internationalised"),
        (T.DOMAIN, TOR_PROJECT, "own type (onion)"),
        (T.URL, "http:///path", "no host"),
        (T.URL, "example.com/path", "scheme://host"),
        (T.URL, "http://example.com:99999/", "port"),
        (T.URL, "http://example.com:8o/", "port"),
        (T.URL, "http://exa mple.com/", "whitespace"),
        (T.URL, "http://999.1.2.3/", "host: octet 999 is above 255"),
        (T.URL, "http://-x-.example/", "host: label"),
        (T.EMAIL, "no-at-sign.example.com", "local@domain"),
        (T.EMAIL, "a b@example.com", "local part"),
        (T.EMAIL, "a@example", "domain: a domain needs at least two labels"),
        (T.MD5, "d41d8cd98f00b204e9800998ecf8427", "32 hex digits, got 31"),
        (T.SHA256, "g" * 64, "not hexadecimal"),
        (T.SSDEEP, "5:abc:def", "3 times a power of two"),
        (T.SSDEEP, "abc", "blocksize:hash:hash"),
        (T.TLSH, "T1" + "0" * 69, "70 hex digits"),
        (T.ONION, "expyuzz4wqqyqhjn.onion", "v2 is retired"),
        (T.ONION, "example.com", "ends in .onion"),
        (T.IBAN, "GB82 WEST 1234 5698 7654 33", "mod 97"),
        (T.IBAN, "GB82 WEST 1234", "22 characters"),
        (T.IBAN, "ZZ82 WEST 1234 5698 7654 32", "not an IBAN country"),
        (T.IBAN, "GBXX WEST 1234 5698 7654 32", "check digits after the country"),
        (T.PHONE, "9123456", "country code"),
        (T.PHONE, "+999123", "unknown country calling code"),
        (T.PHONE, "+1 555 0000 000", "not a valid number"),
        (T.ASN, "AS0", "1 to"),
        (T.ASN, "AS4294967296", "1 to"),
        (T.ASN, "ASN-X", "expected AS"),
        (T.TRACKING_ID, "UA-12", "expected"),
        (T.TRACKING_ID, "pub-123", "expected"),
        (T.TLS_SHA256, "AB:CD", "32 bytes"),
    ],
)
def test_invalid_values_are_rejected_with_a_reason(kind: T, raw: str, reason: str) -> None:
    with pytest.raises(InvalidObservable) as caught:
        normalize(kind, raw)
    assert reason.lower() in caught.value.reason.lower()
    assert caught.value.raw == raw  # the caller's text, not the refanged one
    assert caught.value.type_name == kind.value


def test_registered_domain_uses_the_shipped_public_suffix_list() -> None:
    assert registered_domain("a.b.example.com.au") == "example.com.au"
    assert registered_domain("foo.github.io") == "foo.github.io"  # private section of the PSL
    assert registered_domain("www.example.co.uk") == "example.co.uk"
    assert registered_domain("Example.COM.") == "example.com"
    assert registered_domain("com.au") is None
    assert registered_domain("com") is None
    assert registered_domain("192.0.2.1") is None
    assert registered_domain("") is None


def test_registered_domain_agrees_with_publicsuffixlist_around_every_rule() -> None:
    # The parent shortcut must give the library's answer for every rule of the shipped
    # list (exceptions, wildcards, deep private suffixes) and for names above and below it.
    from publicsuffixlist import PublicSuffixList

    from marsad.model.normalize.domain import _read_rules, _rules

    psl = PublicSuffixList()
    assert _read_rules() == _rules()  # the fallback reads the file as the library does
    names = {"a.b.internal", "x.y.z.example", "localhost", "a..b.com", ".a.com"}
    for rule in _rules():
        base = rule.lstrip("!").removeprefix("*.")
        names.update({base, f"x.{base}", f"y.x.{base}", f"www.y.x.{base}"})
        if "." in base:
            names.add(f"z.{base.partition('.')[2]}")  # a sibling of the rule
    assert len(names) > 40_000
    wrong = [
        (name, registered_domain(name), psl.privatesuffix(name))
        for name in sorted(names)
        if registered_domain(name) != (psl.privatesuffix(name) or None)
    ]
    assert not wrong, wrong[:10]
