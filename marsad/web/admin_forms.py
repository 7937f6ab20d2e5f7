"""What the administration forms share: the posted fields, and errors named by field.

A form that does not validate is shown again with what was typed, and each message next to
the field it is about (``aria-describedby``), translated into the page's language.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from marsad.web.auth import clean
from marsad.web.i18n import gettext, ngettext


class Posted:
    """A posted form's text fields, control characters removed."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def get(self, name: str, default: str = "") -> str:
        """The field's first value, trimmed."""
        return next((v.strip() for k, v in self.items if k == name), default)

    def all(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes), trimmed."""
        return [v.strip() for k, v in self.items if k == name]


async def posted(request: Request) -> Posted:
    """The form of this request (already read once by the CSRF check; Starlette keeps it)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return Posted([])
    form = await request.form(max_files=1, max_fields=50)
    return Posted([(k, clean(v)) for k, v in form.multi_items() if isinstance(v, str)])


Form = Annotated[Posted, Depends(posted)]


class FieldErrors(dict[str, str]):
    """Messages by field name, translated as they are added."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self._ = gettext(lang)
        self.ngettext = ngettext(lang)  # counted messages, for `add_said`

    def add(self, field: str, message: str, **params: str) -> None:
        """Note what is wrong with ``field`` (the first problem of a field is kept)."""
        text = self._(message)
        self.setdefault(field, text % params if params else text)

    def add_said(self, field: str, text: str) -> None:
        """Note a message already in the page's language (a counted one: ``self.ngettext``)."""
        self.setdefault(field, text)
