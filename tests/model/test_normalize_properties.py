"""Property tests: idempotence, refang round-trips, and only InvalidObservable on bad input."""

from __future__ import annotations

import ipaddress
import string

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from marsad.model.errors import InvalidObservable
from marsad.model.normalize import detect, normalize, refang
from marsad.model.observable import ObservableType as T


def defangs(value: str) -> list[str]:
    """The ways analysts write a value so that it cannot be clicked."""
    out = [
        value.replace(".", "[.]"),
        value.replace(".", "(.)"),
        value.replace(".", "{.}"),
        value.replace(".", "[dot]"),
        value.replace(".", " (dot) "),
    ]
    if value.startswith("http"):
        out.append("hxxp" + value[4:])
        out.append("hXXp" + value[4:].replace("://", "[://]", 1))
        out.append("hxxp" + value[4:].replace(":", "[:]", 1).replace(".", "[.]"))
    if "@" in value:
        out += [value.replace("@", "[@]"), value.replace("@", " (at) "), value.replace("@", "[at]")]
    return out


def idempotent(kind: T, raw: str) -> str:
    once = normalize(kind, raw)
    assert normalize(kind, once) == once
    return once


@given(st.ip_addresses(v=4))
def test_ipv4(ip: ipaddress.IPv4Address) -> None:
    value = idempotent(T.IPV4, f" {ip} ")
    assert value == str(ip)
    for defanged in defangs(value):
        assert normalize(T.IPV4, defanged) == value
    found = detect(value)
    assert found is not None and (found.type, found.value) == (T.IPV4, value)


@given(st.ip_addresses(v=6))
def test_ipv6(ip: ipaddress.IPv6Address) -> None:
    assert idempotent(T.IPV6, ip.exploded.upper()) == ip.compressed
    assert normalize(T.IPV6, f"[{ip.exploded}]") == ip.compressed
    found = detect(ip.exploded)
    assert found is not None and (found.type, found.value) == (T.IPV6, ip.compressed)


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_cidr_masks_host_bits(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    prefix = min(prefix, ip.max_prefixlen)
    value = idempotent(T.CIDR, f"{ip}/{prefix}")
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    assert value == str(network)
    assert value.endswith(f"/{prefix}")  # a /32 or /128 stays a CIDR
    found = detect(f"{ip}/{prefix}")
    assert found is not None and (found.type, found.value) == (T.CIDR, value)


@given(domains())
def test_domain(name: str) -> None:
    assume(not name.lower().endswith(".onion"))
    value = idempotent(T.DOMAIN, name)
    assert value == value.lower()
    assert normalize(T.DOMAIN, name.upper() + ".") == value
    for defanged in defangs(name):
        assert normalize(T.DOMAIN, defanged) == value


@given(st.sampled_from(["bücher", "пример", "例え", "faß", "ελληνικά", "مثال"]), domains())
def test_unicode_domains_become_a_labels(label: str, parent: str) -> None:
    assume(not parent.lower().endswith(".onion"))
    try:
        value = idempotent(T.DOMAIN, f"{label}.{parent}")
    except InvalidObservable as exc:
        assume("longer than" not in exc.reason)  # the generated parent may be near 253
        raise
    assert value.isascii() and value.startswith("xn--")
    assert normalize(T.DOMAIN, f"{label.capitalize()}[.]{parent}") == value


@given(urls())
def test_url(url: str) -> None:
    try:
        value = idempotent(T.URL, url)
    except InvalidObservable:
        assume(False)
        raise
    scheme, _, rest = value.partition("://")
    assert scheme == scheme.lower()
    assert "#" not in value and "/" in rest
    for defanged in defangs(value):
        assert normalize(T.URL, defanged) == value
    found = detect(url)
    assert found is not None and (found.type, found.value) == (T.URL, value)


@given(st.emails())
def test_email(address: str) -> None:
    try:
        value = idempotent(T.EMAIL, address)
    except InvalidObservable:
        assume(False)
        raise
    local, _, domain = value.rpartition("@")
    assert local == address.rpartition("@")[0]  # the local part is kept as written
    assert domain == domain.lower()
    for defanged in defangs(address):
        if "@" not in defanged:
            assert normalize(T.EMAIL, defanged) == value


@pytest.mark.parametrize(
    ("kind", "size"), [(T.MD5, 16), (T.SHA1, 20), (T.SHA256, 32), (T.SHA512, 64)]
)
@given(data=st.data())
def test_hashes(kind: T, size: int, data: st.DataObject) -> None:
    digest = data.draw(st.binary(min_size=size, max_size=size)).hex()
    assert idempotent(kind, digest.upper()) == digest
    found = detect(digest.upper())
    assert found is not None and (found.type, found.value) == (kind, digest)
    with pytest.raises(InvalidObservable, match="hex digits"):
        normalize(kind, digest[:-1])
    with pytest.raises(InvalidObservable, match="not hexadecimal"):
        normalize(kind, digest[:-1] + "z")


@given(
    st.integers(0, 20),
    st.text("abcXYZ019+/", min_size=1, max_size=64),
    st.text("ab+/Z9", min_size=1, max_size=32),
)
def test_ssdeep(power: int, first: str, second: str) -> None:
    value = idempotent(T.SSDEEP, f"{3 << power}:{first}:{second}")
    assert value == f"{3 << power}:{first}:{second}"


@given(st.binary(min_size=35, max_size=35))
def test_tlsh(body: bytes) -> None:
    assert idempotent(T.TLSH, "t1" + body.hex()) == "T1" + body.hex().upper()
    found = detect("T1" + body.hex())
    assert found is not None and (found.type, found.value) == (T.TLSH, "T1" + body.hex().upper())


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_phone_example_numbers(region: str) -> None:
    example = phonenumbers.example_number(region)
    assume(example is not None)
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    value = idempotent(T.PHONE, international)
    assert value == phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert normalize(T.PHONE, "00" + value[1:]) == value
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    with pytest.raises(InvalidObservable, match="country code"):
        normalize(T.PHONE, national)


@given(st.integers(min_value=1, max_value=2**32 - 1))
def test_asn(number: int) -> None:
    assert idempotent(T.ASN, f"as{number}") == f"AS{number}"
    assert idempotent(T.ASN, str(number)) == f"AS{number}"
    found = detect(f"AS{number}")
    assert found is not None and (found.type, found.value) == (T.ASN, f"AS{number}")
    assert detect(str(number)) is None  # a bare number is not guessed to be an ASN


@given(
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=10, max_size=10),
    st.text(alphabet=string.digits, min_size=16, max_size=16),
    st.integers(1000, 99_999_999),
    st.integers(1, 99),
)
def test_tracking_ids(ga4: str, adsense: str, account: int, prop: int) -> None:
    assert idempotent(T.TRACKING_ID, f"g-{ga4.lower()}") == f"G-{ga4}"
    assert idempotent(T.TRACKING_ID, f"pub-{adsense}") == f"ca-pub-{adsense}"
    assert idempotent(T.TRACKING_ID, f"ua-{account}-{prop}") == f"UA-{account}-{prop}"
    found = detect(f"pub-{adsense}")
    assert found is not None and (found.type, found.value) == (T.TRACKING_ID, f"ca-pub-{adsense}")


