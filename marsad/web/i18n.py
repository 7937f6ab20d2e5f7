"""Languages of the web application: English, Arabic (right to left) and French.

Translations live in gettext catalogues managed with Babel
(``marsad/web/locale/<lang>/LC_MESSAGES/messages.po``); they are compiled in memory when
the application starts, so no build step or ``.mo`` file is needed. Each language has its
own Jinja environment with its translations installed (autoescaping on for every template).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any, Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from marsad.products import language as products_language

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "ar": ("العربية", "rtl"),
    "fr": ("Français", "ltr"),
}
DEFAULT = "en"
LANG_COOKIE = "marsad_lang"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang`` compiled from its .po file (English: the messages as written)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


@functools.cache
def environment(lang: str) -> Environment:
    """The Jinja environment of one language."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"], default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["languages"] = LANGUAGES
    # a product's words shown in a page (its actions, sections, countries, region) come
    # from the products' own catalogue, so the page and the download say the same
    words = products_language.gettext(lang)
    env.globals["product_word"] = words
    env.globals["country_name"] = lambda code: products_language.country_name(code, lang)
    env.globals["region_name"] = lambda region: products_language.region_name(region, words)
    return env


def pick(cookie: str | None, accept_language: str | None) -> str:
    """The language: the visitor's choice, else the best of their browser's, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def gettext(lang: str) -> Any:
    """``gettext`` of a language, for messages built in Python."""
    return translations(lang).gettext


class NGettext(Protocol):
    """``ngettext`` of a language: the form of a counted message for ``n``, with ``%(num)s``
    (and any other values given) filled in."""

    def __call__(self, singular: str, plural: str, n: int, /, **values: object) -> str: ...


def ngettext(lang: str) -> NGettext:
    """``ngettext`` of a language, for counted messages built in Python: the form the
    catalogue's Plural-Forms give ``n`` (English: 1, else; French: 0 and 1, millions, else;
    Arabic: 0, 1, 2, 3-10, 11-99, 100 and more), formatted with ``num=n`` like the templates'
    ``ngettext`` (Jinja2's newstyle). A sentence with several counts is built from one such
    phrase per count."""
    forms = translations(lang).ngettext

    def counted(singular: str, plural: str, n: int, /, **values: object) -> str:
        return forms(singular, plural, n) % {"num": n, **values}

    return counted


def failure(error: BaseException, lang: str, unexpected: str) -> str:
    """What a failed background build says: our own error's sentence as it is, anything else
    the page's ``unexpected`` message in ``lang`` (the error itself is in the server log)."""
    from marsad.model.errors import MarsadError

    return str(error) if isinstance(error, MarsadError) else str(gettext(lang)(unexpected))
