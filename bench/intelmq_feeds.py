"""IntelMQ's side of bench/feeds.py: its own parser bots, in library mode, on the feed files.

Runs under IntelMQ's environment (``bench/.venv-intelmq``, made by ``make bench-feeds``),
never Marsad's: ``python bench/intelmq_feeds.py JOBS.json`` where JOBS is a list of
``{"name", "path", "module", "feed_url", "parameters"}``. Each file becomes one Report
(raw base64, as a collector sends it) handed to ``bot.process_message``; the bot's
construction and the Report are prepared outside the timing, and the cyclic GC is paused
while it runs: library mode keeps every output event in a list, which a deployment sending
events to Redis would not, so collecting them would charge IntelMQ for the harness. Prints
one JSON object per job on stdout: events out, error-queue messages, wall and CPU seconds.
"""

from __future__ import annotations

import base64
import gc
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Parse one feed file with one IntelMQ parser bot, best of ``repeat`` runs; counts, time."""
    from intelmq.lib.bot import BotLibSettings
    from intelmq.lib.message import MessageFactory

    bot_class = importlib.import_module(job["module"]).BOT
    settings = BotLibSettings | {"logging_level": "ERROR"} | job.get("parameters", {})
    encoded = base64.b64encode(Path(job["path"]).read_bytes()).decode()
    best: dict[str, Any] = {}
    for _ in range(job.get("repeat", 1)):
        bot = bot_class(f"bench-{job['name']}-parser", settings=settings)
        report = MessageFactory.from_dict(
            {"feed.name": job["name"], "feed.url": job["feed_url"], "raw": encoded},
            harmonization=bot.harmonization,
            default_type="Report",
        )
        gc.collect()
        gc.disable()
        started, cpu = time.perf_counter(), time.process_time()
        queues = bot.process_message(report)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.enable()
        if not best or seconds < best["seconds"]:
            best = {
                "name": job["name"],
                "events": len(queues.get("output", [])),
                "errors": len(queues.get("error", [])),
                "seconds": seconds,
                "cpu_seconds": cpu,
            }
        del queues, report, bot
        gc.collect()
    return best


def main() -> None:
    import intelmq

    jobs = json.loads(Path(sys.argv[1]).read_text())
    for job in jobs:
        result = run_job(job) | {"intelmq": intelmq.__version__, "python": sys.version.split()[0]}
        print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
