"""How long a background build keeps the interpreter from the request threads beside it.

Run on the demo world (MARSAD_HOME selects another instance). Each round forgets every kept
result, asks the dashboard's top clusters and the threat assessment as a signed-in user (two
cold builds start on `marsad.store.kept`'s workers), and while they run a ticker thread sleeps
1 ms in a loop and records how late it woke: a request served beside the builds waits as
long for the interpreter after each database call. Prints, per round, the holds over
20/40/100 ms, the longest, the builds' wall time and the process's CPU-seconds, and, with
``--where``, the builder's line when the ticker woke late (the C call that held it ends
there, or just before it).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import warnings
from collections import Counter

from web import signed_in  # bench/web.py: the script's own directory is first on sys.path

from marsad.cli import instance
from marsad.store import kept

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _where(limit: int = 4) -> str:
    """The innermost marsad lines of the builder threads (where they run now)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    out = []
    for ident, frame in sys._current_frames().items():
        if not names.get(ident, "").startswith("marsad-build"):
            continue
        lines = []
        f = frame
        while f is not None and len(lines) < limit:
            path = f.f_code.co_filename
            if "/marsad/" in path:
                lines.append(f"{path.rsplit('/marsad/', 1)[1]}:{f.f_lineno} {f.f_code.co_name}")
            f = f.f_back
        out.append(" < ".join(lines) or frame.f_code.co_name)
    return " | ".join(out)


def _round(client: TestClient, paths: list[tuple[str, dict[str, str]]], where: Counter[str],
           threshold: float) -> tuple[list[float], float, float]:  # fmt: skip
    """One round: the ticker's lateness (ms) while the cold builds run, their wall, CPU."""
    kept.forget_all()
    late: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            time.sleep(0.001)
            over = (time.perf_counter() - asked - 0.001) * 1000
            late.append(over)
            if over > threshold:
                where[_where()] += 1

    ticker = threading.Thread(target=tick, name="ticker", daemon=True)
    started, used = time.perf_counter(), time.process_time()
    ticker.start()
    for path, headers in paths:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code)
    assert kept.settle(600), "the builds did not end"
    wall, cpu = time.perf_counter() - started, time.process_time() - used
    done.set()
    ticker.join()
    return late, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", default="fiji.officer")
    parser.add_argument("--period", default="2026-10", help="The assessment's period.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--where", type=float, default=0.0, help="Count the builder's lines "
                        "when the ticker woke later than this many ms (0: do not).")  # fmt: skip
    args = parser.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    store = instance.open_store()
    client = signed_in(store, args.user)
    paths = [("/dashboard/clusters", {"HX-Request": "true"}),
             (f"/reports/assessment?period={args.period}", {})]  # fmt: skip
    where: Counter[str] = Counter()
    threshold = args.where or float("inf")
    print(f"user {args.user}: a ticker sleeping 1 ms beside one cold top-clusters and one cold "
          "assessment build; its lateness in ms")  # fmt: skip
    print(f"{'round':>5} {'ticks':>7} {'>20':>5} {'>40':>5} {'>100':>5} {'max ms':>8} "
          f"{'p99 ms':>7} {'wall s':>7} {'CPU s':>7}")  # fmt: skip
    for n in range(args.rounds):
        late, wall, cpu = _round(client, paths, where, threshold)
        late.sort()
        p99 = late[min(len(late) - 1, int(len(late) * 0.99))] if late else 0.0
        print(f"{n + 1:5} {len(late):7} {sum(x > 20 for x in late):5} "
              f"{sum(x > 40 for x in late):5} {sum(x > 100 for x in late):5} "
              f"{max(late, default=0):8.1f} {p99:7.1f} {wall:7.2f} {cpu:7.2f}")  # fmt: skip
    for line, count in where.most_common(20):
        print(f"{count:4}  {line}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
