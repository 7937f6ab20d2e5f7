"""TAXII collections: one per sharing scope, plus each organisation's own inbox.

Scope collections hold the assertions marked with one TLP (``all``: every TLP) *that the
caller may see*: the policy filters every page in the database, so two organisations
reading the same collection get different objects. Ids are the same on every Marsad
instance (UUIDv5 of the alias), so a federation is configured once for all instances.
The inbox (``alias: inbox``) is write-only and listed only to its own organisation: what
is posted there is ingested as a submission from that organisation.
"""

from __future__ import annotations

import uuid
from typing import Final

import msgspec

from marsad.access.policy import Action, Viewer, may
from marsad.formats.stix21_export import MARSAD_NS
from marsad.model.handling import TLP

STIX_MEDIA: Final = "application/stix+json;version=2.1"


class Collection(msgspec.Struct, frozen=True, kw_only=True):
    """One collection as a caller sees it."""

    id: str
    alias: str
    title: str
    description: str
    tlp: int | None = None  # the TLP rank it holds; None: all
    inbox_of: str | None = None  # the organisation whose inbox this is

    def resource(self, viewer: Viewer) -> dict[str, object]:
        """The TAXII collection resource, with what this caller may do."""
        inbox = self.inbox_of is not None
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "alias": self.alias,
            "can_read": not inbox and may(viewer, Action.READ),
            "can_write": inbox and may(viewer, Action.SUBMIT),
            "media_types": [STIX_MEDIA],
        }


def _cid(name: str) -> str:
    return str(uuid.uuid5(MARSAD_NS, f"taxii-collection/{name}"))


SCOPES: Final[tuple[Collection, ...]] = (
    Collection(
        id=_cid("all"),
        alias="all",
        title="Everything you may see",
        description="Every assertion the access policy releases to your organisation.",
    ),
    *(
        Collection(
            id=_cid(t.value.replace("+", "-")),
            alias=t.value.replace("+", "-"),
            title=t.label,
            description=f"Assertions marked {t.label} that the access policy releases to you.",
            tlp=t.rank,
        )
        for t in TLP
    ),
)
_BY_ID: Final = {c.id: c for c in SCOPES}


def inbox(org_name: str) -> Collection:
    """The inbox of one organisation."""
    return Collection(
        id=_cid(f"inbox/{org_name}"),
        alias="inbox",
        title=f"Inbox of {org_name}",
        description="Write-only: objects posted here are ingested as a submission from "
        f"{org_name}, with the handling their markings carry.",
        inbox_of=org_name,
    )


def collections_for(viewer: Viewer) -> list[Collection]:
    """What this caller is shown: the scope collections and its own inbox."""
    own = [inbox(viewer.org_name)] if viewer.org_name else []
    return [*SCOPES, *own]


def resolve(collection_id: str, viewer: Viewer) -> Collection | None:
    """The collection an id names for this caller; None for unknown or someone else's."""
    found = _BY_ID.get(collection_id)
    if found is not None:
        return found
    if viewer.org_name and collection_id == inbox(viewer.org_name).id:
        return inbox(viewer.org_name)
    return None
