"""Results kept per store and viewer, served while a fresher one is computed.

The pages' clusters and the dashboard's cluster ranking cost seconds on a large instance.
A kept result is fresh while no submission has arrived since and for `TTL` seconds; a
stale one is served once more while a background thread computes its successor, so a
page never waits twice. Keys start with the store's URL (not the object's id, which
Python may reuse for a later store), then whatever else decides the result (the grant).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select

from marsad.store.schema import submissions
from marsad.store.store import Store

TTL = 300.0
V = TypeVar("V")


_EVERY: list[Kept[Any]] = []


def forget_all() -> None:
    """Forget every kept result of every cache (tests start from a clean slate)."""
    for kept in _EVERY:
        kept.clear()


def data_version(store: Store) -> int:
    """Changes whenever a submission arrives: the newest submission's id."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(submissions.c.id), 0))).scalar_one())


class Kept(Generic[V]):
    """At most ``size`` results, each computed by the caller's function for its key."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._kept: dict[Hashable, tuple[float, int, V]] = {}
        self._running: set[Hashable] = set()
        self._lock = threading.Lock()
        _EVERY.append(self)

    def clear(self) -> None:
        """Forget every kept result (tests; a changed configuration)."""
        with self._lock:
            self._kept.clear()

    def get(self, store: Store, key: Hashable, compute: Callable[[], V]) -> V:
        """The kept result for ``key`` on ``store``; computed now only when there is none."""
        full, version = (store.engine.url.render_as_string(), key), data_version(store)
        with self._lock:
            hit = self._kept.get(full)
            fresh = hit is not None and hit[1] == version and time.monotonic() - hit[0] < TTL
            start = hit is not None and not fresh and full not in self._running
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
        value = compute()
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.clear()
            self._kept[full] = (time.monotonic(), version, value)
        return value

    def _refresh(self, full: Hashable, version: int, compute: Callable[[], V]) -> None:
        try:
            self._compute(full, version, compute)
        finally:
            with self._lock:
                self._running.discard(full)
