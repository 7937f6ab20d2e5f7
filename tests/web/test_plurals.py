"""Counted words in the web pages take the form their number asks for: English two, French
three (0 and 1; millions, the plural when written in digits; the rest), Arabic six (0, 1, 2,
3-10, 11-99, 100 and more; its singular and dual without the numeral), in the templates
(Jinja2's newstyle ``ngettext``) and in Python (`i18n.ngettext`) alike, and a sentence with
several counts gives each its own form."""

from __future__ import annotations

import pytest

from marsad.web.admin_forms import FieldErrors
from marsad.web.i18n import environment, ngettext
from tests.web.conftest import GREEN_HOST, Browser

COUNTS = (0, 1, 2, 3, 11, 100)
MEMBERS = {  # the cluster page's heading
    "en": ("0 members", "1 member", "2 members", "3 members", "11 members", "100 members"),
    "fr": ("0 membre", "1 membre", "2 membres", "3 membres", "11 membres", "100 membres"),
    "ar": ("0 عضو", "عضو واحد", "عضوان", "3 أعضاء", "11 عضوًا", "100 عضو"),
}
CHAIN = {  # the audit chain's check: the count inside a sentence
    "en": ("Hash chain intact: 0 entries verified.", "Hash chain intact: 1 entry verified.",
           "Hash chain intact: 2 entries verified.", "Hash chain intact: 3 entries verified.",
           "Hash chain intact: 11 entries verified.", "Hash chain intact: 100 entries verified."),
    "fr": ("Chaîne de hachage intacte : 0 entrée vérifiée.",
           "Chaîne de hachage intacte : 1 entrée vérifiée.",
           "Chaîne de hachage intacte : 2 entrées vérifiées.",
           "Chaîne de hachage intacte : 3 entrées vérifiées.",
           "Chaîne de hachage intacte : 11 entrées vérifiées.",
           "Chaîne de hachage intacte : 100 entrées vérifiées."),
    "ar": ("سلسلة التجزئة سليمة: تم التحقق من 0 قيد.", "سلسلة التجزئة سليمة: تم التحقق من قيد واحد.",
           "سلسلة التجزئة سليمة: تم التحقق من قيدين.", "سلسلة التجزئة سليمة: تم التحقق من 3 قيود.",
           "سلسلة التجزئة سليمة: تم التحقق من 11 قيدًا.",
           "سلسلة التجزئة سليمة: تم التحقق من 100 قيد."),
}  # fmt: skip
ASSERTIONS = {  # the dashboard's caption
    "en": ("0 assertions visible to your organisation", "1 assertion visible to your organisation",
           "2 assertions visible to your organisation", "3 assertions visible to your organisation",
           "11 assertions visible to your organisation",
           "100 assertions visible to your organisation"),
    "fr": ("0 assertion visible pour votre organisation",
           "1 assertion visible pour votre organisation",
           "2 assertions visibles pour votre organisation",
           "3 assertions visibles pour votre organisation",
           "11 assertions visibles pour votre organisation",
           "100 assertions visibles pour votre organisation"),
    "ar": ("0 تأكيد مرئي لمنظمتك", "تأكيد واحد مرئي لمنظمتك", "تأكيدان مرئيان لمنظمتك",
           "3 تأكيدات مرئية لمنظمتك", "11 تأكيدًا مرئيًا لمنظمتك", "100 تأكيد مرئي لمنظمتك"),
}  # fmt: skip
LABEL = {  # a form's error, counted in Python
    "en": ("The label is at most 0 characters.", "The label is at most 1 character.",
           "The label is at most 2 characters.", "The label is at most 3 characters.",
           "The label is at most 11 characters.", "The label is at most 100 characters."),
    "fr": ("Le libellé compte au plus 0 caractère.", "Le libellé compte au plus 1 caractère.",
           "Le libellé compte au plus 2 caractères.", "Le libellé compte au plus 3 caractères.",
           "Le libellé compte au plus 11 caractères.", "Le libellé compte au plus 100 caractères."),
    "ar": ("لا تتجاوز التسمية 0 حرف.", "لا تتجاوز التسمية حرفًا واحدًا.", "لا تتجاوز التسمية حرفين.",
           "لا تتجاوز التسمية 3 أحرف.", "لا تتجاوز التسمية 11 حرفًا.", "لا تتجاوز التسمية 100 حرف."),
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_counted_phrases_in_the_templates_and_in_python(lang: str) -> None:
    template = environment(lang).from_string(
        '{{ ngettext("%(num)s member", "%(num)s members", n) }}|'
        '{{ ngettext("Hash chain intact: %(num)s entry verified.", '
        '"Hash chain intact: %(num)s entries verified.", n) }}|'
        '{{ ngettext("%(num)s assertion visible to your organisation", '
        '"%(num)s assertions visible to your organisation", n) }}'
    )
    for index, n in enumerate(COUNTS):
        members, chain, assertions = template.render(n=n).split("|")
        assert members == MEMBERS[lang][index], (lang, n, members)
        assert chain == CHAIN[lang][index], (lang, n, chain)
        assert assertions == ASSERTIONS[lang][index], (lang, n, assertions)
        errors = FieldErrors(lang)
        errors.add_said("label", errors.ngettext("The label is at most %(num)s character.",
                                                 "The label is at most %(num)s characters.", n))  # fmt: skip
        assert errors["label"] == LABEL[lang][index], (lang, n, errors["label"])


def test_arabic_forms_follow_the_last_two_digits_and_french_millions_read_as_plural() -> None:
    counted = ngettext("ar")
    said = [counted("%(num)s member", "%(num)s members", n) for n in (103, 111, 200, 1002)]
    assert said == ["103 أعضاء", "111 عضوًا", "200 عضو", "1002 عضو"]
    assert ngettext("fr")("%(num)s member", "%(num)s members", 2_000_000) == "2000000 membres"


@pytest.mark.parametrize(
    ("lang", "counts", "sentence"),
    [
        ("en", (1, 2, 1), "1 item (2 statements) in 1 country"),
        ("en", (3, 1, 11), "3 items (1 statement) in 11 countries"),
        ("fr", (0, 1, 2), "0 élément (1 déclaration) dans 2 pays"),
        ("fr", (2, 100, 1), "2 éléments (100 déclarations) dans 1 pays"),
        ("ar", (1, 2, 2), "عنصر واحد (إفادتان) في دولتين"),
        ("ar", (2, 1, 1), "عنصران (إفادة واحدة) في دولة واحدة"),
        ("ar", (3, 11, 100), "3 عناصر (11 إفادة) في 100 دولة"),
        ("ar", (11, 3, 5), "11 عنصرًا (3 إفادات) في 5 دول"),
    ],
)  # fmt: skip
def test_a_chapter_line_of_several_counts_gives_each_its_form(
    lang: str, counts: tuple[int, int, int], sentence: str
) -> None:
    # the assessment's chapter line, as _assessment_result.html writes it
    template = environment(lang).from_string(
        '{{ _("%(items)s (%(statements)s) in %(countries)s", '
        'items=ngettext("%(num)s item", "%(num)s items", i), '
        'statements=ngettext("%(num)s statement", "%(num)s statements", s), '
        'countries=ngettext("%(num)s country", "%(num)s countries", c)) }}'
    )
    items, statements, countries = counts
    assert template.render(i=items, s=statements, c=countries) == sentence


def test_an_arabic_cluster_page_and_tokens_form_say_their_counts_in_arabic_forms(
    browser: Browser,
) -> None:
    browser.sign_in("fiji.officer")
    browser.client.cookies.set("marsad_lang", "ar")
    data = browser.client.get(f"/observables/domain/{GREEN_HOST}", params={"format": "json"}).json()
    page = browser.client.get(f"/clusters/{data['cluster']}").text
    assert ": 3 أعضاء</h1>" in page  # 3-10: the plural with its numeral
    assert "3 عضو" not in page and "3 members" not in page
    tokens = browser.client.get("/admin/tokens").text
    for days in ("7 أيام", "30 يومًا", "90 يومًا", "180 يومًا", "365 يومًا"):
        assert f">{days}</option>" in tokens, days
    browser.client.cookies.set("marsad_lang", "en")
    english = browser.client.get("/admin/tokens").text
    assert ">7 days</option>" in english