@given(st.binary(min_size=32, max_size=32))
def test_tls_fingerprint(digest: bytes) -> None:
    colon = ":".join(f"{b:02X}" for b in digest)
    assert idempotent(T.TLS_SHA256, colon) == digest.hex()
    assert normalize(T.TLS_SHA256, digest.hex().upper()) == digest.hex()
    found = detect(digest.hex())
    assert found is not None and found.type is T.SHA256  # never tls-sha256 by guessing


noise = st.text(alphabet=string.printable + "éü。[]().@:/", max_size=80) | st.text(max_size=60)


@given(st.sampled_from(list(T)), noise)
def test_normalize_raises_only_invalid_observable_and_is_idempotent(kind: T, text: str) -> None:
    try:
        value = normalize(kind, text)
    except InvalidObservable as exc:
        assert exc.reason and exc.raw == text
        return
    assert normalize(kind, value) == value


@given(noise)
def test_detect_never_raises_and_gives_canonical_values(text: str) -> None:
    found = detect(text)
    if found is not None:
        assert normalize(found.type, found.value) == found.value


@given(st.text(alphabet=string.ascii_lowercase + string.digits + "./:-_?=&%", max_size=60))
def test_refang_leaves_clean_text_alone(text: str) -> None:
    assume("xp" not in text)
    assert refang(text) is text


@pytest.mark.parametrize(
    ("defanged", "plain"),
    [
        ("hxxp://a[.]b", "http://a.b"),
        ("HXXPS://a(.)b", "https://a.b"),
        ("hxp://a.b", "http://a.b"),
        ("fxp://a{.}b", "ftp://a.b"),
        ("a[dot]b(dot)c{dot}d", "a.b.c.d"),
        ("http[:]//a.b", "http://a.b"),
        ("http[://]a.b", "http://a.b"),
        ("x[@]y.z", "x@y.z"),
        ("x(@)y.z", "x@y.z"),
        ("x (at) y [dot] z", "x@y.z"),
        ("x[at]y.z", "x@y.z"),
        ("a [ . ] b", "a.b"),
        ("expert.xp", "expert.xp"),  # ``xp`` without a scheme colon is left alone
        ("(a)", "(a)"),
    ],
)
def test_refang_markers(defanged: str, plain: str) -> None:
    assert refang(defanged) == plain
