"""The public advisory: TLP:CLEAR examples only, defanged, and the advice itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from marsad.access import audit
from marsad.model.errors import MarsadError
from marsad.products import render
from marsad.products.advisory import build_advisory, defang
from marsad.store.store import Store
from tests.products.conftest import pdf_pages
from tests.products.world import Fixed, build_fixed

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_only_publishable_examples(store: Store, fixed: Fixed) -> None:
    a = build_advisory(store, "investment-scam", now=NOW)
    assert [(e.type, e.value) for e in a.examples] == [("domain", "bank-fiji-login[.]com[.]fj")]
    body = render.advisory_html(a) + msgspec.json.encode(a).decode()
    assert "invest-abroad" not in body  # Fiji's TLP:AMBER report of the same threat
    assert "secret-expired-scam" not in body  # TLP:CLEAR but past its retention
    assert "TLP:CLEAR" in body and "TLP:GREEN" not in body and "TLP:AMBER" not in body
    entry = audit.entries(store, action="report-advisory", limit=1)[0]
    assert entry.details["recipient"] == "public" and entry.details["count"] == 1


def test_phishing_advisory_has_no_green_examples(store: Store, fixed: Fixed) -> None:
    a = build_advisory(store, "phishing", now=NOW)
    assert a.examples == ()  # every phishing statement in the world is TLP:GREEN or tighter
    assert "No example can be published" in render.advisory_html(a)


def test_unknown_threat_names_the_choices(store: Store, fixed: Fixed) -> None:
    with pytest.raises(MarsadError, match="no advisory text for threat 'c2': available are bec"):
        build_advisory(store, "c2")


@pytest.mark.parametrize(
    ("kind", "value", "safe"),
    [
        ("url", "https://evil.example.com/a.b", "hxxps://evil[.]example[.]com/a[.]b"),
        ("ipv4", "203.0.113.5", "203[.]0[.]113[.]5"),
        ("email", "x@evil.com", "x[@]evil[.]com"),
        ("btc", "bc1qexample", "bc1qexample"),
    ],
)
def test_defang(kind: str, value: str, safe: str) -> None:
    assert defang(kind, value) == safe


def test_pdf_pages_and_text(sqlite_store: Store, tmp_path: Path) -> None:
    build_fixed(sqlite_store)
    a = build_advisory(sqlite_store, "investment-scam", now=NOW)
    pages, text = pdf_pages(render.pdf_of(render.advisory_html(a)), tmp_path)
    flat = " ".join(text.split())
    assert len(pages) >= 1
    for part in ("How the scam works", "Warning signs", "What to do",
                 "bank-fiji-login[.]com[.]fj", "TLP:CLEAR"):  # fmt: skip
        assert part in flat
    assert "invest-abroad" not in flat
