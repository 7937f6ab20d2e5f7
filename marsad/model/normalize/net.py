"""IP addresses and networks.

IPv4 is a plain dotted quad: octets with leading zeros are rejected, because tools read
them differently (octal or decimal). IPv6 is written in RFC 5952 form. A CIDR keeps its
prefix and has its host bits masked (``10.1.2.3/8`` becomes ``10.0.0.0/8``).
"""

from __future__ import annotations

import ipaddress

from marsad.model.errors import InvalidObservable


def normalize_ipv4(value: str) -> str:
    """Canonical dotted quad."""
    parts = value.split(".")
    if len(parts) != 4:
        raise InvalidObservable("ipv4", value, "an IPv4 address has four dot-separated octets")
    for part in parts:
        if not part.isdigit() or not part.isascii() or len(part) > 3:
            raise InvalidObservable("ipv4", value, f"octet {part!r} is not a number 0-255")
        if len(part) > 1 and part[0] == "0":
            raise InvalidObservable(
                "ipv4", value, f"octet {part!r} has a leading zero (ambiguous: octal or decimal)"
            )
        if int(part) > 255:
            raise InvalidObservable("ipv4", value, f"octet {part} is above 255")
    return value


def normalize_ipv6(value: str) -> str:
    """RFC 5952 compressed, lower case."""
    text = value.strip("[]")
    if "%" in text:
        raise InvalidObservable("ipv6", value, "zone ids (%…) are local to one host")
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError as exc:
        raise InvalidObservable("ipv6", value, str(exc)) from None


def normalize_cidr(value: str) -> str:
    """Network address and prefix, host bits masked."""
    address, sep, prefix = value.partition("/")
    if not sep or not prefix.isdigit():
        raise InvalidObservable("cidr", value, "a CIDR needs an address and a /prefix")
    if ":" in address:
        address = normalize_ipv6(address)
    else:
        try:
            address = normalize_ipv4(address)
        except InvalidObservable as exc:
            raise InvalidObservable("cidr", value, exc.reason) from None
    try:
        return str(ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False))
    except ValueError as exc:
        raise InvalidObservable("cidr", value, str(exc)) from None
