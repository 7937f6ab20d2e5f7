"""A small world for the web pages: three organisations, users with passwords, marked data.

PhishGuard (a partner) submits a TLP:RED value released to nobody else; Fiji CCU submits a
TLP:GREEN list whose hosts resolve to an address (a relationship, so a cluster forms);
ASP Desk's analyst also belongs to Fiji CCU (the organisation switcher).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from marsad.access import identity
from marsad.access.policy import EVERYTHING, Role
from marsad.analysis.clusters import save as save_clusters
from marsad.analysis.infrastructure import clusters_of, load_graph
from marsad.exchange.app import create_app
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.records import ThreatType
from marsad.store import kept
from marsad.store.store import Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
PG, FIJI, DESK = "PhishGuard", "Fiji CCU", "ASP Desk"
RED_VALUE = "secret-red-mkw.example.org"
STRICT_VALUE = "fiji-only-case.example.com"
GREEN_HOST = "green-shop.example.net"
STIX = b"""{"type": "bundle", "id": "bundle--6f1c8a52-47a3-4bd0-9f3e-3f4f2b0c9d11", "objects": [
 {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--0d3c8b5c-1c7e-5a53-9d1e-2f6f1f0a1b01",
  "value": "green-shop.example.net", "resolves_to_refs": ["ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1b02"]},
 {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1b02",
  "value": "203.0.113.77"},
 {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--7d3c8b5c-1c7e-5a53-9d1e-2f6f1f0a1b03",
  "value": "green-shop2.example.net", "resolves_to_refs": ["ipv4-addr--5a0d8b5c-1c7e-5a53-9d1e-2f6f1f0a1b02"]}
]}"""


@dataclass
class WebWorld:
    """The store, the application and the ids of what was planted."""

    store: Store
    app: Any
    red_submission: int
    red_assertion: int


def _submit(store: Store, raw: bytes, source: str, tlp: TLP, tokens: list[str],
            threat: ThreatType, name: str, fmt: str = "auto") -> int:  # fmt: skip
    handling = Handling(tlp=tlp, releasable_to=Releasability.from_tokens(tokens))
    report = ingest(store, raw, source=source, fmt=fmt, filename=name, threat_type=threat,
                    defaults=SubmissionDefaults(handling=handling, tlp_floor=tlp))  # fmt: skip
    assert report.accepted > 0, report
    return report.submission_id


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """No clusters or ranking kept for an earlier test's store may be served to this one."""
    kept.forget_all()
    yield
    kept.forget_all()


@pytest.fixture
def web_world(orgs: Store) -> WebWorld:
    """Users in every role that matters, a RED record of PhishGuard's, a GREEN cluster of Fiji's."""
    return plant(orgs)


def plant(store: Store) -> WebWorld:
    """Plant the users and records of the web tests into a store with the three organisations."""
    identity.add_user(store, "pg.user", PG, Role.PARTNER_SUBMITTER, PASSWORD)
    identity.add_user(store, "fiji.officer", FIJI, Role.OFFICER, PASSWORD)
    identity.add_user(store, "desk.analyst", DESK, Role.ANALYST, PASSWORD)
    identity.add_membership(store, "desk.analyst", FIJI, Role.READ_ONLY)
    identity.add_user(store, "hub.admin", DESK, Role.ADMINISTRATOR, PASSWORD)
    identity.add_user(store, "fiji.auditor", FIJI, Role.AUDITOR, PASSWORD)
    red = _submit(store, f"{RED_VALUE}\n".encode(), PG, TLP.RED, [f"org:{PG}"],
                  ThreatType.PHISHING, "red-list.txt", "list")  # fmt: skip
    _submit(store, STIX, FIJI, TLP.GREEN, [], ThreatType.PHISHING, "shops.json", "stix21")
    _submit(store, f"{STRICT_VALUE}\n".encode(), FIJI, TLP.AMBER_STRICT, [f"org:{FIJI}"],
            ThreatType.C2, "case-list.txt", "list")  # fmt: skip
    graph = load_graph(store, EVERYTHING)
    save_clusters(store, graph, clusters_of(graph))
    red_id = store.assertions_about(
        [__import__("marsad.model.normalize", fromlist=["detect"]).detect(RED_VALUE)], EVERYTHING
    )[0].id
    return WebWorld(store=store, app=create_app(store), red_submission=red, red_assertion=red_id)


class Browser:
    """A TestClient over HTTPS (the cookies are Secure) that signs in like a person."""

    def __init__(self, world: WebWorld) -> None:
        self.client = TestClient(world.app, base_url="https://testserver",
                                 raise_server_exceptions=True)  # fmt: skip
        self.client.__enter__()

    def csrf(self, path: str = "/") -> str:
        """The CSRF token of the current page's forms."""
        body = self.client.get(path).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', body)
        assert found, body[:500]
        return found.group(1)

    def sign_in(self, user: str, password: str = PASSWORD) -> Any:
        token = self.csrf("/login")
        return self.client.post("/login", data={"username": user, "password": password,
                                                "csrf_token": token, "next": "/"},
                                follow_redirects=False)  # fmt: skip

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def browser(web_world: WebWorld) -> Iterator[Browser]:
    b = Browser(web_world)
    yield b
    b.close()
