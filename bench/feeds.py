"""Public-feed benchmark: the same feed files through Marsad and through IntelMQ's parser bots.

For each feed (URLhaus CSV, Feodo Tracker JSON, PhishTank JSON, Spamhaus DROP, OpenPhish,
Shadowserver scan_telnet CSV) a file of N rows is grown from the real IntelMQ fixture rows
(bench/feedgen.py) into a temp dir.
Marsad is timed twice: parse + normalise (the format module to records) and end to end
(``marsad.ingest.pipeline.ingest`` into a fresh SQLite file). In the same run IntelMQ's
own parser bot for that feed runs in library mode, in IntelMQ's separate environment, as a
subprocess (bench/intelmq_feeds.py) that reports its timings as JSON. Throughput is feed
rows per second on both sides, so the ratio is the ratio of times on identical bytes. Both
sides run their timed part with the cyclic GC paused, as Marsad's pipeline does itself.

Usage: make bench-feeds, or
  python bench/feeds.py [--rows 200000] [--feeds urlhaus,feodo] [--intelmq-python PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import feedgen  # bench/feedgen.py: the script's own directory is first on sys.path

from marsad.formats.gcpause import gc_paused
from marsad.formats.registry import get_format
from marsad.ingest.pipeline import ingest
from marsad.model.errors import FormatError
from marsad.model.organisation import make_organisation
from marsad.model.records import ParseMeta
from marsad.store.engine import sqlite_url
from marsad.store.store import Store

BENCH = Path(__file__).resolve().parent
INTELMQ_PYTHON = BENCH / ".venv-intelmq" / "bin" / "python"


class Feed(NamedTuple):
    """One feed: Marsad's format name and the IntelMQ parser bot that feeds.yaml configures."""

    name: str
    marsad_format: str
    intelmq_module: str
    feed_url: str
    parameters: dict[str, Any]
    note: str = ""  # why the two sides' output counts differ, where they do
    filename: str | None = None  # the name a partner's upload would carry (Marsad reads it)


# Bots and parameters as IntelMQ's own etc/feeds.yaml configures each feed.
FEEDS = (
    Feed(
        "urlhaus",
        "urlhaus",
        "intelmq.bots.parsers.generic.parser_csv",
        "https://urlhaus.abuse.ch/feeds/tld/ch/",
        {
            "skip_header": False,
            "default_url_protocol": "http://",
            "type_translation": {"malware_download": "malware-distribution"},
            "delimiter": ",",
            "columns": [
                "time.source",
                "source.url",
                "status",
                "classification.type|__IGNORE__",
                "source.fqdn|__IGNORE__",
                "source.ip",
                "source.asn",
                "source.geolocation.cc",
            ],
        },
    ),
    Feed(
        "feodo",
        "feodo",
        "intelmq.bots.parsers.abusech.parser_feodotracker",
        "https://feodotracker.abuse.ch/downloads/ipblocklist.json",
        {},
    ),
    Feed(
        "phishtank",
        "phishtank",
        "intelmq.bots.parsers.phishtank.parser",
        "https://data.phishtank.com/data/online-valid.json",
        {},
        "Marsad asserts the URL and every hosting IP of details[] (with a hosted-on edge);"
        " IntelMQ makes one event per entry and puts only details[0]'s IP on it",
    ),
    Feed(
        "spamhaus",
        "spamhaus",
        "intelmq.bots.parsers.spamhaus.parser_drop",
        "https://www.spamhaus.org/drop/drop.txt",
        {},
    ),
    Feed(
        "openphish",
        "openphish",
        "intelmq.bots.parsers.openphish.parser",
        "https://www.openphish.com/feed.txt",
        {},
    ),
    # IntelMQ downloads Shadowserver's report schema at run time; offline, the only one it
    # has is the test schema it ships, whose Test-Accessible-Telnet report maps exactly the
    # scan_telnet columns (the fixture's header) as the real Accessible-Telnet one does.
    Feed(
        "shadowserver",
        "shadowserver",
        "intelmq.bots.parsers.shadowserver.parser",
        "https://interchange.shadowserver.org/",
        {"feedname": "Test-Accessible-Telnet", "test_mode": True},
        filename="2022-11-01-scan_telnet-asn.csv",
    ),
)


