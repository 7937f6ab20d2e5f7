"""Synthetic identifiers that pass real validation: wallets, IBANs, phones, tracking ids.

Every function takes the caller's ``random.Random`` so a world stays reproducible. The
values are random, not real: checksums are computed, the payload bytes are not anyone's.
"""

from __future__ import annotations

import random
import string
from functools import cache

import base58
import phonenumbers
from Crypto.Hash import keccak

# IBAN countries mule accounts are opened in: (country, BBAN layout) where ``A`` is an
# upper-case letter and ``9`` a digit; lengths follow the SWIFT IBAN registry.
IBAN_LAYOUTS: dict[str, str] = {
    "GB": "AAAA99999999999999",
    "DE": "999999999999999999",
    "NL": "AAAA9999999999",
    "AE": "9999999999999999999",
    "LT": "9999999999999999",
    "PK": "AAAA9999999999999999",
    "TL": "9999999999999999999",
    "SA": "99999999999999999999",
}

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_ALNUM_UPPER = string.ascii_uppercase + string.digits


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, gen in enumerate(_BECH32_GEN):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _to_5bit(data: bytes) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def bech32_segwit_v0(program: bytes, hrp: str = "bc") -> str:
    """A BIP-173 bech32 address for a version-0 witness program (20 or 32 bytes)."""
    data = [0, *_to_5bit(program)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _bech32_polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def btc_address(rng: random.Random) -> str:
    """A checksummed Bitcoin address: P2PKH, P2SH or bech32 P2WPKH, from random bytes."""
    payload = rng.randbytes(20)
    kind = rng.random()
    if kind < 0.45:
        return bech32_segwit_v0(payload)
    version = b"\x00" if kind < 0.85 else b"\x05"
    return base58.b58encode_check(version + payload).decode()


def eip55(hex40: str) -> str:
    """The EIP-55 mixed-case checksum form of a 40-hex-digit Ethereum address."""
    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(lower, digest, strict=False)
    )


def eth_address(rng: random.Random) -> str:
    """A checksummed (EIP-55) Ethereum address from random bytes."""
    return eip55(rng.randbytes(20).hex())


def break_checksum(address: str) -> str:
    """The same address with one character changed, so its checksum no longer holds."""
    if address.startswith("0x"):
        body = address[2:]
        i = next(i for i, c in enumerate(body) if c.isalpha())
        return "0x" + body[:i] + body[i].swapcase() + body[i + 1 :]
    last = address[-1]
    swap = "q" if last != "q" else "p"
    if not address.startswith("bc1"):
        swap = "2" if last != "2" else "3"
    return address[:-1] + swap


def iban_check_digits(country: str, bban: str) -> str:
    """The two ISO 13616 check digits (mod 97) of a country code and BBAN."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def iban(rng: random.Random, country: str) -> str:
    """A mod-97-valid IBAN of the country's length, with a random BBAN."""
    bban = "".join(
        rng.choice(string.ascii_uppercase) if ch == "A" else rng.choice(string.digits)
        for ch in IBAN_LAYOUTS[country]
    )
    return country + iban_check_digits(country, bban) + bban


@cache
def _mobile_template(country: str) -> tuple[int, str]:
    example = phonenumbers.example_number_for_type(
        country, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(country)
    if example is None:
        raise ValueError(f"no phone numbering plan for {country}")
    return int(example.country_code or 0), str(example.national_number)


def phone(rng: random.Random, country: str) -> str:
    """A mobile number valid for the country's numbering plan, in E.164 form."""
    code, national = _mobile_template(country)
    keep = max(2, len(national) - 6)
    for _ in range(60):
        candidate = national[:keep] + "".join(
            rng.choice(string.digits) for _ in range(len(national) - keep)
        )
        parsed = phonenumbers.PhoneNumber(country_code=code, national_number=int(candidate))
        if phonenumbers.is_valid_number(parsed):
            return f"+{code}{candidate}"
    return f"+{code}{national}"


def tracking_id(rng: random.Random) -> str:
    """A web analytics or ad-publisher id: ``UA-…-N``, ``G-…`` or ``ca-pub-…``."""
    kind = rng.random()
    if kind < 0.4:
        return f"UA-{rng.randrange(10_000_000, 199_999_999)}-{rng.randrange(1, 4)}"
    if kind < 0.75:
        return "G-" + "".join(rng.choice(_ALNUM_UPPER) for _ in range(10))
    return f"ca-pub-{rng.randrange(10**15, 10**16)}"


def sha256(rng: random.Random) -> str:
    """A random SHA-256 digest in lower-case hex."""
    return f"{rng.getrandbits(256):064x}"


def ipv4(rng: random.Random, prefix: str) -> str:
    """A host address inside a ``a.b`` /16 prefix."""
    return f"{prefix}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
