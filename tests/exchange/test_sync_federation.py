"""Two Marsad instances, each `marsad serve` in its own process on loopback, federated by
`marsad sync pull|push`: a regional hub (SQLite or PostgreSQL) and a national unit (SQLite).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from marsad.access import identity
from marsad.access.policy import Role
from marsad.exchange.taxii import TAXII_MEDIA
from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.handling import PAP, TLP, Handling, Releasability
from marsad.model.organisation import make_organisation
from marsad.model.records import ThreatType
from marsad.store.store import ExportFilter, Store
from tests.exchange.taxii_world import visible_ids

EVERYTHING = ExportFilter()


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(store: Store, home: Path) -> Iterator[str]:
    """`marsad serve` over the store's database in a separate process; its base URL."""
    port = _port()
    home.mkdir(exist_ok=True)
    env = {**os.environ, "MARSAD_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "marsad", "serve", "--db", _url(store), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=(home / "serve.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"marsad serve did not start: {(home / 'serve.log').read_text()}"
                )
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def sync(store: Store, home: Path, *args: str) -> dict[str, Any]:
    """`marsad sync …` as a user runs it, against the local instance; its JSON answer."""
    env = {**os.environ, "MARSAD_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "marsad", "sync", *args, "--db", _url(store), "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(orjson.loads(done.stdout))


def _add(store: Store, source: str, tlp: TLP, tokens: tuple[str, ...], values: list[str],
         pap: PAP = PAP.AMBER, reliability: str = "F") -> None:  # fmt: skip
    handling = Handling(tlp=tlp, pap=pap, reliability=reliability,
                        releasable_to=Releasability.from_tokens(list(tokens)))  # fmt: skip
    report = ingest(store, "".join(v + "\n" for v in values).encode(), source=source,
                    fmt="list", threat_type=ThreatType.PHISHING,
                    defaults=SubmissionDefaults(handling=handling))  # fmt: skip
    assert report.accepted == len(values), report


def _token(store: Store, user: str, org: str) -> str:
    identity.add_user(store, user, org, Role.ANALYST, None)
    return identity.create_token(store, user)[0]


def handled(store: Store, source: str) -> dict[str, tuple[Any, ...]]:
    """value -> (TLP, PAP, releasability, reliability) of a source's assertions."""
    return {
        a.view.observable.value: (
            a.view.handling.tlp, a.view.handling.pap,
            tuple(a.view.handling.releasable_to.tokens()), a.view.handling.reliability,
        )
        for a in store.iter_assertions(ExportFilter(sources=(source,)), _everything())
    }  # fmt: skip


def _everything() -> Any:
    from marsad.access.policy import EVERYTHING as GRANT

    return GRANT


def _revoked(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT o.value FROM assertions a JOIN observables o ON o.id = a.observable_id"
            " WHERE a.revoked_at IS NOT NULL"
        )
        return {r[0] for r in rows}


@pytest.fixture
def hub(store: Store) -> Store:
    """The regional hub: a partner's data at every TLP, and who may receive it."""
    for name, kind, country in (
        ("Pacific Hub", "hub", "SG"),
        ("Fiji CCU", "national-cyber-unit", "FJ"),
        ("Tonga CERT", "national-cyber-unit", "TO"),
        ("PhishGuard", "private-partner", "AU"),
    ):
        store.add_org(make_organisation(name, kind, country, "asia-south-pacific"))
    _add(store, "PhishGuard", TLP.GREEN, (), [f"green{i}.pg-feed.net" for i in range(3)])
    _add(
        store,
        "PhishGuard",
        TLP.AMBER,
        ("org:Fiji CCU",),
        ["amber1.pg-feed.net", "amber2.pg-feed.net"],
    )
    _add(store, "PhishGuard", TLP.RED, ("org:Fiji CCU",), ["red1.pg-feed.net", "red2.pg-feed.net"])
    _add(
        store,
        "PhishGuard",
        TLP.RED,
        ("org:Tonga CERT",),
        ["tonga1.pg-feed.net", "tonga2.pg-feed.net"],
    )
    _add(store, "PhishGuard", TLP.AMBER_STRICT, ("region:asia-south-pacific",),
         ["strict.pg-feed.net"], pap=PAP.GREEN, reliability="B")  # fmt: skip
    return store


@pytest.fixture
def national(second_store: Store) -> Store:
    """The national unit's own instance, where the hub is an organisation too."""
    second_store.add_org(
        make_organisation("Fiji CCU", "national-cyber-unit", "FJ", "asia-south-pacific")
    )
    second_store.add_org(make_organisation("Pacific Hub", "hub", "SG", "asia-south-pacific"))
    _add(
        second_store,
        "Fiji CCU",
        TLP.GREEN,
        (),
        ["fj-green1.scam-shop.org", "fj-green2.scam-shop.org"],
    )
    _add(second_store, "Fiji CCU", TLP.AMBER, (), ["fj-amber.scam-shop.org"])
    _add(second_store, "Fiji CCU", TLP.RED, ("org:Fiji CCU",), ["fj-red.scam-shop.org"])
    return second_store


def test_two_instances_pull_push_revoke_idempotently(
    hub: Store, national: Store, tmp_path: Path
) -> None:
    fiji_at_hub = _token(hub, "fiji-sync", "Fiji CCU")
    partner_at_hub = _token(hub, "pg-api", "PhishGuard")
    national_home = tmp_path / "national"
    with serve(hub, tmp_path / "hub") as hub_url, serve(national, national_home) as nat_url:
        remote = ["--remote", f"{hub_url}/taxii2/", "--token", fiji_at_hub]
        pull = [*remote, "--collection", "all", "--as-source", "Pacific Hub", "--limit", "3"]

        # 1. pull: exactly what the hub's policy releases to Fiji CCU, handling kept
        first = sync(national, national_home, "pull", *pull)
        expected = visible_ids(hub, "Fiji CCU")
        assert first["objects"] == len(expected) == 8 and first["pages"] == 3
        theirs = {v: h for v, h in handled(hub, "PhishGuard").items() if "tonga" not in v}
        assert handled(national, "Pacific Hub") == theirs
        assert theirs["strict.pg-feed.net"] == (TLP.AMBER_STRICT, PAP.GREEN,
                                                ("region:asia-south-pacific",), "B")  # fmt: skip
        assert first["bookmark_after"]

        # 2. again: nothing changes
        before = national.summary()
        again = sync(national, national_home, "pull", *pull)
        assert again["objects"] == 0 and again["submissions"] == []
        assert national.summary() == before

        # 3. the partner revokes one indicator at the hub; the next pull carries it over
        h = {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {partner_at_hub}"}
        base = f"{hub_url}/taxii2/api/collections/"
        colls = httpx.get(base, headers=h).json()["collections"]
        green = next(c["id"] for c in colls if c["alias"] == "green")
        inbox = next(c["id"] for c in colls if c["alias"] == "inbox")
        objects = httpx.get(f"{base}{green}/objects/", headers=h).json()["objects"]
        target = next(o for o in objects if "green0.pg-feed.net" in o["pattern"])
        posted = httpx.post(f"{base}{inbox}/objects/", content=orjson.dumps(
            {"objects": [{**target, "revoked": True}]}),
            headers={**h, "Content-Type": TAXII_MEDIA})  # fmt: skip
        assert posted.status_code == 202 and posted.json()["success_count"] == 1
        assert _revoked(hub) == {"green0.pg-feed.net"}
        third = sync(national, national_home, "pull", *pull)
        assert third["objects"] == 1 and third["revoked"] == 1
        assert _revoked(national) == {"green0.pg-feed.net"}
        assert sync(national, national_home, "pull", *pull)["objects"] == 0

        # ... and the national instance serves it as revoked in turn
        nat_token = _token(national, "fj-analyst", "Fiji CCU")
        nh = {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {nat_token}"}
        nbase = f"{nat_url}/taxii2/api/collections/"
        nall = next(c["id"] for c in httpx.get(nbase, headers=nh).json()["collections"]
                    if c["alias"] == "all")  # fmt: skip
        served = httpx.get(f"{nbase}{nall}/objects/", headers=nh).json()["objects"]
        revoked = [o for o in served if o.get("revoked")]
        assert len(revoked) == 1 and "green0.pg-feed.net" in revoked[0]["pattern"]

        # 4. push: what the hub may receive under the national policy, once
        push = [*remote, "--collection", "inbox", "--as", "Pacific Hub"]
        pushed = sync(national, national_home, "push", *push)
        assert (
            pushed["objects"] == 2 + 1
        )  # GREEN and AMBER (coordinators); not RED, not the hub's own
        at_hub = handled(hub, "Fiji CCU")
        mine = {v: x for v, x in handled(national, "Fiji CCU").items() if "red" not in v}
        assert at_hub == mine
        hub_before = hub.summary()
        assert sync(national, national_home, "push", *push)["objects"] == 0
        assert hub.summary() == hub_before