class Timing(NamedTuple):
    """Wall-clock and CPU seconds of one timed step (CPU time shrugs off other load)."""

    wall: float
    cpu: float


class Result(NamedTuple):
    """One feed's figures."""

    feed: Feed
    rows: int
    size: int
    parse: Timing
    records: Counter[str]
    e2e: Timing
    stored: int
    rejected: int
    intelmq: dict[str, Any] | None
    load: str


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _clock() -> Timing:
    return Timing(time.perf_counter(), time.process_time())


def _since(start: Timing) -> Timing:
    return Timing(time.perf_counter() - start.wall, time.process_time() - start.cpu)


def marsad_parse(feed: Feed, raw: bytes, repeat: int) -> tuple[Timing, Counter[str]]:
    """The format module alone (bytes to records), best of ``repeat``; the records by kind."""
    fmt = get_format(feed.marsad_format)
    best, kinds = None, Counter[str]()
    for _ in range(repeat):
        gc.collect()
        start = _clock()
        with gc_paused():  # as the ingest pipeline runs it (build_batch); IntelMQ's side too
            records = list(fmt.parse(raw, ParseMeta(filename=feed.filename)))
        took = _since(start)
        best = took if best is None or took.wall < best.wall else best
        kinds = Counter(type(r).__name__ for r in records)
        del records
    assert best is not None
    return best, kinds


def marsad_e2e(raw: bytes, feed: Feed, directory: Path, repeat: int) -> tuple[Timing, int, int]:
    """The whole ingest into a fresh SQLite store, best of ``repeat``; assertions stored, rejected."""
    best, stored, rejected = None, 0, 0
    for attempt in range(repeat):
        path = directory / f"{feed.name}-{attempt}.db"
        store = Store.open(sqlite_url(path), create=True)
        store.add_org(make_organisation("Bench Partner", "private-partner", "AU", None))
        gc.collect()
        start = _clock()
        report = ingest(
            store,
            raw,
            source="Bench Partner",
            fmt=feed.marsad_format,
            filename=feed.filename,
            now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            analyse=False,  # the ingest alone, as IntelMQ's parser does no clustering
        )
        took = _since(start)
        store.close()
        for leftover in directory.glob(f"{path.name}*"):
            leftover.unlink()
        assert report.status == "ingested", (report.status, report.error)
        best = took if best is None or took.wall < best.wall else best
        stored, rejected = report.accepted, report.rejected
    assert best is not None
    return best, stored, rejected


