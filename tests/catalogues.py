"""Checks shared by the web's and the products' gettext catalogues (`messages`, `products`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

Msgid = str | tuple[str, str]  # a counted phrase's id: its singular and plural
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")
COUNT = "%(num)s"  # a counted phrase's count, as the templates' newstyle ngettext fills it
SAMPLE = [*range(1000), 1_000_000, 2_000_000]  # every plural form of en, ar and fr is here


def messages(path: Path) -> dict[Msgid, tuple[str, ...]]:
    """Each message of a catalogue with its translation: one string, or one per plural form."""
    with path.open("rb") as fh:
        return {
            m.id if isinstance(m.id, str) else (m.id[0], m.id[1]):
            (m.string,) if isinstance(m.string, str) else tuple(m.string)
            for m in read_po(fh) if m.id
        }  # fmt: skip


def _says(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def assert_translated(
    pot: Path, po: Path, lang: str, translations: Callable[[str], NullTranslations]
) -> None:
    """Every message of ``pot`` is translated in ``po`` with the same placeholders, and a
    counted one in every plural form of the language, each form carrying the count unless
    it is the form of one number only (Arabic's 1 and 2)."""
    wanted, done = messages(pot), messages(po)
    with po.open("rb") as fh:
        nplurals = read_po(fh, locale=lang).num_plurals
    empty = sorted(str(m) for m in wanted if not all(done.get(m, ("",))))
    assert not empty, (lang, empty[:5])
    plural: Any = translations(lang).plural
    for msgid in wanted:
        if isinstance(msgid, str):
            assert _says(msgid) == _says(done[msgid][0]), (lang, msgid)
            continue
        singular, plural_id = msgid
        assert COUNT in _says(plural_id), msgid
        others = [p for p in _says(plural_id) if p != COUNT]
        assert [p for p in _says(singular) if p != COUNT] == others, msgid
        forms = done[msgid]
        assert len(forms) == nplurals, (lang, msgid)
        for index, form in enumerate(forms):
            assert [p for p in _says(form) if p != COUNT] == others, (lang, msgid, index)
            assert _says(form).count(COUNT) <= 1, (lang, msgid, index)
            numbers = [n for n in SAMPLE if plural(n) == index]
            assert numbers, (lang, index)  # every form is some number's
            if len(numbers) > 1:
                assert COUNT in _says(form), (lang, msgid, index, form)


def extracted(folder: Path, templates: str) -> set[Msgid]:
    """The messages `pybabel extract` finds in ``folder``'s code and ``templates``."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**.py", "python"), (templates, "jinja2.ext.babel_extract")]
    options = {templates: {"extensions": "jinja2.ext.i18n",
                           "trim_blocks": "True", "lstrip_blocks": "True"}}  # fmt: skip
    return {
        m if isinstance(m, str) else (m[0], m[1])
        for _f, _l, m, _c, _x in extract_from_dir(folder, method_map, options)
    }
