"""Table tests on published vectors and the inputs analysts actually paste."""

from __future__ import annotations

import pytest

from marsad.model.errors import InvalidObservable
from marsad.model.normalize import detect, expand, normalize, registered_domain
from marsad.model.observable import Observable
from marsad.model.observable import ObservableType as T

TOR_PROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
XMR_DONATION = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("hxxps://Evil[.]Example.COM:443/a", T.URL, "https://evil.example.com/a"),
        ("HTTP://Example.com:80", T.URL, "http://example.com/"),
        (
            "http://example.com:8080/%7euser/%2f?q=%aa#frag",
            T.URL,
            "http://example.com:8080/~user/%2F?q=%AA",
        ),
        ("http://[2001:DB8::1]/x", T.URL, "http://[2001:db8::1]/x"),
        ("http://bücher.example/", T.URL, "http://xn--bcher-kva.example/"),
        ("Evil[.]Example.COM.", T.DOMAIN, "evil.example.com"),
        ("8(.)8(.)8(.)8", T.IPV4, "8.8.8.8"),
        ("User[@]Mail.Example.org", T.EMAIL, "user@mail.example.org"),
        ("2001:0DB8:0000::0001", T.IPV6, "2001:db8::1"),
        ("192.0.2.77/24", T.CIDR, "192.0.2.0/24"),
        ("D41D8CD98F00B204E9800998ECF8427E", T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            T.BTC_WALLET,
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        ),  # BIP-173
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            T.BTC_WALLET,
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        ),  # BIP-350
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", T.BTC_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        (
            "0x52908400098527886e0f7030069857d2e4169ee7",
            T.ETH_WALLET,
            "0x52908400098527886E0F7030069857D2E4169EE7",
        ),  # EIP-55 vector
        (
            "0xde709f2102306220921060314715629080e2fb77",
            T.ETH_WALLET,
            "0xde709f2102306220921060314715629080e2fb77",
        ),  # EIP-55 vector, all lower
        (XMR_DONATION, T.XMR_WALLET, XMR_DONATION),
        ("www." + TOR_PROJECT.upper(), T.ONION, TOR_PROJECT),
        ("GB82 WEST 1234 5698 7654 32", T.IBAN, "GB82WEST12345698765432"),
        ("+679 912 3456", T.PHONE, "+6799123456"),
        ("as64500", T.ASN, "AS64500"),
        ("ua-1234567-1", T.TRACKING_ID, "UA-1234567-1"),
        ("gtm-abc1234", T.TRACKING_ID, "GTM-ABC1234"),
        (
            '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C,"x.exe"',
            T.SSDEEP,
            "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
        ),
    ],
)
def test_canonical_forms(raw: str, kind: T, value: str) -> None:
    assert normalize(kind, raw) == value
    if kind is not T.PHONE or " " not in raw:
        found = detect(raw)
        assert found == Observable(kind, value)


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        (T.IPV4, "999.1.2.3", "above 255"),
        (T.IPV4, "01.2.3.4", "leading zero"),
        (T.DOMAIN, "example", "at least two labels"),
        (T.DOMAIN, "exa mple.com", "not a valid DNS label"),
        (T.DOMAIN, "1.2.3.4", "not a valid TLD"),
        (T.URL, "http:///path", "no host"),
        (T.URL, "http://example.com:99999/", "port"),
        (T.EMAIL, "no-at-sign.example.com", "local@domain"),
        (T.BTC_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "checksum"),
        (
            T.BTC_WALLET,
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv4",
            "checksum",
        ),
        (T.ETH_WALLET, "0x52908400098527886E0F7030069857D2E4169Ee7", "EIP-55"),
        (T.ETH_WALLET, "0x1234", "40 hex digits"),
        (T.TRX_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "version byte"),
        (T.XMR_WALLET, XMR_DONATION[:-1] + "B", "checksum"),
        (T.ONION, TOR_PROJECT.replace("2gzy", "2gzz"), "checksum"),
        (T.ONION, "expyuzz4wqqyqhjn.onion", "v2 is retired"),
        (T.IBAN, "GB82 WEST 1234 5698 7654 33", "mod 97"),
        (T.IBAN, "GB82 WEST 1234", "22 characters"),
        (T.PHONE, "9123456", "country code"),
        (T.PHONE, "+999123", ""),
        (T.ASN, "AS0", "1 to"),
        (T.TRACKING_ID, "UA-12", "expected"),
        (T.TLS_SHA256, "AB:CD", "32 bytes"),
    ],
)
def test_invalid_values_are_rejected_with_a_reason(kind: T, raw: str, reason: str) -> None:
    with pytest.raises(InvalidObservable) as caught:
        normalize(kind, raw)
    assert reason in caught.value.reason
    assert caught.value.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "version 1.2.3",
        "1.2.3",
        "hello",
        "12345",
        "not a value",
        "999.1.2.3",
        "setup.exe.",
        "%%%",
    ],
)
def test_detect_says_none_for_what_is_not_an_observable(raw: str) -> None:
    assert detect(raw) is None


def test_expand_gives_url_domain_and_registered_domain() -> None:
    assert expand("hxxps://Login.Evil[.]Example.co.uk:443/a") == [
        Observable(T.URL, "https://login.evil.example.co.uk/a"),
        Observable(T.DOMAIN, "login.evil.example.co.uk"),
        Observable(T.DOMAIN, "example.co.uk"),
    ]
    assert expand("http://192.0.2.1/x") == [
        Observable(T.URL, "http://192.0.2.1/x"),
        Observable(T.IPV4, "192.0.2.1"),
    ]
    assert expand("a@b.example.com") == [
        Observable(T.EMAIL, "a@b.example.com"),
        Observable(T.DOMAIN, "b.example.com"),
        Observable(T.DOMAIN, "example.com"),
    ]
    assert expand("example.com") == [Observable(T.DOMAIN, "example.com")]


def test_registered_domain_uses_the_shipped_public_suffix_list() -> None:
    assert registered_domain("a.b.example.com.au") == "example.com.au"
    assert registered_domain("foo.github.io") == "foo.github.io"  # private section of the PSL
    assert registered_domain("com.au") is None
