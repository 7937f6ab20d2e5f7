"""The language of a product: English, Arabic (right to left) or French.

The words of the products live in a gettext catalogue of their own domain, ``products``
(``marsad/products/locale/<lang>/LC_MESSAGES/products.po``), managed with Babel like the
web's ``messages`` catalogue and, like it, compiled in memory on first use: no build step
and no ``.mo`` file. Only words are translated: JSON keys, STIX vocabularies, TLP and PAP
labels, threat types, values and dates stay as they are, so a machine reads every
language's product alike. Country names come from pycountry's own ISO 3166 catalogues.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pycountry
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from marsad.model.errors import MarsadError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "products"
DIRECTION: dict[str, str] = {"en": "ltr", "ar": "rtl", "fr": "ltr"}
LANGUAGES = tuple(DIRECTION)
DEFAULT = "en"

Gettext = Callable[[str], str]


class NGettext(Protocol):
    """``ngettext`` of a language: the form of a counted phrase for ``n``, with ``%(num)s``
    (and any other values given) filled in."""

    def __call__(self, singular: str, plural: str, n: int, /, **values: object) -> str: ...


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


def checked(lang: str | None) -> str:
    """The language code asked for, checked (None: English)."""
    code = (lang or DEFAULT).strip().lower()
    if code not in DIRECTION:
        raise MarsadError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return code


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The products catalogue of ``lang`` compiled from its .po file (English: as written)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(lang: str) -> Gettext:
    """``gettext`` of a language, for words built in Python."""
    return translations(checked(lang)).gettext


def ngettext(lang: str) -> NGettext:
    """``ngettext`` of a language, for counted words built in Python: the phrase in the form
    the catalogue's Plural-Forms give ``n`` (English: 1, else; French: 0 and 1, millions,
    else; Arabic: 0, 1, 2, 3-10, 11-99, 100 and more), formatted with ``num=n`` like the
    templates' ``ngettext`` (Jinja2's newstyle). A sentence with several counts is built
    from one such phrase per count."""
    forms = translations(checked(lang)).ngettext

    def counted(singular: str, plural: str, n: int, /, **values: object) -> str:
        return forms(singular, plural, n) % {"num": n, **values}

    return counted


@functools.cache
def _countries(lang: str) -> _gettext.NullTranslations:
    return _gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def country_name(code: str, lang: str = DEFAULT) -> str:
    """The short name of an ISO 3166-1 alpha-2 code in ``lang`` (the code if unknown)."""
    found = pycountry.countries.get(alpha_2=code.upper())
    if not found:
        return code.upper()
    name = str(found.name)
    return name if lang == DEFAULT else _countries(lang).gettext(name)


REGION_NAMES: dict[str, str] = {
    "global": N_("Global"),
    "africa": N_("Africa"),
    "americas": N_("Americas"),
    "asia-south-pacific": N_("Asia South Pacific"),
    "europe": N_("Europe"),
    "middle-east-north-africa": N_("Middle East North Africa"),
}


def region_name(region: str, _: Gettext) -> str:
    """A region's name in the product's language (its slug, titled, if unknown)."""
    return _(REGION_NAMES.get(region, region.replace("-", " ").title()))


def network_name(label: str, _: Gettext) -> str:
    """A stored network's label (``network 12``) in the product's language."""
    return _("network %(id)s") % {"id": label.removeprefix("network ")}


# How an item was placed in a country (`activity_data`), as the report words it.
_LOCATED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"IP geolocated in (?P<where>\S+)"), N_("IP geolocated in %(where)s")),
    (re.compile(r"\.(?P<where>\S+) domain"), N_(".%(where)s domain")),
    (re.compile(r"resolves to (?P<where>.+)"), N_("resolves to %(where)s")),
    (re.compile(r"hosted on (?P<where>.+)"), N_("hosted on %(where)s")),
    (re.compile(r"reported by (?P<where>.+)"), N_("reported by %(where)s")),
)


def located(text: str, _: Gettext) -> str:
    """Why an item concerns the country, in the report's language (the text if unknown)."""
    for pattern, message in _LOCATED:
        if m := pattern.fullmatch(text):
            return _(message) % {"where": m["where"]}
    return _(text)
