"""Checks on the project itself: the pure core stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "marsad"
PURE = ("model", "formats", "enrich")
# Shell modules inside an otherwise pure package: they read files or reach the network.
SHELL = ("enrich/loaders.py", "enrich/online.py")
FORBIDDEN = (
    "marsad.store",
    "marsad.ingest",
    "marsad.cli",
    "marsad.exchange",
    "marsad.web",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "socket",
    "requests",
    "httpx",
    "urllib.request",
    "subprocess",
    "typer",
    "rich",
    "dns",
    "maxminddb",
    "marsad.enrich.loaders",
    "marsad.enrich.online",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", PURE)
def test_pure_core_does_no_io(part: str) -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / part).rglob("*.py")
        if str(path.relative_to(PACKAGE)) not in SHELL
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offenders, sorted(offenders)


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert not big, big
