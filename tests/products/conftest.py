"""Fixtures for the products: the fixed world on both stores, and PDF tools."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from marsad.store.store import Store
from tests.conftest import REQUIRE_SERVICES
from tests.products.world import Fixed, build_fixed


@pytest.fixture
def fixed(store: Store) -> Fixed:
    """The fixed products world on SQLite and PostgreSQL."""
    return build_fixed(store)


def pdf_pages(pdf: bytes, folder: Path) -> tuple[list[Path], str]:
    """The PDF's pages as PNG files (pdftoppm) and its text (pdftotext).

    Skips with the reason when poppler-utils is missing, unless CI demands every tool
    (MARSAD_REQUIRE_SERVICES=1), where its absence is a failure.
    """
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        reason = "pdftoppm/pdftotext not installed (poppler-utils; `make test` installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(reason + " — MARSAD_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "product.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(folder / "page")], check=True)
    text = subprocess.run(
        ["pdftotext", str(source), "-"], check=True, capture_output=True
    ).stdout.decode()
    return sorted(folder.glob("page-*.png")), text
