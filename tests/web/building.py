"""Pages whose result is built in the background (`marsad.store.kept.Kept.ready`): ask as a
browser does, then poll the fragment as htmx does until the progress indicator is gone."""

from __future__ import annotations

import time
from typing import Any

BUSY = 'class="building"'
POLL = {"HX-Request": "true"}


def shown(client: Any, path: str, params: dict[str, Any] | None = None,
          timeout: float = 120.0) -> Any:  # fmt: skip
    """The page with its result: the first answer when the result was kept, otherwise the
    page asked again once the polled fragment holds the result (or the polled fragment
    itself when it holds the build's error)."""
    first = client.get(path, params=params)
    if BUSY not in first.text:
        return first
    end = time.monotonic() + timeout
    while True:
        polled = client.get(path, params=params, headers=POLL)
        assert polled.status_code == 200, (path, polled.status_code)
        if BUSY not in polled.text:
            break
        assert time.monotonic() < end, f"{path}: still building after {timeout} s"
        time.sleep(0.05)
    return polled if 'role="alert"' in polled.text else client.get(path, params=params)
