"""Property tests for every normaliser: idempotence, refang round-trips, checksums."""

from __future__ import annotations

import ipaddress
import random
import string

import base58
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.provisional import domains, urls

from marsad.demo import identifiers
from marsad.model.errors import InvalidObservable
from marsad.model.normalize import detect, expand, normalize, refang
from marsad.model.normalize.wallets import _B58, _keccak
from marsad.model.observable import ObservableType as T

seeds = st.integers(min_value=0, max_value=2**32)


def defangs(value: str) -> list[str]:
    """The ways analysts write a value so that it cannot be clicked."""
    out = [value.replace(".", "[.]"), value.replace(".", "(.)"), value.replace(".", "[dot]")]
    if value.startswith("http"):
        out.append("hxxp" + value[4:].replace("://", "[://]", 1))
    if "@" in value:
        out.append(value.replace("@", "[@]"))
    return out


def idempotent(kind: T, raw: str) -> str:
    once = normalize(kind, raw)
    assert normalize(kind, once) == once
    return once


@given(st.ip_addresses(v=4))
def test_ipv4(ip: ipaddress.IPv4Address) -> None:
    value = idempotent(T.IPV4, str(ip))
    assert value == str(ip)
    for defanged in defangs(value):
        assert normalize(T.IPV4, defanged) == value
    assert detect(value) is not None and detect(value).type is T.IPV4  # type: ignore[union-attr]


@given(st.ip_addresses(v=6))
def test_ipv6(ip: ipaddress.IPv6Address) -> None:
    assert idempotent(T.IPV6, ip.exploded.upper()) == ip.compressed


