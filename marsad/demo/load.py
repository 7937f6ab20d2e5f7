"""Load the demo world through the real ingest path (shell around the pure generator)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from marsad.ingest.batch import SubmissionDefaults
from marsad.ingest.pipeline import ingest
from marsad.model.organisation import Organisation
from marsad.store.engine import StoreError
from marsad.store.store import Store


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
        for sub in world.submissions:
            report = ingest(
                store,
                sub.raw,
                source=sub.source,
                fmt=sub.format,
                filename=sub.filename,
                defaults=SubmissionDefaults(handling=sub.handling),
                threat_type=sub.threat_type,
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
