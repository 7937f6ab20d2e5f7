"""Output: readable Rich tables by default, JSON with --json; errors to stderr."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

out = Console(highlight=False, soft_wrap=False)
if not out.is_terminal:
    out.width = max(out.width, 160)  # files and pipes: wide rows rather than folded cells
err = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Print machine-readable JSON on stdout."""
    encoded = msgspec.json.encode(data, enc_hook=_default)
    sys.stdout.write(msgspec.json.format(encoded, indent=2).decode() + "\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table; None cells show as a dash; cells fold on narrow terminals."""
    t = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*("-" if c is None else str(c) for c in row))
    out.print(t)


def when(value: dt.datetime | dt.date | None) -> str | None:
    """Compact timestamp for tables."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
