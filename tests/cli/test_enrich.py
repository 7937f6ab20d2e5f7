"""`marsad enrich …` and the enrichment shown by `marsad search`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

TSV = (
    "8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE\n"
    "1.1.1.0\t1.1.1.255\t13335\tUS\tCLOUDFLARENET\n"
    "bad line\n"
    "9.9.9.0\t9.9.9.255\tnope\tCH\tQUAD9\n"
)
RESOLVERS = "List of known IPv4 public DNS resolvers"


class Cli:
    def __init__(self, home: Path, cache: Path) -> None:
        self.env = {
            **os.environ,
            "MARSAD_HOME": str(home),
            "MARSAD_CACHE_DIR": str(cache),
            "COLUMNS": "200",
        }
        self.env.pop("MARSAD_DB", None)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "marsad", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-") else base
    m = Cli(tmp_path_factory.mktemp("home"), shared / "marsad-cache")
    m.run("init")
    return m


def test_search_shows_the_warninglist_flag_and_list_name(cli: Cli) -> None:
    shown = cli.run("search", "8.8.8.8").stdout
    assert f"{RESOLVERS} (cidr)" in " ".join(shown.split())
    data = cli.json("search", "8.8.8.8")
    (note,) = data["enrichment"]
    assert note["known_benign"] is True and note["country"] == "US"
    assert {"name": RESOLVERS, "type": "cidr", "matched": None} in note["warninglists"]
    assert data["assertions"] == []
    (note,) = cli.json("search", "evil-nothing-known-q7.com")["enrichment"]
    assert (
        note["known_benign"] is False and note["registered_domain"] == "evil-nothing-known-q7.com"
    )


def test_load_asn_then_show(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "ip2asn.tsv"
    source.write_text(TSV)
    done = cli.run("enrich", "load-asn", str(source))
    assert "2 AS ranges loaded" in done.stdout and "2 rejected" in done.stdout
    assert "line 3" in done.stdout and "line 4" in done.stdout
    data = cli.json("enrich", "show", "8.8.8.8", "hxxps://www.google[.]com/x", "1.1.1.1")
    ip, url, cloudflare = data["values"]
    assert (ip["asn"], ip["as_owner"], ip["country"]) == (15169, "GOOGLE", "US")
    assert url["type"] == "url" and url["registered_domain"] == "google.com" and url["known_benign"]
    assert cloudflare["asn"] == 13335
    assert "AS15169" in cli.run("search", "8.8.8.8").stdout


def test_bad_input_is_one_sentence_and_the_rest_is_shown(cli: Cli, tmp_path: Path) -> None:
    done = cli.run("enrich", "show", "8.8.8.8", "not a value", ok=False)
    assert done.returncode == 1 and "8.8.8.8" in done.stdout
    assert "not a value Marsad recognises" in done.stderr and "Traceback" not in done.stderr
    missing = cli.run("enrich", "load-asn", str(tmp_path / "missing.tsv"), ok=False)
    assert (
        missing.returncode == 1
        and "no such file" in missing.stderr
        and "Traceback" not in missing.stderr
    )


class _Stub(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Stub.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_rdap() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Stub.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_online_is_off_by_default_and_refuses_local_targets(cli: Cli, loopback_rdap: str) -> None:
    assert cli.json("enrich", "online", "status")["online"] is False
    off = cli.run("enrich", "rdap", "8.8.8.8", ok=False)
    assert off.returncode == 1 and "online enrichment is off" in off.stderr
    assert cli.json("enrich", "online", "enable", "--rdap-url", loopback_rdap)["online"] is True
    refused = cli.run("enrich", "rdap", "8.8.8.8", ok=False)
    assert refused.returncode == 1 and "loopback" in refused.stderr
    private = cli.run("enrich", "rdap", "10.0.0.1", ok=False)
    assert "10.0.0.1 is a private address" in private.stderr
    local = cli.run("enrich", "resolve", "localhost", ok=False)
    assert local.returncode == 1 and "refusing to resolve" in local.stderr
    assert _Stub.hits == []
    assert cli.json("enrich", "online", "disable")["online"] is False
