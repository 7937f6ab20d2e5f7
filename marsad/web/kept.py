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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from marsad.store.changes import data_version as _counter
from marsad.store.store import Store

TTL = 300.0
V = TypeVar("V")


_EVERY: list[Kept[Any]] = []


def forget_all() -> None:
    """Forget every kept result of every cache (tests start from a clean slate)."""
    for kept in _EVERY:
        kept.clear()


def data_version(store: Store) -> int:
    """Changes whenever a write that could change what anyone sees commits."""
    return _counter(store.engine)


class Kept(Generic[V]):
    """At most ``size`` results, each computed by the caller's function for its key."""

    def __init__(self, size: int = 64, ttl: float | None = TTL) -> None:
        self.size = size
        self.ttl = ttl
        self._kept: dict[Hashable, tuple[float, int, V]] = {}
        self._running: set[Hashable] = set()
        self._lock = threading.Lock()
        _EVERY.append(self)

    def clear(self) -> None:
        """Forget every kept result (tests; a changed configuration)."""
        with self._lock:
            self._kept.clear()

    def get(self, store: Store, key: Hashable, compute: Callable[[], V]) -> V:
        """The kept result for ``key`` on ``store``, computed now when there is none made
        since the store last changed."""
        full, version = (store.engine.url.render_as_string(), key), data_version(store)
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
        if hit is None:
            return self._compute(full, version, compute)
        if start:
            threading.Thread(
                target=self._refresh, args=(full, version, compute), daemon=True
            ).start()
        return hit[2]

    def _compute(self, full: Hashable, version: int, compute: Callable[[], V]) -> V:
        value = compute()  # ``version`` was read before: a change meanwhile leaves it behind
        with self._lock:
            if len(self._kept) >= self.size and full not in self._kept:
                self._kept.clear()
            self._kept[full] = (time.monotonic(), version, value)
        return value

    def _refresh(self, full: Hashable, version: int, compute: Callable[[], V]) -> None:
        try:
            self._compute(full, version, compute)
        finally:
            with self._lock:
                self._running.discard(full)
