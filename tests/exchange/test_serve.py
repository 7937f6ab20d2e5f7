"""`marsad serve` end to end: a real server process, a token from the CLI, real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_cli import Marsad


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_with_a_token_from_the_cli(tmp_path: Path) -> None:
    m = Marsad(tmp_path)
    m.run("init")
    m.run("org", "add", "Fiji CCU", "--kind", "national-cyber-unit", "--country", "FJ")
    m.run("user", "add", "ana", "--org", "Fiji CCU", "--role", "analyst")
    token = m.json("token", "create", "ana")["token"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "marsad", "serve", "--port", str(port), "--max-upload-mb", "1"],
        env=m.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/api/v1/me", headers=auth).json()["organisation"] == "Fiji CCU"
        sent = httpx.post(f"{base}/api/v1/submissions?tlp=green", content=b"192.0.2.44\n",
                          headers=auth)  # fmt: skip
        assert sent.status_code == 201 and sent.json()["accepted"] == 1
        big = httpx.post(f"{base}/api/v1/submissions", content=b"1" * (1024 * 1024 + 1),
                         headers=auth)  # fmt: skip
        assert big.status_code == 413
        assert big.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=20)
    assert f"{base}/api/v1" in stderr.decode()
    audited = m.json("audit", "list", "--actor", "ana")
    assert {"submit"} <= {e["action"] for e in audited}
