"""Counted words in the products take the form their number asks for: English and French two
(French 0 singular), Arabic six (0, 1, 2, 3-10, 11-99, 100 and more; its singular and dual
without the numeral), in Python (`language.ngettext`) and in the templates alike, and a
sentence with several counts gives each its own form."""

from __future__ import annotations

import datetime as dt

import pytest

from marsad.products import language, render
from marsad.products.assessment import _judgements
from marsad.products.assessment_data import assessment
from marsad.products.notice import build_notice
from marsad.products.period import parse_period
from marsad.store.store import Store
from tests.products.world import build_fixed

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
COUNTS = (0, 1, 2, 3, 11, 100)
SOURCES = {
    "en": ("0 sources", "1 source", "2 sources", "3 sources", "11 sources", "100 sources"),
    "fr": ("0 source", "1 source", "2 sources", "3 sources", "11 sources", "100 sources"),
    "ar": ("0 مصدر", "مصدر واحد", "مصدرين", "3 مصادر", "11 مصدرًا", "100 مصدر"),
}
MORE = {  # the notice's "N more indicators" (a whole sentence, in the template)
    "en": ("0 more indicators", "1 more indicator", "2 more indicators", "3 more indicators",
           "11 more indicators", "100 more indicators"),
    "fr": ("0 indicateur de plus", "1 indicateur de plus", "2 indicateurs de plus",
           "3 indicateurs de plus", "11 indicateurs de plus", "100 indicateurs de plus"),
    "ar": ("0 مؤشر إضافي", "مؤشر إضافي واحد", "مؤشران إضافيان", "3 مؤشرات إضافية",
           "11 مؤشرًا إضافيًا", "100 مؤشر إضافي"),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_a_counted_phrase_in_python_and_in_the_templates(lang: str) -> None:
    ngettext = language.ngettext(lang)
    template = render._env(lang).from_string(
        '{{ ngettext("%(num)s source", "%(num)s sources", n) }}|'
        '{{ ngettext("%(num)s more indicator in the STIX and JSON forms.", '
        '"%(num)s more indicators in the STIX and JSON forms.", n) }}'
    )
    for n, sources, more in zip(COUNTS, SOURCES[lang], MORE[lang], strict=True):
        assert ngettext("%(num)s source", "%(num)s sources", n) == sources, (lang, n)
        said, sentence = template.render(n=n).split("|")
        assert said == sources and sentence.startswith(more), (lang, n, sentence)


def test_arabic_forms_follow_the_last_two_digits() -> None:
    ngettext = language.ngettext("ar")
    sources = [ngettext("%(num)s source", "%(num)s sources", n) for n in (103, 111, 200, 1002)]
    assert sources == ["103 مصادر", "111 مصدرًا", "200 مصدر", "1002 مصدر"]
    assert language.ngettext("fr")("%(num)s source", "%(num)s sources", 1_000_000) == (
        "1000000 sources"
    )  # CLDR's "many" of French: the same words when the number is written in digits


@pytest.mark.parametrize(
    ("lang", "counts", "sentence"),
    [
        ("en", (1, 2, 1, 1, 11, 100),
         "In 2026-Q4, 1 infrastructure item and 2 victim items concerned 1 of the 1 country in "
         "scope, from 11 statements by 100 sources."),
        ("fr", (3, 0, 2, 2, 2, 1),
         "Sur 2026-Q4, 3 éléments d'infrastructure et 0 élément de victime ont concerné 2 sur 2 "
         "pays couverts, d'après 2 déclarations de 1 source."),
        ("ar", (1, 2, 1, 1, 11, 100),
         "في 2026-Q4، تعلّق عنصر واحد من البنية التحتية وعنصران من الضحايا بـ1 من أصل دولة "
         "واحدة مشمولة، استنادًا إلى 11 إفادة من 100 مصدر."),
        ("ar", (3, 0, 2, 2, 2, 12),
         "في 2026-Q4، تعلّق 3 عناصر من البنية التحتية و0 عنصر من الضحايا بـ2 من أصل دولتين "
         "مشمولتين، استنادًا إلى إفادتين من 12 مصدرًا."),
    ],
)  # fmt: skip
def test_a_sentence_of_several_counts_gives_each_its_form(
    lang: str, counts: tuple[int, ...], sentence: str
) -> None:
    facts = dict(zip(("infra", "victims", "affected", "scope", "statements", "sources"),
                     counts, strict=True))  # fmt: skip
    assert _judgements("2026-Q4", facts, [], [], lang) == [sentence]


def test_an_arabic_assessment_and_notice_say_their_counts_in_arabic_forms(
    sqlite_store: Store,
) -> None:
    fixed = build_fixed(sqlite_store)
    made = assessment(sqlite_store, "asia-south-pacific", parse_period("2026-Q4"), now=NOW,
                      lang="ar")  # fmt: skip
    assert (made.countries_in_scope, made.sources, made.statements) == (2, 2, 8)
    page = render.assessment_html(made, "ar")
    assert "يتناول التقييم أوضاع دولتين عضوين في المنطقة" in page  # dual, genitive
    assert "ويستند التقييم إلى 8 إفادات من مصدرين." in page  # 3-10: plural; 2: dual
    assert "عنصر واحد في دولة واحدة، استنادًا إلى إفادة واحدة؛" in page  # a one-item chapter
    assert "8 إفادة" not in page and "2 مصدر" not in page
    english = render.assessment_html(
        assessment(sqlite_store, "asia-south-pacific", parse_period("2026-Q4"), now=NOW)
    )
    assert "covers the region's 2 member countries" in english
    assert "It rests on 8 statements from 2 sources." in english
    assert "1 item (1 statement) in 1 country;" in english
    notice, _, _ = build_notice(sqlite_store, fixed.network, "Fiji CCU", now=NOW, lang="ar")
    shown = len(notice.indicators)
    assert shown >= 3
    assert "مؤشر إضافي واحد في صيغتي STIX وJSON." in render.notice_html(notice, shown - 1, "ar")
    assert "مؤشران إضافيان في صيغتي STIX وJSON." in render.notice_html(notice, shown - 2, "ar")
