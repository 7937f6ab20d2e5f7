"""Results kept per store and viewer, valid while nothing they were made from has changed.

The pages' clusters, the dashboard's cluster ranking and the products cost seconds on a
large instance. A kept result carries the store's change counter (`marsad.store.changes`)
read before it was computed; it is served only while the counter still reads the same, so
a tightened marking, a changed agreement or membership, a new submission or a new analysis
is in the very next answer (it waits for a new computation, never for a stale one). Keys
start with the store's URL (not the object's id, which Python may reuse for a later
store), then whatever else decides the result: the viewer's grant, which holds what it may
see and the day retention is judged on. A result that ages with the clock (recency scores)
is served once more after `TTL` seconds of unchanged data while a background thread
recomputes it; one made from the data alone (``ttl=None``) stays until the store changes.

Pages that cannot wait for a computation ask with `Kept.ready`: the kept result when there
is one, otherwise the `Build` that makes it in the background (started, or joined when one
for the same key is already under way for the same data), which a progress page shows and
polls until it is done. Builds run on `WORKERS` threads shared by every cache, so a burst
of requests queues instead of competing for the two cores; each key has at most one build
at a time, and one that failed keeps its error (shown as a sentence) until asked again.
A cache made with ``prebuild=N`` remembers its N most recently asked keys: the first request
that finds the store changed also queues new builds of the others asked in the last
`RECENT` seconds, so the next visitor of each finds them ready (the trigger is a request,
not a timer, so a long ingest committing every second rebuilds nothing nobody asks for).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from marsad.model.errors import MarsadError
from marsad.store.changes import data_version as _counter
from marsad.store.store import Store

TTL = 300.0
WORKERS = 2
RECENT = 1800.0
SWITCH = 0.001
"""The interpreter's thread switch interval once builders run (Python's default is 5 ms): a
request thread waiting for the GIL after each database call while a build computes waits up
to one interval per call, so a page of 30 queries would take 150 ms longer."""
V = TypeVar("V")
log = logging.getLogger(__name__)


_EVERY: list[Kept[Any]] = []
_jobs: queue.Queue[Callable[[], None]] = queue.Queue()
_workers: list[threading.Thread] = []
_workers_lock = threading.Lock()


def forget_all() -> None:
    """Forget every kept result of every cache, once the builds under way have ended (tests
    and benchmarks start from a clean slate)."""
    settle()
    for kept in _EVERY:
        kept.clear()


def settle(timeout: float = 120.0) -> bool:
    """Wait until no build is queued or running; False if some still were after ``timeout``."""
    end = time.monotonic() + timeout
    with _jobs.all_tasks_done:
        while _jobs.unfinished_tasks:
            left = end - time.monotonic()
            if left <= 0:
                return False
            _jobs.all_tasks_done.wait(left)
    return True


def data_version(store: Store) -> int:
    """Changes whenever a write that could change what anyone sees commits."""
    return _counter(store.engine)


def _work() -> None:
    while True:
        job = _jobs.get()
        try:
            job()
        finally:
            _jobs.task_done()


def _submit(job: Callable[[], None]) -> None:
    with _workers_lock:
        if not _workers and SWITCH:
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH))
        while len(_workers) < WORKERS:
            worker = threading.Thread(target=_work, name=f"marsad-build-{len(_workers)}",
                                      daemon=True)  # fmt: skip
            worker.start()
            _workers.append(worker)
    _jobs.put(job)


class Build(Generic[V]):
    """One background computation of a kept result: where it is, for a progress page."""

    def __init__(self, what: str, changed: bool = False) -> None:
        self.what = what  # a message id, translated where shown
        self.changed = changed  # replaces a result made before the data changed
        self.queued = time.monotonic()
        self.started: float | None = None
        self.finished: float | None = None
        self.version: int | None = None  # the change counter read before computing
        self.stage: str = ""  # a message id: what it is doing now
        self.done: int | None = None
        self.total: int | None = None
        self.words: dict[str, Any] = {}  # the stage's placeholders
        self.value: V | None = None
        self.error: BaseException | None = None
        self._ended = threading.Event()

    def report(
        self, stage: str, done: int | None = None, total: int | None = None, **words: Any
    ) -> None:
        """Say what the build is doing now (``done`` of ``total`` steps when it can count;
        ``words`` fill the stage's placeholders)."""
        self.stage, self.done, self.total, self.words = stage, done, total, words

    @property
    def elapsed(self) -> float:
        """Seconds since it was asked for."""
        return (self.finished or time.monotonic()) - self.queued

    @property
    def ended(self) -> bool:
        """Whether it has finished, well or not."""
        return self._ended.is_set()

    def wait(self, timeout: float | None = None) -> V:
        """The result once built; the build's error raised again if it failed."""
        if not self._ended.wait(timeout):
            raise TimeoutError(f"still building after {timeout} s")
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class Kept(Generic[V]):
    """At most ``size`` results, each computed by the caller's function for its key."""

    def __init__(
        self, size: int = 64, ttl: float | None = TTL, what: str = "", prebuild: int = 0
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.what = what  # what a build of this cache makes (a message id)
        self.prebuild = prebuild  # how many recently asked keys are rebuilt after a change
        self.last_seconds: float | None = None  # how long the last build took
        self._kept: dict[Hashable, tuple[float, int, V]] = {}
        self._builds: dict[Hashable, Build[V]] = {}
        self._running: set[Hashable] = set()
        self._flights: dict[Hashable, tuple[int, threading.Event]] = {}  # `get` computing now
        self._recent: OrderedDict[Hashable, tuple[Store, Callable[[Build[V]], V], float]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        _EVERY.append(self)

    def clear(self) -> None:
        """Forget every kept result and build (tests; a changed configuration)."""
        with self._lock:
            self._kept.clear()
            self._builds.clear()
            self._recent.clear()

    def get(self, store: Store, key: Hashable, compute: Callable[[], V]) -> V:
        """The kept result for ``key`` on ``store``, computed now when there is none made
        since the store last changed; a thread already computing it for the same state of
        the data is waited for rather than repeated (two builds needing the same shared
        values at once compute them once)."""
        full, version = (store.engine.url.render_as_string(), key), data_version(store)
        while True:
            with self._lock:
                hit = self._kept.get(full)
                if hit is not None and hit[1] != version:
                    hit = None  # made before a change: never served again
                start = (
                    hit is not None and self.ttl is not None
                    and time.monotonic() - hit[0] >= self.ttl and full not in self._running
                )  # fmt: skip
                if start:
                    self._running.add(full)
                flight = self._flights.get(full) if hit is None else None
                if hit is None and (flight is None or flight[0] != version):
                    mine = threading.Event()
                    self._flights[full] = (version, mine)
            if hit is not None or flight is None or flight[0] != version:
                break
            flight[1].wait()  # then kept, or failed: computed here on the next turn
        if hit is None:
            try:
                return self._compute(full, version, compute)
            finally:
                with self._lock:
                    if self._flights.get(full) == (version, mine):
                        del self._flights[full]
                mine.set()
        if start:
            threading.Thread(
                target=self._refresh, args=(full, version, compute), daemon=True
            ).start()
        return hit[2]

    def ready(
        self, store: Store, key: Hashable, compute: Callable[[Build[V]], V], *, retry: bool = False
    ) -> V | Build[V]:
        """The kept result for ``key`` when one made since the store last changed is kept,
        otherwise the background build making it: the one under way for this key and this
        state of the data, or a new one. A build that failed is returned again (with its
        error) until the data changes or ``retry`` asks for a new one."""
        full, version = (store.engine.url.render_as_string(), key), data_version(store)
        with self._lock:
            if self.prebuild:
                self._prebuild(store, full, compute, version)
            hit = self._kept.get(full)
            build = self._builds.get(full)
            if hit is not None and hit[1] == version:
                aged = self.ttl is not None and time.monotonic() - hit[0] >= self.ttl
                if aged and (build is None or build.ended):
                    self._start(store, full, compute, Build(self.what))  # served once more
                return hit[2]
            if build is not None:
                if not build.ended and build.version in (None, version):
                    return build  # under way for the same data (or not started yet): join it
                failed = build.ended and build.error is not None
                if failed and build.version == version and not retry:
                    return build  # its error is shown until the data changes or one asks again
            changed = hit is not None or (build is not None and build.version != version)
            return self._start(store, full, compute, Build(self.what, changed))

    def _prebuild(self, store: Store, full: Hashable, compute: Callable[[Build[V]], V],
                  version: int) -> None:  # fmt: skip
        """Remember ``full`` as asked now; when the store changed since the other recently
        asked keys were built, queue their builds (the lock is held)."""
        now = time.monotonic()
        self._recent[full] = (store, compute, now)
        self._recent.move_to_end(full)
        while len(self._recent) > self.prebuild:
            self._recent.popitem(last=False)
        url = full[0]  # type: ignore[index]
        for other, (where, make, asked) in list(self._recent.items()):
            if other == full or other[0] != url or now - asked > RECENT:  # type: ignore[index]
                continue
            hit, build = self._kept.get(other), self._builds.get(other)
            stale = hit is not None and hit[1] != version  # built once, before the change
            if stale and (build is None or (build.ended and build.version != version)):
                self._start(where, other, make, Build(self.what, changed=True))

    def wait(self, store: Store, key: Hashable, compute: Callable[[Build[V]], V]) -> V:
        """The kept result for ``key``, waiting for its build (downloads, JSON)."""
        got = self.ready(store, key, compute, retry=True)
        return got.wait() if isinstance(got, Build) else got

    def _start(self, store: Store, full: Hashable, compute: Callable[[Build[V]], V],
               build: Build[V]) -> Build[V]:  # fmt: skip
        """Register ``build`` as the one for ``full`` (the lock is held) and queue it."""
        self._builds[full] = build
        _submit(lambda: self._run(store, full, compute, build))
        return build

    def _run(self, store: Store, full: Hashable, compute: Callable[[Build[V]], V],
             build: Build[V]) -> None:  # fmt: skip
        build.started = time.monotonic()
        try:
            build.version = data_version(store)  # read before: a change meanwhile leaves it behind
            value = compute(build)
        except Exception as exc:  # shown to whoever polls, never lost
            build.error = exc
            if isinstance(exc, MarsadError):  # a problem of the request, said in words
                log.info("building %r: %s", full, exc)
            else:
                log.exception("building %r failed", full)
        else:
            build.value = value
            with self._lock:
                self._keep(full, build.version, value)
                if self._builds.get(full) is build:
                    del self._builds[full]
            self.last_seconds = time.monotonic() - build.started
        finally:
            build.finished = time.monotonic()
            build._ended.set()

    def _keep(self, full: Hashable, version: int, value: V) -> None:
        """Keep ``value`` unless a result of a later state of the data is kept (lock held)."""
        old = self._kept.get(full)
        if old is not None and old[1] > version:
            return
        if len(self._kept) >= self.size and full not in self._kept:
            self._kept.clear()
        self._kept[full] = (time.monotonic(), version, value)

    def _compute(self, full: Hashable, version: int, compute: Callable[[], V]) -> V:
        value = compute()  # ``version`` was read before: a change meanwhile leaves it behind
        with self._lock:
            self._keep(full, version, value)
        return value

    def _refresh(self, full: Hashable, version: int, compute: Callable[[], V]) -> None:
        try:
            self._compute(full, version, compute)
        finally:
            with self._lock:
                self._running.discard(full)


def progress_of(build: Build[Any], kept: Kept[Any]) -> dict[str, Any]:
    """What a progress page shows of a build (messages untranslated, seconds rounded)."""
    last = kept.last_seconds
    return {
        "what": build.what, "stage": build.stage if build.started else "",
        "words": build.words, "done": build.done, "total": build.total,
        "changed": build.changed, "elapsed": round(build.elapsed),
        "last": None if last is None else max(1, round(last)),
    }  # fmt: skip
