"""A submission parsed in a child process ends in the store exactly as one parsed here.

The child (`marsad.ingest.parse_process`) is forced on for small inputs; chunks of three
records make keys merge again after their rows were written. Each case compares what a
source ends up with against the same submission ingested in process by another source,
on both engines; then the ways a child can fail: a submission no format reads, a child
killed or crashing half way, and the writer failing while the child still parses.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from marsad.ingest import parse_process
from marsad.ingest.batch import BatchBuilder
from marsad.ingest.parse_process import ParseProcessError
from marsad.ingest.pipeline import ingest
from marsad.store import writer
from marsad.store.engine import CHECKPOINT_THREAD
from marsad.store.schema import assertions, observables
from marsad.store.store import Store
from tests.conftest import NOW
from tests.ingest.test_stream import _bundle, _count, _state

DATA = Path(__file__).parent.parent / "data"
FIXTURES = [
    DATA / "misp" / "pymisp" / "mainly_objects_1.json",
    DATA / "misp" / "misp-stix" / "test_objects_collection_1.json",
    DATA / "threatfox" / "export_recent.csv",
    DATA / "freetext" / "report.txt",
]


def _no_parser_left() -> None:
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name == "marsad-parse-reader"]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_bundle_parsed_in_a_child_ends_as_one_parsed_here(
    orgs: Store, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    earlier, this = _bundle(seed), _bundle(seed + 100)
    for source in ("PhishGuard", "Fiji CCU"):  # both already hold some of the values
        assert ingest(orgs, earlier, source=source, strict=True, now=NOW).status == "ingested"
    monkeypatch.setattr(writer, "STREAM_CHUNK", 3)  # read by the child too: many chunks
    seen: list[tuple[str, int]] = []
    child = ingest(
        orgs,
        this,
        source="PhishGuard",
        now=NOW,
        parse_in_child=True,
        progress=lambda phase, n: seen.append((phase, n)),
    )
    here = ingest(orgs, this, source="Fiji CCU", now=NOW, parse_in_child=False)
    assert child.status == here.status == "ingested"
    assert child.format == here.format == "stix21"
    for field in ("records", "accepted", "merged", "rejected", "consumed"):
        assert getattr(child, field) == getattr(here, field), field
    assert _state(orgs, "PhishGuard") == _state(orgs, "Fiji CCU")
    parsed = [n for phase, n in seen if phase == "parse"]
    assert len(parsed) > 5 and parsed == sorted(parsed) and parsed[-1] <= child.records
    assert seen[-1] == ("store", child.records)
    _no_parser_left()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_format_parsed_in_a_child_ends_the_same(orgs: Store, path: Path) -> None:
    raw = path.read_bytes()
    child = ingest(orgs, raw, source="PhishGuard", now=NOW, parse_in_child=True)
    here = ingest(orgs, raw, source="Fiji CCU", now=NOW, parse_in_child=False)
    assert child.status == here.status == "ingested"
    assert (child.format, child.accepted, child.rejected) == (
        here.format,
        here.accepted,
        here.rejected,
    )
    assert child.accepted > 0
    assert [(r.location, r.reason) for r in child.rejections] == [
        (r.location, r.reason) for r in here.rejections
    ]
    assert _state(orgs, "PhishGuard") == _state(orgs, "Fiji CCU")


def test_a_submission_no_format_reads_is_rejected_with_the_same_reason(orgs: Store) -> None:
    broken = b'{"type": "bundle", "id": "bundle--1", "objects": [{"type": "indicator", '
    child = ingest(orgs, broken, source="PhishGuard", now=NOW, parse_in_child=True)
    here = ingest(orgs, broken, source="Fiji CCU", now=NOW, parse_in_child=False)
    assert child.status == here.status == "rejected"
    assert child.error == here.error and child.error
    [sub] = [s for s in orgs.list_submissions() if s.source == "PhishGuard"]
    assert (sub.status, sub.error) == ("rejected", child.error)
    _no_parser_left()


def _kill_self_on_second_take(monkeypatch: pytest.MonkeyPatch) -> None:
    real = BatchBuilder.take
    calls = [0]

    def take(self: BatchBuilder) -> object:  # runs in the child, which fork inherits
        calls[0] += 1
        if calls[0] == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self)

    monkeypatch.setattr(BatchBuilder, "take", take)


def test_a_child_killed_half_way_leaves_nothing_and_says_so(
    orgs: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _bundle(7)
    monkeypatch.setattr(writer, "STREAM_CHUNK", 3)
    _kill_self_on_second_take(monkeypatch)
    with pytest.raises(ParseProcessError, match=r"killed by SIGKILL.*nothing was stored"):
        ingest(orgs, raw, source="PhishGuard", now=NOW, parse_in_child=True)
    assert _count(orgs, assertions) == 0
    assert _count(orgs, observables) == 0
    [sub] = orgs.list_submissions()
    assert sub.status == "pending"  # the raw bytes kept: the next attempt completes it
    _no_parser_left()
    monkeypatch.undo()
    report = ingest(orgs, raw, source="PhishGuard", now=NOW, parse_in_child=True)
    assert report.status == "ingested" and report.submission_id == sub.id


def test_a_child_that_fails_names_the_failure(orgs: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def take(self: BatchBuilder) -> object:
        raise RuntimeError("a bug in a format")

    monkeypatch.setattr(BatchBuilder, "take", take)
    with pytest.raises(
        ParseProcessError,
        match=r"^the parser process failed \(RuntimeError: a bug in a format\); nothing was stored$",
    ):
        ingest(orgs, _bundle(8), source="PhishGuard", now=NOW, parse_in_child=True)
    assert _count(orgs, assertions) == 0
    _no_parser_left()


def test_a_failing_writer_stops_the_child(orgs: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_merge = writer.StreamWriter._merge

    def merge(self: writer.StreamWriter, n: int, presorted: bool = False) -> None:
        calls.append(n)
        if len(calls) == 2:  # the child has many chunks still to send
            raise RuntimeError("disk full")
        real_merge(self, n, presorted)

    monkeypatch.setattr(writer, "STREAM_CHUNK", 1)
    monkeypatch.setattr(writer.StreamWriter, "_merge", merge)
    big = b"".join(b"10.1.%d.%d\n" % (i >> 8, i & 255) for i in range(20_000))
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(orgs, big, source="PhishGuard", now=NOW, parse_in_child=True)
    _no_parser_left()
    assert _count(orgs, assertions) == 0
    monkeypatch.setattr(writer.StreamWriter, "_merge", real_merge)
    monkeypatch.setattr(writer, "STREAM_CHUNK", 4096)
    report = ingest(orgs, big, source="PhishGuard", now=NOW, parse_in_child=True)
    assert (report.status, report.accepted) == ("ingested", 20_000)


def test_when_a_child_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    big = parse_process.FROM_BYTES
    this = threading.current_thread()
    threads = [this]
    monkeypatch.setattr(parse_process.threading, "enumerate", lambda: list(threads))
    monkeypatch.delenv(parse_process.SETTING, raising=False)
    assert parse_process.wanted(big - 1) is False
    assert parse_process.wanted(big) is True
    assert parse_process.wanted(10, True) and not parse_process.wanted(big, False)
    # the checkpoint a commit leaves running does not stop a fork; any other thread does
    threads.append(threading.Thread(name=CHECKPOINT_THREAD))
    assert parse_process.wanted(big) is True
    threads.append(threading.Thread(name="uvicorn-worker"))
    assert parse_process.wanted(big) is False
    monkeypatch.setenv(parse_process.SETTING, "on")
    assert parse_process.wanted(10) is True
    threads[:] = [this]
    monkeypatch.setenv(parse_process.SETTING, "off")
    assert parse_process.wanted(big) is False


HANGING_CHILD = """
import sys, time
from marsad.ingest.batch import BatchBuilder
from marsad.ingest.pipeline import ingest
from marsad.model.organisation import make_organisation
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

store = Store.open(sqlite_url(sys.argv[1]), create=True)
store.add_org(make_organisation("PhishGuard", "private-partner", "AU", None))
BatchBuilder.take = lambda self: time.sleep(600)  # the child hangs; this process waits
ingest(store, b"203.0.113.7\\n", source="PhishGuard", parse_in_child=True)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:  # a zombie waiting for whoever reaps orphans here is dead all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HANGING_CHILD, str(tmp_path / "m.db")])
    try:
        deadline = time.monotonic() + 60
        while not (children := _children(proc.pid)) and time.monotonic() < deadline:
            assert proc.poll() is None, "the ingest ended before it forked its parser"
            time.sleep(0.05)
        [child] = children
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5  # it would hang for 600 s if it outlived its parent
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        proc.kill()
        proc.wait()
