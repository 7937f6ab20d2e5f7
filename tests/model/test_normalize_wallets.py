"""Wallets, onion v3 and IBANs: published vectors, generated values, one changed character.

Generators here are written from the specifications (BIP-173/350, EIP-55, Monero's
Base58, rend-spec-v3, ISO 13616) independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib

import base58
import pytest
from Crypto.Hash import keccak
from hypothesis import assume, given
from hypothesis import strategies as st

from marsad.model.errors import InvalidObservable
from marsad.model.normalize import detect, normalize
from marsad.model.observable import ObservableType as T

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
# The Monero Project's general fund donation address (getmonero.org/get-started/contributing).
XMR_DONATION = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
TOR_PROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
USDT_TRC20 = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # Tether's USDT contract on Tron


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def flip(value: str, index: int, alphabet: str, start: int = 0) -> str:
    """``value`` with the character at ``start + index % …`` replaced from ``alphabet``."""
    i = start + index % (len(value) - start)
    options = [c for c in alphabet if c != value[i]]
    return value[:i] + options[index % len(options)] + value[i + 1 :]


def rejected(kind: T, raw: str) -> str:
    with pytest.raises(InvalidObservable) as caught:
        normalize(kind, raw)
    return caught.value.reason


# --- Bitcoin and Litecoin --------------------------------------------------------------

BIP350_VALID = [
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    "BC1SW50QGDZ25J",
    "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
]
BIP350_INVALID = [  # (address, problem)
    ("tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "bc1"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "bech32m"),
    ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "bech32m"),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "bech32m"),
    ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "alphabet"),
    ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "witness program"),
    ("bc1pw5dgrnzv", "witness program"),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
        "witness program",
    ),
    ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "20 or 32 bytes"),
    ("tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixed case"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "witness program"),
    ("bc1gmk9yu", "empty data part"),
]


@pytest.mark.parametrize("address", BIP350_VALID)
def test_bip350_valid_addresses_are_lower_cased(address: str) -> None:
    assert normalize(T.BTC_WALLET, address) == address.lower()
    found = detect(address)
    assert found is not None and (found.type, found.value) == (T.BTC_WALLET, address.lower())


@pytest.mark.parametrize(("address", "problem"), BIP350_INVALID)
def test_bip350_invalid_addresses_name_their_problem(address: str, problem: str) -> None:
    assert problem in rejected(T.BTC_WALLET, address)
    assert detect(address) is None


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        (T.BTC_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),  # P2PKH, bitcoin wiki
        (T.BTC_WALLET, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH, bitcoin wiki
        (T.LTC_WALLET, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1"),
        (T.LTC_WALLET, "M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX"),
        (T.LTC_WALLET, "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9"),  # BIP-173 program
        (T.TRX_WALLET, USDT_TRC20),
        (T.XMR_WALLET, XMR_DONATION),
        (T.ETH_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ],
)
def test_published_addresses(kind: T, address: str) -> None:
    assert normalize(kind, address) == address
    found = detect(address)
    assert found is not None and (found.type, found.value) == (kind, address)


def test_a_p2sh_address_is_btc_for_detect_and_ltc_when_typed() -> None:
    address = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
    assert normalize(T.LTC_WALLET, address) == address
    assert detect(address) is not None and detect(address).type is T.BTC_WALLET  # type: ignore[union-attr]


def test_a_wallet_of_one_chain_is_not_accepted_as_another() -> None:
    assert "version byte" in rejected(T.TRX_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")
    assert "version byte" in rejected(T.BTC_WALLET, USDT_TRC20)
    assert "version byte" in rejected(T.BTC_WALLET, "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1")
    assert "bc1" in rejected(T.BTC_WALLET, "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9")
    assert "base58 character" in rejected(T.BTC_WALLET, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0")


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    return chk


def segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-173/350 encoder: 8-bit program to 5-bit groups, then the checksum."""
    acc = bits = 0
    data = [version]
    for byte in program:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    const = 1 if version == 0 else 0x2BC830A3
    hrp_x = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _polymod([*hrp_x, *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


programs = st.one_of(
    st.tuples(st.just(0), st.binary(min_size=20, max_size=20)),
    st.tuples(st.just(0), st.binary(min_size=32, max_size=32)),
    st.tuples(st.integers(1, 16), st.binary(min_size=2, max_size=40)),
)


@given(
    st.sampled_from([("bc", T.BTC_WALLET), ("ltc", T.LTC_WALLET)]), programs, st.integers(0, 10**6)
)
def test_segwit_round_trip_and_one_changed_character(
    chain: tuple[str, T], program: tuple[int, bytes], where: int
) -> None:
    hrp, kind = chain
    address = segwit_address(hrp, *program)
    assert normalize(kind, address.upper()) == address
    assert normalize(kind, address) == address
    found = detect(address.upper())
    assert found is not None and (found.type, found.value) == (kind, address)
    changed = flip(address, where, BECH32, start=len(hrp) + 1)
    assert "checksum" in rejected(kind, changed)


@given(
    st.sampled_from(
        [
            (T.BTC_WALLET, 0x00),
            (T.BTC_WALLET, 0x05),
            (T.LTC_WALLET, 0x30),
            (T.LTC_WALLET, 0x32),
            (T.TRX_WALLET, 0x41),
        ]
    ),
    st.binary(min_size=20, max_size=20),
    st.integers(0, 10**6),
)
def test_base58check_round_trip_and_one_changed_character(
    chain: tuple[T, int], body: bytes, where: int
) -> None:
    kind, version = chain
    address = base58.b58encode_check(bytes([version]) + body).decode()
    assert normalize(kind, address) == address
    found = detect(address)
    assert found is not None and found.value == address
    assert found.type is kind or (version == 0x05 and found.type is T.BTC_WALLET)
    assert "checksum" in rejected(kind, flip(address, where, B58))


# --- Ethereum ----------------------------------------------------------------------------

EIP55_VECTORS = [  # from EIP-55 itself
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def eip55(address_hex: str) -> str:
    lower = address_hex.lower()
    digest = keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest, strict=False)
    )


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eip55_vectors(address: str) -> None:
    canonical = eip55(address[2:])
    assert canonical == address  # the vectors are their own checksummed form
    assert normalize(T.ETH_WALLET, address) == address
    assert normalize(T.ETH_WALLET, address.lower()) == address
    assert normalize(T.ETH_WALLET, "0X" + address[2:].upper()) == address


@given(st.binary(min_size=20, max_size=20), st.integers(0, 10**6))
def test_eth_mixed_case_checksum(body: bytes, where: int) -> None:
    address = eip55(body.hex())
    assert normalize(T.ETH_WALLET, address.lower()) == address
    assert normalize(T.ETH_WALLET, address) == address
    letters = [i for i, c in enumerate(address) if i > 1 and c.isalpha()]
    assume(len(letters) >= 2)
    i = letters[where % len(letters)]
    swapped = address[:i] + address[i].swapcase() + address[i + 1 :]
    assume(swapped[2:] not in (swapped[2:].lower(), swapped[2:].upper()))
    assert "EIP-55" in rejected(T.ETH_WALLET, swapped)


# --- Monero ------------------------------------------------------------------------------


def monero_address(network: int, payload: bytes) -> str:
    data = bytes([network]) + payload
    data += keccak256(data)[:4]
    sizes = (0, 2, 3, 5, 6, 7, 9, 10, 11)
    out = []
    for start in range(0, len(data), 8):
        block = data[start : start + 8]
        n = int.from_bytes(block, "big")
        chars = []
        for _ in range(sizes[len(block)]):
            n, r = divmod(n, 58)
            chars.append(B58[r])
        out.append("".join(reversed(chars)))
    return "".join(out)


@given(
    st.sampled_from([(18, 64, "4"), (42, 64, "8"), (19, 72, "4")]),
    st.data(),
    st.integers(0, 10**6),
)
def test_monero_round_trip_and_one_changed_character(
    network: tuple[int, int, str], data: st.DataObject, where: int
) -> None:
    byte, size, first = network
    address = monero_address(byte, data.draw(st.binary(min_size=size, max_size=size)))
    assert address[0] == first
    assert normalize(T.XMR_WALLET, address) == address
    found = detect(address)
    assert found is not None and (found.type, found.value) == (T.XMR_WALLET, address)
    reason = rejected(T.XMR_WALLET, flip(address, where, B58))
    assert any(word in reason for word in ("checksum", "overflows", "network byte"))


def test_monero_donation_address_with_one_changed_character() -> None:
    assert "checksum" in rejected(T.XMR_WALLET, XMR_DONATION[:-1] + "B")
    assert "95 or 106" in rejected(T.XMR_WALLET, XMR_DONATION[:-1])


# --- Onion v3 ----------------------------------------------------------------------------


def onion_address(pubkey: bytes, version: int = 3) -> str:
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + bytes([version])).digest()[:2]
    return base64.b32encode(pubkey + checksum + bytes([version])).decode().lower() + ".onion"


