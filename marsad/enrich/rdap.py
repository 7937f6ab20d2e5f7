"""Reading RDAP answers (RFC 9083): the network's registration and its abuse contacts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec


class Contact(msgspec.Struct, frozen=True):
    """One RDAP entity with a role we report (abuse first)."""

    roles: tuple[str, ...]
    handle: str | None
    name: str | None
    emails: tuple[str, ...]
    phones: tuple[str, ...]


class RdapRecord(msgspec.Struct, frozen=True):
    """What an RDAP answer says about an address, network, AS or domain."""

    query: str
    object_class: str | None
    handle: str | None
    name: str | None
    country: str | None
    abuse: tuple[Contact, ...]


def _entities(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entity in node.get("entities") or ():
        if isinstance(entity, Mapping):
            yield entity
            yield from _entities(entity)


def _vcard(entity: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    card = entity.get("vcardArray")
    name: str | None = None
    emails: list[str] = []
    phones: list[str] = []
    props = (
        card[1] if isinstance(card, list) and len(card) == 2 and isinstance(card[1], list) else []
    )
    for prop in props:
        if not (isinstance(prop, list) and len(prop) >= 4):
            continue
        key, value = prop[0], prop[3]
        if key == "fn" and isinstance(value, str):
            name = value
        elif key == "email" and isinstance(value, str):
            emails.append(value)
        elif key == "tel" and isinstance(value, str):
            phones.append(value.removeprefix("tel:"))
    return name, tuple(emails), tuple(phones)


def read_rdap(query: str, answer: Mapping[str, Any]) -> RdapRecord:
    """The registration and abuse contacts in one RDAP JSON answer."""
    abuse: list[Contact] = []
    for entity in _entities(answer):
        roles = tuple(str(r) for r in entity.get("roles") or ())
        if "abuse" not in roles:
            continue
        name, emails, phones = _vcard(entity)
        handle = entity.get("handle")
        abuse.append(
            Contact(roles, handle if isinstance(handle, str) else None, name, emails, phones)
        )

    def text(key: str) -> str | None:
        value = answer.get(key)
        return value if isinstance(value, str) else None

    return RdapRecord(
        query=query,
        object_class=text("objectClassName"),
        handle=text("handle"),
        name=text("name") or text("ldhName"),
        country=text("country"),
        abuse=tuple(abuse),
    )
