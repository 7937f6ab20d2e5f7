"""Optional online enrichment: RDAP abuse contacts and DNS resolution.

Off by default; an instance switches it on (`marsad enrich online enable`). Every target
is checked first (`guard`): private, loopback, link-local, reserved and special-use
targets are refused, and so is an RDAP server (or a redirect) on such an address, so
that a look-up can never reach into the instance's own network. The HTTP client and the
DNS resolver can be injected, which is how the tests run without the internet.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, Protocol

import httpx
import msgspec

from marsad.enrich.guard import address_refusal, name_refusal
from marsad.enrich.loaders import Settings
from marsad.enrich.rdap import RdapRecord, read_rdap
from marsad.model.errors import InvalidObservable, MarsadError
from marsad.model.normalize import detect, normalize, refang
from marsad.model.observable import ObservableType

T = ObservableType
MAX_REDIRECTS = 3
Addresses = Callable[[str], list[str]]


class OnlineDisabled(MarsadError):
    """Online enrichment is off for this instance."""

    def __init__(self) -> None:
        super().__init__(
            "online enrichment is off for this instance; switch it on with `marsad enrich online enable`"
        )


class OnlineRefused(MarsadError):
    """A target (or a server) that online enrichment must not touch."""


class OnlineFailed(MarsadError):
    """The remote service did not give a usable answer."""


def system_addresses(host: str) -> list[str]:
    """The addresses the system resolver gives for ``host``."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError as exc:
        raise OnlineFailed(f"cannot resolve {host}: {exc}") from None


def _check_server(url: str, addresses: Addresses) -> None:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https"):
        raise OnlineRefused(f"RDAP server URL {url!r} is not http(s)")
    host = parsed.host
    why = name_refusal(host)
    if why is None:
        for addr in addresses(host):
            why = address_refusal(addr)
            if why:
                why = f"{host} resolves to {why.removeprefix(addr + ' is ')} ({addr})"
                break
    if why:
        raise OnlineRefused(f"refusing RDAP server {parsed.host}: {why}")


def _rdap_path(value: str) -> tuple[str, str]:
    obs = detect(value)
    if obs is not None and obs.type in (T.IPV4, T.IPV6):
        why = address_refusal(obs.value)
        kind = "ip"
    elif obs is not None and obs.type is T.CIDR:
        why = address_refusal(obs.value.partition("/")[0])
        kind = "ip"
    elif obs is not None and obs.type is T.DOMAIN:
        why = name_refusal(obs.value)
        kind = "domain"
    elif obs is not None and obs.type is T.ASN:
        return "autnum", obs.value.upper().removeprefix("AS")
    else:
        raise OnlineRefused(
            f"RDAP looks up IP addresses, networks, domains and AS numbers, not {value!r}"
        )
    if why:
        raise OnlineRefused(f"refusing to look up {obs.value}: {why}")
    return kind, obs.value


def rdap_lookup(
    value: str,
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    addresses: Addresses = system_addresses,
) -> RdapRecord:
    """The RDAP registration and abuse contacts for an IP, network, domain or ASN."""
    if not settings.online:
        raise OnlineDisabled()
    kind, query = _rdap_path(value)
    url = f"{settings.rdap_url.rstrip('/')}/{kind}/{query}"
    own = client is None
    http = client or httpx.Client(timeout=settings.timeout_s)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            _check_server(url, addresses)
            try:
                response = http.get(url, headers={"Accept": "application/rdap+json"})
            except httpx.HTTPError as exc:
                raise OnlineFailed(f"RDAP request to {url} failed: {exc}") from None
            if response.is_redirect and "location" in response.headers:
                url = str(response.url.join(response.headers["location"]))
                continue
            if response.status_code == 404:
                raise OnlineFailed(f"RDAP has no record for {query} ({url})")
            if response.status_code >= 400:
                raise OnlineFailed(f"RDAP server answered {response.status_code} for {url}")
            try:
                answer: Any = response.json()
            except ValueError:
                raise OnlineFailed(f"RDAP answer from {url} is not JSON") from None
            if not isinstance(answer, dict):
                raise OnlineFailed(f"RDAP answer from {url} is not a JSON object")
            return read_rdap(query, answer)
        raise OnlineFailed(f"RDAP: more than {MAX_REDIRECTS} redirects for {query}")
    finally:
        if own:
            http.close()


class Resolver(Protocol):
    """What `resolve` needs of a DNS resolver (dnspython's `Resolver` fits)."""

    def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any: ...


class Address(msgspec.Struct, frozen=True):
    """One resolved address, and whether it is public."""

    type: str
    address: str
    public: bool


class Resolution(msgspec.Struct, frozen=True):
    """A domain's A and AAAA records."""

    name: str
    addresses: tuple[Address, ...]


def resolve(domain: str, settings: Settings, *, resolver: Resolver | None = None) -> Resolution:
    """Resolve a public domain name to its addresses (private answers are marked)."""
    import dns.exception
    import dns.resolver

    if not settings.online:
        raise OnlineDisabled()
    why = name_refusal(refang(domain))
    if why:
        raise OnlineRefused(f"refusing to resolve {domain}: {why}")
    try:
        name = normalize(T.DOMAIN, domain)
    except InvalidObservable as exc:
        raise OnlineRefused(str(exc)) from None
    dns_resolver: Resolver = resolver or dns.resolver.Resolver()
    found: list[Address] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = dns_resolver.resolve(name, rdtype, lifetime=settings.timeout_s)
        except dns.resolver.NXDOMAIN:
            raise OnlineFailed(f"{name} does not exist (NXDOMAIN)") from None
        except (dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            continue
        except dns.exception.Timeout:
            raise OnlineFailed(f"DNS resolution of {name} timed out") from None
        for rdata in answer:
            addr = str(rdata.address)
            found.append(Address(rdtype, addr, address_refusal(addr) is None))
    return Resolution(name, tuple(found))
