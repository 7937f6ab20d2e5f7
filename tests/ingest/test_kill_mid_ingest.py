"""A process killed mid-ingest leaves no partial submission; ingesting again completes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from marsad.model.organisation import make_organisation
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

LINES = 200_000


def _state(db: Path) -> tuple[str | None, int]:
    engine = create_engine(sqlite_url(db))
    with engine.connect() as conn:
        status = conn.execute(text("select status from submissions")).scalar()
        n = conn.execute(text("select count(*) from assertions")).scalar_one()
    engine.dispose()
    return status, int(n)


def _running(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (the ingest and any parser it forked)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("parser", ["in-process", "child"])
def test_sigkill_at_a_random_moment_leaves_all_or_nothing(tmp_path: Path, parser: str) -> None:
    home = tmp_path / "home"
    db = home / "marsad.db"
    store = Store.open(sqlite_url(db), create=True)
    store.add_org(make_organisation("PhishGuard", "private-partner", "AU", None))
    store.close()
    big = tmp_path / "big.txt"
    big.write_text("".join(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n" for i in range(LINES)))
    env = {
        **os.environ,
        "MARSAD_HOME": str(home),
        "MARSAD_PARSE_PROCESS": "on" if parser == "child" else "off",
    }
    cmd = [sys.executable, "-m", "marsad", "ingest", str(big), "--source", "PhishGuard", "--json"]
    rng = random.Random()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the raw bytes are committed
        if db.exists() and _state(db)[0] == "pending":
            break
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10  # a forked parser dies with its parent
    while _running(str(big)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(str(big)) == []
    status, n = _state(db)
    assert (status, n) in {("pending", 0), ("ingested", LINES)}, (status, n)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _state(db) == ("ingested", LINES)
