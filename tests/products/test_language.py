"""Products in English, Arabic (right to left) and French: the catalogue is complete and up
to date, the PDFs carry the language's words in a font with its glyphs, and what machines
read (JSON keys, TLP labels, values, STIX) is the same in every language."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import msgspec
import pytest

from marsad.model.errors import MarsadError
from marsad.products import render
from marsad.products.advisory import build_advisory
from marsad.products.assessment_data import assessment
from marsad.products.language import (
    LOCALE_DIR,
    checked,
    country_name,
    gettext,
    located,
    translations,
)
from marsad.products.period import parse_period
from marsad.products.service import activity_report
from marsad.store.store import Store
from tests.catalogues import assert_translated, extracted, messages
from tests.products.conftest import pdf_pages
from tests.products.test_cli_reports import marsad
from tests.products.world import FJ_PHISH, build_fixed

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
OCTOBER = parse_period("2026-10")
POT = LOCALE_DIR / "products.pot"


def _flat(text: str) -> str:
    """pdftotext's words, without the bidi marks it puts around runs of each direction."""
    marks = {c for c in text if unicodedata.category(c) == "Cf"}
    return " ".join("".join(c for c in text if c not in marks).split())


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_product_message_is_translated_with_its_placeholders(lang: str) -> None:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "products.po"
    assert_translated(POT, po, lang, translations)


def test_the_product_message_template_is_up_to_date() -> None:
    """Every word of the product templates and code is in products.pot (see babel.cfg)."""
    found = extracted(LOCALE_DIR.parent, "**/templates/**.j2")
    assert found == set(messages(POT)), sorted(map(str, found ^ set(messages(POT))))[:5]


def test_an_arabic_report_runs_right_to_left_in_arabic_words(
    sqlite_store: Store, tmp_path: Path
) -> None:
    build_fixed(sqlite_store)
    report, _ = activity_report(sqlite_store, "FJ", OCTOBER, now=NOW)
    page = render.html(report, "ar")
    assert '<html lang="ar" dir="rtl">' in page
    heading = gettext("ar")("Cyber activity report")
    assert heading == "تقرير النشاط السيبراني"
    pages, text = pdf_pages(render.pdf(report, "ar"), tmp_path)
    flat = _flat(text)
    assert pages and heading in flat and "فيجي" in flat  # Fiji, from pycountry's catalogue
    assert "Cyber activity report" not in flat and "Summary" not in flat
    assert "TLP:AMBER" in flat and FJ_PHISH in flat  # labels and values as they are
    assert "takedown request" not in flat and "طلب إزالة" in flat


def test_a_french_advisory_and_assessment(sqlite_store: Store, tmp_path: Path) -> None:
    build_fixed(sqlite_store)
    advisory = build_advisory(sqlite_store, "investment-scam", now=NOW, lang="fr")
    assert advisory.advice.title.startswith("Escroqueries à l'investissement")
    page = render.advisory_html(advisory, "fr")
    assert '<html lang="fr" dir="ltr">' in page
    _pages, text = pdf_pages(render.pdf_of(page), tmp_path / "advisory")
    flat = _flat(text)
    for part in ("Comment fonctionne l'escroquerie", "Signes d'alerte", "Que faire",
                 "bank-fiji-login[.]com[.]fj", "TLP:CLEAR"):  # fmt: skip
        assert part in flat
    assert "How the scam works" not in flat
    made = assessment(sqlite_store, "asia-south-pacific", parse_period("2026-Q4"), now=NOW,
                      lang="fr")  # fmt: skip
    _pages, text = pdf_pages(render.pdf_of(render.assessment_html(made, "fr")), tmp_path / "a")
    flat = _flat(text)
    assert "Évaluation de la menace — Asie et Pacifique Sud" in flat and "Synthèse" in flat
    assert "Fidji héberge le plus d'infrastructures" in flat


def test_machine_readable_fields_do_not_change_with_the_language(
    sqlite_store: Store,
) -> None:
    build_fixed(sqlite_store)
    english = assessment(sqlite_store, "asia-south-pacific", parse_period("2026-Q4"), now=NOW)
    arabic = assessment(sqlite_store, "asia-south-pacific", parse_period("2026-Q4"), now=NOW,
                        lang="ar")  # fmt: skip
    en, ar = msgspec.to_builtins(english), msgspec.to_builtins(arabic)
    assert en.keys() == ar.keys() and ar["summary"] != en["summary"]
    for key in ("tlp", "by_threat_type", "by_reliability", "chapters", "annex", "by_country"):
        assert ar[key] == en[key], key  # values, vocabularies, actions: as in English
    assert "TLP:" in ar["tlp"] and any("\u0600" <= c <= "\u06ff" for c in ar["summary"][0])