def run_intelmq(python: Path, feed: Feed, path: Path, repeat: int) -> dict[str, Any]:
    """IntelMQ's parser bot on the same file, in IntelMQ's environment; its figures."""
    job = {
        "repeat": repeat,
        "name": feed.name,
        "path": str(path),
        "module": feed.intelmq_module,
        "feed_url": feed.feed_url,
        "parameters": feed.parameters,
    }
    jobs = path.with_suffix(".job.json")
    jobs.write_text(json.dumps([job]))
    done = subprocess.run(
        [str(python), str(BENCH / "intelmq_feeds.py"), str(jobs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"IntelMQ run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def _ratio(peer: float, ours: float) -> str:
    return f"{peer / ours:.1f}x" if peer and ours else "-"


def print_table(results: list[Result]) -> None:
    """rows/s on each side and the ratios (wall clock, then CPU time), then output counts."""
    versions = {r.intelmq["intelmq"] for r in results if r.intelmq}
    peer = f"IntelMQ {', '.join(sorted(versions))}".strip()
    head = (
        "feed", "rows", "MB", "marsad parse", "marsad e2e", peer,
        "parse/IntelMQ", "e2e/IntelMQ", "cpu parse/IM", "cpu e2e/IM", "load 1/5/15",
    )  # fmt: skip
    lines = [head]
    for r in results:
        im_wall = r.intelmq["seconds"] if r.intelmq else 0.0
        im_cpu = r.intelmq["cpu_seconds"] if r.intelmq else 0.0
        lines.append(
            (
                r.feed.name,
                f"{r.rows:,}",
                f"{r.size / 1e6:.1f}",
                _rate(r.rows, r.parse.wall),
                _rate(r.rows, r.e2e.wall),
                _rate(r.rows, im_wall),
                _ratio(im_wall, r.parse.wall),
                _ratio(im_wall, r.e2e.wall),
                _ratio(im_cpu, r.parse.cpu),
                _ratio(im_cpu, r.e2e.cpu),
                r.load,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    print()
    for line in lines:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    print(
        "\nrows/s: feed rows (entries) per second of wall-clock time, the same bytes on both"
        " sides; ratios are IntelMQ's time over Marsad's (cpu: CPU seconds of each process)."
        " load: the 1/5/15-minute load average when the feed's run ended."
    )
    print("\nwhat each side made of the rows:")
    for r in results:
        made = ", ".join(f"{n:,} {k}" for k, n in sorted(r.records.items()))
        im = r.intelmq
        events = f"{im['events']:,} events, {im['errors']:,} errors" if im else "not run"
        print(
            f"  {r.feed.name}: Marsad {made}; stored {r.stored:,} assertions, "
            f"{r.rejected:,} rejected | IntelMQ {events}"
        )
        if im and im["events"] != r.stored and r.feed.note:
            print(f"    counts differ: {r.feed.note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000, help="rows per feed")
    ap.add_argument("--feeds", default=",".join(f.name for f in FEEDS), help="comma-separated")
    ap.add_argument("--intelmq-python", type=Path, default=INTELMQ_PYTHON)
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs of each step, each side")
    ap.add_argument("--skip-intelmq", action="store_true", help="Marsad figures only")
    args = ap.parse_args()

    wanted = args.feeds.split(",")
    feeds = []
    for feed in FEEDS:
        if feed.name not in wanted:
            continue
        try:
            get_format(feed.marsad_format)
        except FormatError:
            print(f"skipping {feed.name}: Marsad has no {feed.marsad_format!r} format")
            continue
        feeds.append(feed)
    if not args.skip_intelmq and not args.intelmq_python.exists():
        sys.exit(
            f"{args.intelmq_python} not found: run `make bench-feeds` (it creates IntelMQ's venv)"
        )

    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores, load average at start {_load()}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="marsad-feeds-") as tmp:
        for feed in feeds:  # one feed at a time on both sides, so both see similar load
            t = time.perf_counter()
            path = feedgen.write_feed(feed.name, args.rows, Path(tmp))
            raw = path.read_bytes()
            print(
                f"{feed.name}: {args.rows:,} rows, {len(raw) / 1e6:.1f} MB "
                f"(generated in {time.perf_counter() - t:.1f}s)",
                flush=True,
            )
            parse, kinds = marsad_parse(feed, raw, args.repeat)
            print(f"  marsad parse + normalise  {parse.wall:7.2f}s", flush=True)
            e2e, stored, rejected = marsad_e2e(raw, feed, Path(tmp), args.repeat)
            print(f"  marsad end to end SQLite  {e2e.wall:7.2f}s", flush=True)
            im = None
            if not args.skip_intelmq:
                im = run_intelmq(args.intelmq_python, feed, path, args.repeat)
                print(f"  IntelMQ {im['intelmq']} parser bot {im['seconds']:7.2f}s", flush=True)
            results.append(
                Result(feed, args.rows, len(raw), parse, kinds, e2e, stored, rejected, im, _load())
            )
            del raw
            path.unlink()
    print_table(results)
    print(f"\nload average at end {_load()}")


if __name__ == "__main__":
    main()
