"""Fixtures for enrichment: the real MISP warninglists, compiled once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marsad.enrich.loaders import load_warninglists, warninglist_documents
from marsad.enrich.warninglists import WarninglistMatcher


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled cache shared by the xdist workers of a session (writes are atomic)."""
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if root.name.startswith("popen-") else root
    return shared / "marsad-cache"


@pytest.fixture(scope="session")
def matcher(cache: Path) -> WarninglistMatcher:
    return load_warninglists(cache)


@pytest.fixture(scope="session")
def documents() -> list[dict[str, Any]]:
    return warninglist_documents()