@given(st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_cidr_masks_host_bits(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    prefix = min(prefix, ip.max_prefixlen)
    value = idempotent(T.CIDR, f"{ip}/{prefix}")
    assert value == str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@given(domains())
def test_domain(name: str) -> None:
    assume(not name.lower().endswith(".onion"))
    value = idempotent(T.DOMAIN, name)
    assert value == value.lower()
    assert normalize(T.DOMAIN, name.upper() + ".") == value
    for defanged in defangs(name):
        assert normalize(T.DOMAIN, defanged) == value


@given(urls())
def test_url(url: str) -> None:
    try:
        value = idempotent(T.URL, url)
    except InvalidObservable:
        assume(False)
        raise
    assert value.split("://")[0] == value.split("://")[0].lower()
    assert "#" not in value
    for defanged in defangs(value):
        assert normalize(T.URL, defanged) == value


@given(st.emails())
def test_email(address: str) -> None:
    try:
        value = idempotent(T.EMAIL, address)
    except InvalidObservable:
        assume(False)
        raise
    assert normalize(T.EMAIL, address.replace("@", "[@]")) == value


@pytest.mark.parametrize(
    ("kind", "size"), [(T.MD5, 16), (T.SHA1, 20), (T.SHA256, 32), (T.SHA512, 64)]
)
@given(data=st.data())
def test_hashes(kind: T, size: int, data: st.DataObject) -> None:
    digest = data.draw(st.binary(min_size=size, max_size=size)).hex()
    assert idempotent(kind, digest.upper()) == digest
    assert detect(digest) is not None and detect(digest).type is kind  # type: ignore[union-attr]
    with pytest.raises(InvalidObservable, match="hex digits"):
        normalize(kind, digest[:-1])


def _flip(value: str, index: int, alphabet: str) -> str:
    """Replace one character with another from the same alphabet."""
    i = index % len(value)
    options = [c for c in alphabet if c != value[i]]
    return value[:i] + options[index % len(options)] + value[i + 1 :]


def _b58check(version: int, body: bytes) -> str:
    return base58.b58encode_check(bytes([version]) + body).decode()


def _xmr(network: int, keys: bytes) -> str:
    data = bytes([network]) + keys
    data += _keccak(data)[:4]
    sizes = (0, 2, 3, 5, 6, 7, 9, 10, 11)
    out = []
    for start in range(0, len(data), 8):
        block = data[start : start + 8]
        n = int.from_bytes(block, "big")
        chars = []
        for _ in range(sizes[len(block)]):
            n, r = divmod(n, 58)
            chars.append(_B58[r])
        out.append("".join(reversed(chars)))
    return "".join(out)


@given(seeds, st.integers(min_value=0, max_value=10_000))
def test_wallets_round_trip_and_reject_one_changed_character(seed: int, where: int) -> None:
    rng = random.Random(seed)
    body = rng.randbytes(20)
    cases = [
        (T.BTC_WALLET, identifiers.btc_address(rng), _B58),
        (T.BTC_WALLET, _b58check(0x05, body), _B58),
        (T.TRX_WALLET, _b58check(0x41, body), _B58),
        (T.LTC_WALLET, _b58check(0x30, body), _B58),
        (T.XMR_WALLET, _xmr(18, rng.randbytes(64)), _B58),
    ]
    for kind, address, alphabet in cases:
        value = idempotent(kind, address)
        found = detect(address)
        assert found is not None and found.value == value
        with pytest.raises(InvalidObservable) as bad:
            normalize(kind, _flip(address, where, alphabet))
        assert bad.value.reason


@given(seeds, st.integers(min_value=0, max_value=10_000))
def test_bech32_segwit(seed: int, where: int) -> None:
    address = identifiers.bech32_segwit_v0(random.Random(seed).randbytes(20))
    assert idempotent(T.BTC_WALLET, address.upper()) == address
    body_start = address.rfind("1") + 1
    flipped = address[:body_start] + _flip(
        address[body_start:], where, "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    )
    with pytest.raises(InvalidObservable, match="checksum"):
        normalize(T.BTC_WALLET, flipped)


@given(seeds)
def test_eth_eip55(seed: int) -> None:
    address = identifiers.eth_address(random.Random(seed))
    value = idempotent(T.ETH_WALLET, address.lower())
    assert value == address  # canonical form is the EIP-55 checksummed address
    letters = [i for i, c in enumerate(address) if i > 1 and c.isalpha()]
    assume(len({address[i].isupper() for i in letters}) == 2)  # really mixed case
    i = letters[seed % len(letters)]
    swapped = address[:i] + address[i].swapcase() + address[i + 1 :]
    with pytest.raises(InvalidObservable, match="EIP-55"):
        normalize(T.ETH_WALLET, swapped)


@given(
    seeds, st.sampled_from(sorted(identifiers.IBAN_LAYOUTS)), st.integers(min_value=4, max_value=30)
)
def test_iban(seed: int, country: str, where: int) -> None:
    iban = identifiers.iban(random.Random(seed), country)
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    assert idempotent(T.IBAN, spaced) == iban
    i = where % len(iban)
    if i < 4 or not iban[i].isdigit():
        i = next(j for j in range(4, len(iban)) if iban[j].isdigit())
    changed = iban[:i] + str((int(iban[i]) + 1) % 10) + iban[i + 1 :]
    with pytest.raises(InvalidObservable, match="mod 97"):
        normalize(T.IBAN, changed)


@given(seeds, st.sampled_from(["AU", "FJ", "NZ", "SG", "GB", "FR"]))
def test_phone(seed: int, country: str) -> None:
    number = identifiers.phone(random.Random(seed), country)
    value = idempotent(T.PHONE, number)
    assert value.startswith("+") and value[1:].isdigit()
    assert normalize(T.PHONE, "00" + value[1:]) == value


@given(st.integers(min_value=1, max_value=2**32 - 1))
def test_asn(number: int) -> None:
    assert idempotent(T.ASN, f"as{number}") == f"AS{number}"
    assert idempotent(T.ASN, str(number)) == f"AS{number}"


@given(
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=10, max_size=10),
    st.text(alphabet=string.digits, min_size=16, max_size=16),
)
def test_tracking_ids(ga4: str, adsense: str) -> None:
    assert idempotent(T.TRACKING_ID, f"g-{ga4.lower()}") == f"G-{ga4}"
    assert idempotent(T.TRACKING_ID, f"pub-{adsense}") == f"ca-pub-{adsense}"


@given(st.binary(min_size=32, max_size=32))
def test_tls_fingerprint(digest: bytes) -> None:
    colon = ":".join(f"{b:02X}" for b in digest)
    assert idempotent(T.TLS_SHA256, colon) == digest.hex()


@given(st.text(max_size=120))
def test_detect_and_expand_never_raise(text: str) -> None:
    found = detect(text)
    if found is not None:
        assert normalize(found.type, found.value) == found.value
    for obs in expand(text):
        assert normalize(obs.type, obs.value) == obs.value


@given(st.text(alphabet=string.ascii_lowercase + "./:-", max_size=40))
def test_refang_leaves_clean_text_alone(text: str) -> None:
    assume("xp" not in text)
    assert refang(text) == text
