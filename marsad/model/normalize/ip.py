"""IP addresses and networks.

IPv4 is a plain dotted quad of decimal octets; an octet with a leading zero (``01.2.3.4``)
is rejected, because tools disagree on reading it as octal or decimal. IPv6 is written in
RFC 5952 form as the `ipaddress` module prints it (lower case, longest zero run
compressed; IPv4-mapped addresses in hex groups, ``::ffff:102:304``); zone ids are
rejected and surrounding brackets dropped. A CIDR keeps its prefix and has its host bits
masked (``10.1.2.3/8`` becomes ``10.0.0.0/8``); a /32 or /128 stays a CIDR.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from marsad.model.errors import InvalidObservable

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4: Final = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}\Z")


def _ipv4_reason(text: str) -> str:
    parts = text.split(".")
    if len(parts) != 4:
        return "an IPv4 address has four dot-separated octets"
    for part in parts:
        if not part.isascii() or not part.isdigit() or len(part) > 3:
            return f"octet {part!r} is not a number 0-255"
        if len(part) > 1 and part[0] == "0":
            return f"octet {part!r} has a leading zero (ambiguous: octal or decimal)"
        if int(part) > 255:
            return f"octet {part} is above 255"
    return "not a dotted quad"  # pragma: no cover - the regex and the loop agree


def is_ipv4(text: str) -> bool:
    """Whether ``text`` is already a canonical dotted quad."""
    return _IPV4.match(text) is not None


def normalize_ipv4(text: str) -> str:
    """Canonical dotted quad (the input itself: there is one spelling once it is valid)."""
    if _IPV4.match(text) is not None:
        return text
    raise InvalidObservable("ipv4", text, _ipv4_reason(text))


def normalize_ipv6(text: str) -> str:
    """RFC 5952: compressed, lower case, no brackets, no zone id."""
    if text[:1] == "[" and text[-1:] == "]":
        text = text[1:-1]
    if "%" in text:
        raise InvalidObservable("ipv6", text, "zone ids (%…) are local to one host")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError as exc:
        raise InvalidObservable("ipv6", text, str(exc)) from None


def normalize_cidr(text: str) -> str:
    """Network address and prefix, host bits masked."""
    address, sep, prefix = text.partition("/")
    if not sep or not prefix.isascii() or not prefix.isdigit():
        raise InvalidObservable("cidr", text, "a CIDR needs an address and a /prefix")
    bits = 128 if ":" in address else 32
    if int(prefix) > bits:
        raise InvalidObservable("cidr", text, f"prefix /{int(prefix)} is longer than {bits} bits")
    try:
        if bits == 32:  # feeds send thousands of these: mask the dotted quad as an integer
            a, b, c, d = map(int, normalize_ipv4(address).split("."))
            n = (a << 24 | b << 16 | c << 8 | d) & (0xFFFFFFFF << (32 - int(prefix)))
            return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}/{int(prefix)}"
        address = normalize_ipv6(address)
        return str(ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False))
    except InvalidObservable as exc:
        raise InvalidObservable("cidr", text, exc.reason) from None
    except ValueError as exc:
        raise InvalidObservable("cidr", text, str(exc)) from None
