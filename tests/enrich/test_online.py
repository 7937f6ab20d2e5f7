"""Online look-ups: off by default, never towards private targets or servers, no internet.

The refusal of a local server is tested against a real HTTP server on the loopback
interface, which must receive nothing; the success paths go through httpx's own
MockTransport and a resolver that returns real dnspython records.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import httpx
import pytest

from marsad.enrich.guard import address_refusal, name_refusal
from marsad.enrich.loaders import Settings
from marsad.enrich.online import (
    OnlineDisabled,
    OnlineFailed,
    OnlineRefused,
    rdap_lookup,
    resolve,
)

ON = Settings(online=True, rdap_url="https://rdap.example.net", timeout_s=2.0)
PUBLIC = ["192.41.162.30"]  # what the injected resolver says rdap.example.net is

# An RDAP ip-network answer shaped like RFC 9083 §5.4, with a nested abuse entity.
RDAP_IP = {
    "rdapConformance": ["rdap_level_0"],
    "objectClassName": "ip network",
    "handle": "NET-8-8-8-0-2",
    "startAddress": "8.8.8.0",
    "endAddress": "8.8.8.255",
    "ipVersion": "v4",
    "name": "GOGL",
    "country": "US",
    "entities": [
        {
            "objectClassName": "entity",
            "handle": "GOGL",
            "roles": ["registrant"],
            "entities": [
                {
                    "objectClassName": "entity",
                    "handle": "ABUSE5250-ARIN",
                    "roles": ["abuse"],
                    "vcardArray": [
                        "vcard",
                        [
                            ["version", {}, "text", "4.0"],
                            ["fn", {}, "text", "Abuse"],
                            ["email", {}, "text", "network-abuse@google.com"],
                            ["tel", {"type": ["work", "voice"]}, "text", "+1-650-253-0000"],
                        ],
                    ],
                }
            ],
        }
    ],
}


class _Stub(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Stub.hits.append(self.path)
        body = b'{"objectClassName": "ip network"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Stub.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("240.0.0.1", "reserved"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
    ],
)
def test_non_public_addresses_are_refused(target: str, why: str) -> None:
    reason = address_refusal(target)
    assert reason is not None and why in reason
    with pytest.raises(OnlineRefused, match=why):
        rdap_lookup(target, ON, addresses=lambda host: PUBLIC)


@pytest.mark.parametrize(
    "name", ["localhost", "printer.local", "db.internal", "router.home.arpa", "intranet"]
)
def test_special_use_names_are_refused(name: str) -> None:
    assert name_refusal(name) is not None
    assert name_refusal("example.com") is None and address_refusal("8.8.8.8") is None


def test_off_by_default() -> None:
    with pytest.raises(OnlineDisabled, match="marsad enrich online enable"):
        rdap_lookup("8.8.8.8", Settings())
    with pytest.raises(OnlineDisabled):
        resolve("example.com", Settings())


def test_a_server_on_the_loopback_is_never_contacted(loopback_server: str) -> None:
    local = Settings(online=True, rdap_url=loopback_server)
    with pytest.raises(OnlineRefused, match="loopback"):
        rdap_lookup("8.8.8.8", local)
    named = Settings(online=True, rdap_url=loopback_server.replace("127.0.0.1", "rdap.example.net"))
    with pytest.raises(OnlineRefused, match=r"resolves to a loopback address \(127\.0\.0\.1\)"):
        rdap_lookup("8.8.8.8", named, addresses=lambda host: ["127.0.0.1"])
    assert _Stub.hits == []
    # the stub does answer: the refusals above are the guard's doing, not a dead server
    assert httpx.get(f"{loopback_server}/ip/8.8.8.8").status_code == 200
    assert _Stub.hits == ["/ip/8.8.8.8"]


def test_rdap_abuse_contacts() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/ip/8.8.8.8":
            return httpx.Response(
                302, headers={"Location": "https://rdap.arin.net/registry/ip/8.8.8.8"}
            )
        return httpx.Response(200, json=RDAP_IP)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        record = rdap_lookup("8.8.8.8", ON, client=client, addresses=lambda host: PUBLIC)
    assert seen == [
        "https://rdap.example.net/ip/8.8.8.8",
        "https://rdap.arin.net/registry/ip/8.8.8.8",
    ]
    assert (record.handle, record.name, record.country) == ("NET-8-8-8-0-2", "GOGL", "US")
    (abuse,) = record.abuse
    assert (abuse.handle, abuse.emails, abuse.phones) == (
        "ABUSE5250-ARIN",
        ("network-abuse@google.com",),
        ("+1-650-253-0000",),
    )


def test_a_redirect_into_the_private_network_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://10.0.0.5/ip/8.8.8.8"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(OnlineRefused, match=r"10\.0\.0\.5"),
    ):
        rdap_lookup("8.8.8.8", ON, client=client, addresses=lambda host: PUBLIC)


def test_rdap_errors_are_one_sentence() -> None:
    not_found = httpx.MockTransport(lambda r: httpx.Response(404))
    with (
        httpx.Client(transport=not_found) as client,
        pytest.raises(OnlineFailed, match=r"no record for example\.com"),
    ):
        rdap_lookup("example.com", ON, client=client, addresses=lambda host: PUBLIC)
    with pytest.raises(OnlineRefused, match="not 'a1b2'"):
        rdap_lookup("a1b2", ON)


class FakeResolver:
    """Answers from a table with real dnspython records, like `dns.resolver.Resolver`."""

    def __init__(self, zone: dict[str, dict[str, list[str]]]) -> None:
        self.zone = zone
        self.asked: list[tuple[str, str]] = []

    def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
        self.asked.append((qname, rdtype))
        if qname not in self.zone:
            raise dns.resolver.NXDOMAIN
        texts = self.zone[qname].get(rdtype)
        if not texts:
            raise dns.resolver.NoAnswer
        kind = dns.rdatatype.from_text(rdtype)
        return [dns.rdata.from_text(dns.rdataclass.IN, kind, t) for t in texts]


def test_resolve_marks_private_answers() -> None:
    fake = FakeResolver(
        {
            "www.example.com": {
                "A": ["93.184.215.14", "10.9.8.7"],
                "AAAA": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
            }
        }
    )
    got = resolve("WWW.Example.com", ON, resolver=fake)
    assert got.name == "www.example.com"
    assert [(a.type, a.address, a.public) for a in got.addresses] == [
        ("A", "93.184.215.14", True),
        ("A", "10.9.8.7", False),
        ("AAAA", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ]
    with pytest.raises(OnlineFailed, match="NXDOMAIN"):
        resolve("missing.example.com", ON, resolver=fake)


def test_resolving_local_names_is_refused_before_asking() -> None:
    fake = FakeResolver({})
    for name in ("localhost", "nas.local", "wpad.internal"):
        with pytest.raises(OnlineRefused):
            resolve(name, ON, resolver=fake)
    assert fake.asked == []
