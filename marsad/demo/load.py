"""Load the demo world through the real ingest path (shell around the pure generator)."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.organisation import Organisation
from marsad.store.engine import StoreError
from marsad.store.store import Store

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def received_at(filename: str) -> dt.datetime | None:
    """The day a demo file was sent, read from its name, so the demo's timeline is its own."""
    m = _DATE.search(filename)
    return dt.datetime.fromisoformat(m.group(1)).replace(hour=12, tzinfo=dt.UTC) if m else None


def load_world(store: Store, *, seed: int, scale: float, console: Console | None) -> dict[str, Any]:
    """Register the world's organisations and ingest every submission; return figures."""
    from marsad.demo.world import build_world

    started = time.perf_counter()
    world = build_world(seed=seed, scale=scale)
    for spec in world.organisations:
        try:
            store.org(spec.name)
        except StoreError:
            store.add_org(
                Organisation(
                    name=spec.name, kind=spec.kind, country=spec.country, region=spec.region
                )
            )
    records = rejected = duplicates = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
        transient=True,
    ) as bar:
        task = bar.add_task("loading demo submissions", total=len(world.submissions))
        when: dt.datetime | None = None
        for sub in world.submissions:
            when = received_at(sub.filename) or when  # case files carry no date: the last seen
            report = ingest(
                store,
                sub.raw,
                source=sub.source,
                fmt=sub.format,
                filename=sub.filename,
                defaults=SubmissionDefaults(handling=sub.handling),
                threat_type=sub.threat_type,
                now=when,
                analyse=False,  # the world is analysed once, at the end
            )
            records += report.records
            rejected += report.rejected
            duplicates += report.status == "duplicate"
            bar.advance(task)
    seconds = time.perf_counter() - started
    return {
        "organisations": len(world.organisations),
        "submissions": len(world.submissions),
        "duplicates": duplicates,
        "records": records,
        "rejected": rejected,
        "networks": len(world.networks),
        "seconds": round(seconds, 2),
        "records_per_second": records / seconds if seconds else 0.0,
    }