def test_tor_project_onion() -> None:
    assert onion_address(base64.b32decode(TOR_PROJECT[:56].upper())[:32]) == TOR_PROJECT
    assert normalize(T.ONION, TOR_PROJECT) == TOR_PROJECT
    assert "checksum" in rejected(T.ONION, TOR_PROJECT.replace("2gzy", "2gzz"))


@given(st.binary(min_size=32, max_size=32), st.integers(0, 10**6))
def test_onion_round_trip_and_one_changed_character(pubkey: bytes, where: int) -> None:
    address = onion_address(pubkey)
    assert normalize(T.ONION, "Sub.Domain." + address.upper() + ".") == address
    found = detect(address)
    assert found is not None and (found.type, found.value) == (T.ONION, address)
    reason = rejected(T.ONION, flip(address[:56], where, BASE32) + ".onion")
    assert "checksum" in reason or "version byte" in reason


def test_onion_with_a_wrong_version_byte() -> None:
    assert "version byte is 4" in rejected(T.ONION, onion_address(bytes(32), version=4))


# --- IBAN --------------------------------------------------------------------------------

IBAN_LENGTHS = {"GB": 22, "DE": 22, "FR": 27, "NL": 18, "SA": 24, "AE": 23, "NO": 15, "MT": 31}


def iban(country: str, bban: str) -> str:
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@pytest.mark.parametrize(
    "value",
    [
        "GB82WEST12345698765432",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ],
)
def test_published_ibans(value: str) -> None:
    spaced = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    assert normalize(T.IBAN, spaced.lower()) == value
    found = detect(value)
    assert found is not None and (found.type, found.value) == (T.IBAN, value)


@given(st.sampled_from(sorted(IBAN_LENGTHS)), st.data(), st.integers(0, 10**6))
def test_iban_round_trip_and_one_changed_digit(
    country: str, data: st.DataObject, where: int
) -> None:
    size = IBAN_LENGTHS[country] - 4
    bban = data.draw(st.text(alphabet="0123456789", min_size=size, max_size=size))
    value = iban(country, bban)
    assert normalize(T.IBAN, " ".join(value[i : i + 4] for i in range(0, len(value), 4))) == value
    assert "mod 97" in rejected(T.IBAN, flip(value, where, "0123456789", start=2))
