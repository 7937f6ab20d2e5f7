"""Which targets an online look-up may touch: public addresses and public names only.

Online enrichment must never become a way to probe the instance's own network (SSRF):
private, loopback, link-local, multicast, reserved and otherwise non-global addresses
are refused, and so are the special-use names (RFC 6761 and friends) that resolve
locally.
"""

from __future__ import annotations

import ipaddress
from typing import Final

SPECIAL_SUFFIXES: Final = (
    "localhost",
    "local",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "home.arpa",
    "arpa",
    "test",
    "invalid",
    "example",
    "onion",
    "localdomain",
)


def address_refusal(text: str) -> str | None:
    """Why an IP address may not be looked up online (None: it may)."""
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return f"{text!r} is not an IP address"
    for flag, what in (
        (addr.is_loopback, "a loopback"),
        (addr.is_link_local, "a link-local"),
        (addr.is_multicast, "a multicast"),
        (addr.is_reserved, "a reserved"),
        (addr.is_unspecified, "an unspecified"),
        (addr.is_private, "a private"),
        (not addr.is_global, "a non-public"),
    ):
        if flag:
            return f"{addr} is {what} address"
    return None


def name_refusal(name: str) -> str | None:
    """Why a host name may not be looked up online (None: it may)."""
    host = name.strip().rstrip(".").lower()
    if not host:
        return "empty host name"
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return address_refusal(host)
    if "." not in host:
        return f"{host!r} is a single-label (local) name"
    for suffix in SPECIAL_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            return f"{host!r} is a special-use name (.{suffix})"
    return None
