"""A small world for the TAXII tests: four organisations, data at every TLP, and a TAXII
server (the real application under uvicorn) on a loopback port."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import uvicorn

from marsad.access import identity
from marsad.access.policy import Grant, Mark, Role, grant_for, may_see, tokens_of
from marsad.exchange.app import create_app
from marsad.exchange.taxii import TAXII_MEDIA
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import TLP, Handling, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.schema import assertions
from marsad.store.store import Store

ORGS = {
    "Fiji CCU": ("national-cyber-unit", "FJ"),
    "Tonga CERT": ("national-cyber-unit", "TO"),
    "ASP Desk": ("regional-desk", "SG"),
    "PhishGuard": ("private-partner", "AU"),
}
# (source, TLP, releasability tokens, how many values)
DATA = (
    ("Fiji CCU", TLP.CLEAR, (), 3),
    ("Fiji CCU", TLP.GREEN, (), 4),
    ("Fiji CCU", TLP.AMBER, (), 3),
    ("Fiji CCU", TLP.AMBER, ("org:Tonga CERT",), 3),
    ("Fiji CCU", TLP.AMBER_STRICT, ("region:asia-south-pacific",), 2),
    ("Fiji CCU", TLP.RED, ("org:ASP Desk",), 2),
    ("Fiji CCU", TLP.RED, (), 2),
    ("PhishGuard", TLP.GREEN, (), 3),
    ("PhishGuard", TLP.RED, ("org:PhishGuard",), 2),
)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` for taxii2-client (which speaks through requests)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def slug(org: str) -> str:
    return org.lower().replace(" ", "-")


def build(store: Store) -> dict[str, str]:
    """Register the organisations and their data; one analyst token per organisation."""
    for name, (kind, country) in ORGS.items():
        store.add_org(make_organisation(name, kind, country, "asia-south-pacific"))
    for n, (source, tlp, tokens, count) in enumerate(DATA):
        values = "".join(f"{tlp.value.replace('+', '-')}-{n}-{i}.{slug(source)}-example.net\n"
                         for i in range(count))  # fmt: skip
        handling = Handling(tlp=tlp, releasable_to=Releasability.from_tokens(list(tokens)))
        report = ingest(store, values.encode(), source=source, fmt="list",
                        threat_type=ThreatType.PHISHING,
                        defaults=SubmissionDefaults(handling=handling))  # fmt: skip
        assert report.status == "ingested" and report.accepted == count, report
    secrets = {}
    for name in ORGS:
        identity.add_user(store, f"{slug(name)}-analyst", name, Role.ANALYST, None)
        secrets[name] = identity.create_token(store, f"{slug(name)}-analyst")[0]
    return secrets


def grant(store: Store, org: str) -> Grant:
    return grant_for(store.viewer(org), dt.date.today())


def visible_ids(store: Store, org: str, tlp: TLP | None = None) -> set[int]:
    """What the policy's Python predicate lets ``org`` see (independent of the SQL path)."""
    g = grant(store, org)
    with store.engine.connect() as conn:
        rows = conn.execute(assertions.select()).all()
    return {
        r.id
        for r in rows
        if (tlp is None or r.tlp == tlp.rank)
        and may_see(
            g,
            Mark(
                owner_org_id=r.owner_org_id,
                source_org_id=r.source_org_id,
                tlp=r.tlp,
                pap=r.pap,
                releasable_to=tokens_of(r.releasable_to),
                retain_until=r.retain_until,
            ),
        )
    }


@contextmanager
def serving(store: Store) -> Iterator[str]:
    """The application over ``store`` under uvicorn on a free loopback port; its base URL."""
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=0, log_level="warning",
                            access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def headers(token: str) -> dict[str, str]:
    return {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {token}"}