def test_words_built_in_python() -> None:
    assert located("resolves to 203.0.113.5", gettext("fr")) == "résout vers 203.0.113.5"
    assert located(".fj domain", gettext("fr")) == "domaine .fj"
    assert located("something new", gettext("fr")) == "something new"
    assert country_name("FJ", "fr") == "Fidji" and country_name("FJ") == "Fiji"
    assert country_name("XK") == "XK"  # not an ISO 3166-1 code: shown as it is
    with pytest.raises(MarsadError, match="language 'de' is not one of en, ar, fr"):
        checked("de")


def test_the_cli_writes_the_language_asked_for(tmp_path: Path) -> None:
    from marsad.store.engine import sqlite_url

    url = sqlite_url(tmp_path / "marsad.db")
    store = Store.open(url, create=True)
    build_fixed(store)
    store.close()
    marsad("report", "activity", "--country", "FJ", "--period", "2026-10", "--format",
           "html,csv", "--lang", "ar", "--out", str(tmp_path), "--db", url)  # fmt: skip
    page = (tmp_path / "activity-FJ-2026-10.html").read_text()
    assert 'dir="rtl"' in page and "تقرير النشاط السيبراني" in page
    csv = (tmp_path / "activity-FJ-2026-10.csv").read_text()
    assert csv.startswith("section,type,value") and "takedown request" in csv
    marsad("report", "advisory", "--threat", "phishing", "--lang", "fr", "--out", str(tmp_path),
           "--db", url)  # fmt: skip
    assert "Hameçonnage" in (tmp_path / "advisory-phishing.html").read_text()
    bad = marsad("report", "assessment", "--region", "global", "--period", "2026-Q4",
                 "--lang", "de", "--db", url, ok=False)  # fmt: skip
    assert bad.returncode != 0 and "language 'de' is not one of en, ar, fr" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_an_arabic_notice_words_its_default_prose_and_keeps_the_analysts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from marsad.products.notice import NoticeText, build_notice

    fixed = build_fixed(sqlite_store)
    made, _, _ = build_notice(sqlite_store, fixed.network, "Fiji CCU", now=NOW, lang="ar")
    assert made.title.startswith("أسلوب العمل: شبكة") and made.text.method.startswith("شبكة من")
    assert made.text.countermeasures == ["حظر المؤشرات المدرجة.",
                                         "الإبلاغ عن أي رصد جديد إلى الجهة المُصدِرة."]  # fmt: skip
    _pages, text = pdf_pages(render.pdf_of(render.notice_html(made, lang="ar")), tmp_path)
    flat = _flat(text)
    assert "التدابير المضادة الموصى بها" in flat and made.tlp in flat
    own = NoticeText(method="Cloned bank portals.")
    kept, _, _ = build_notice(sqlite_store, fixed.network, "Fiji CCU", text=own, now=NOW,
                              lang="fr")  # fmt: skip
    assert kept.text.method == "Cloned bank portals." and kept.title.startswith("Mode opératoire")


def test_arabic_chart_labels_are_drawn_joined_and_in_reading_order(tmp_path: Path) -> None:
    """WeasyPrint draws SVG text glyph by glyph: the chart gives Arabic labels shaped and in
    display order, so the PDF reads back (pdftotext, presentation forms folded by NFKC) as
    the words themselves, not their letters reversed."""
    from marsad.products.charts import bar_chart

    network = gettext("ar")("network %(id)s") % {"id": "12"}
    fiji = country_name("FJ", "ar")
    svg = bar_chart({fiji: 3, network: 2, "Tonga": 1}, "البنية التحتية حسب البلد")
    assert svg.count('unicode-bidi="bidi-override"') == 3  # the title and two labels, not Tonga
    assert fiji not in svg  # drawn as presentation forms, not as typed
    page = f'<html lang="ar" dir="rtl"><body style="font-family: DejaVu Sans">{svg}</body></html>'
    _pages, text = pdf_pages(render.pdf_of(page), tmp_path)
    flat = _flat(unicodedata.normalize("NFKC", text))
    for words in (fiji, network, "البنية التحتية حسب البلد", "Tonga"):
        assert words in flat, (words, flat)
