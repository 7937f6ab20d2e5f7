"""The one access policy: who may see an assertion, and who may act on it.

Every read path (CLI, API, TAXII, search, export, products, UI, alerts) asks this module.
The rules live in one place, `grant_for`, which turns a viewer into a `Grant`: the exact
set of markings that viewer may see. A grant is then applied two ways that must always
agree (a property test checks it): `may_see` on one record in Python, and
`marsad.store.visibility.visible` as a SQL predicate for bulk reads in the database.

Rules (TLP 2.0 as the cooperation applies it on the platform):
- The owner and the source of a record always see it, expired or not.
- After ``retain_until`` a record is hidden from everyone else until the owner reviews it.
- TLP:CLEAR: anyone, the public included. TLP:GREEN: every member and partner organisation.
- TLP:AMBER: the recipients and their national sub-units. TLP:AMBER+STRICT: the recipient
  organisations only. TLP:RED: organisations named one by one (``org:NAME``) only.
- Recipients are the releasability list (named organisations, regions' member units, all
  members, partners); an empty list means the platform's coordinators (hubs and regional
  desks) receive it, as a partner's submission to the hub does.
- Acting (takedown request, active check) also needs PAP:CLEAR or PAP:GREEN, or the owner.
- An action taken on a record (blocked, taken down, …) shows to the acting organisation and
  to the record's owner and source, only while the viewer may still see the record; the
  acting person's name stays inside the acting organisation.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import msgspec
import orjson

from marsad.model.handling import PAP, TLP
from marsad.model.organisation import OrgKind


class Role(StrEnum):
    """What a user may do inside an organisation (visibility is the organisation's)."""

    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"
    OFFICER = "officer"
    PARTNER_SUBMITTER = "partner-submitter"
    AUDITOR = "auditor"
    READ_ONLY = "read-only"


class Action(StrEnum):
    """Things a user does; reading is governed by visibility, the rest by role and PAP."""

    READ = "read"
    SUBMIT = "submit"
    TRIAGE = "triage"  # acknowledge and work alerts: a change of state, not a read
    EXPORT = "export"
    TAKEDOWN_REQUEST = "takedown-request"
    ACTIVE_CHECK = "active-check"
    READ_AUDIT = "read-audit"
    RECORD_ACTION = "record-action"  # report what one's organisation did about a record
    ADMINISTER = "administer"


_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMINISTRATOR: frozenset(Action),
    Role.ANALYST: frozenset(
        {Action.READ, Action.SUBMIT, Action.TRIAGE, Action.EXPORT, Action.RECORD_ACTION}
        | {Action.TAKEDOWN_REQUEST, Action.ACTIVE_CHECK}
    ),
    Role.OFFICER: frozenset(
        {Action.READ, Action.SUBMIT, Action.TRIAGE, Action.EXPORT, Action.RECORD_ACTION}
        | {Action.TAKEDOWN_REQUEST, Action.ACTIVE_CHECK}
    ),
    Role.PARTNER_SUBMITTER: frozenset(
        {Action.READ, Action.SUBMIT, Action.TRIAGE, Action.RECORD_ACTION}
    ),
    Role.AUDITOR: frozenset({Action.READ, Action.READ_AUDIT}),
    Role.READ_ONLY: frozenset({Action.READ}),
}

ACTIVE_ACTIONS = frozenset({Action.TAKEDOWN_REQUEST, Action.ACTIVE_CHECK})
COORDINATORS = frozenset({OrgKind.HUB, OrgKind.REGIONAL_DESK})


class Viewer(msgspec.Struct, frozen=True, kw_only=True):
    """Who is asking: an organisation (with its place in the network) and a role.

    ``org_id`` None is the public (TLP:CLEAR only). ``operator`` is the local operator of
    the instance (the shell that owns the database file), who sees everything.
    """

    org_id: int | None
    org_name: str | None = None
    kind: OrgKind | None = None
    region: str | None = None
    parents: tuple[str, ...] = ()  # names of the units above this one, nearest first
    role: Role = Role.READ_ONLY
    operator: bool = False

    @property
    def label(self) -> str:
        if self.operator:
            return "local-operator"
        return self.org_name or "public"


PUBLIC = Viewer(org_id=None)
OPERATOR = Viewer(org_id=None, role=Role.ADMINISTRATOR, operator=True)


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    """What the policy needs to know of a record: its owner, source and handling."""

    owner_org_id: int
    source_org_id: int
    tlp: int  # TLP rank
    pap: int  # PAP rank
    releasable_to: tuple[str, ...] = ()  # releasability tokens
    retain_until: dt.date | None = None


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """The markings one viewer may see, in a form both Python and SQL can apply."""

    everything: bool = False
    own_org_ids: frozenset[int] = frozenset()
    open_tlp: int = -1  # records at or below this TLP rank are visible to the viewer
    amber: frozenset[str] = frozenset()  # tokens making the viewer a TLP:AMBER recipient
    strict: frozenset[str] = frozenset()  # … a TLP:AMBER+STRICT recipient
    red: frozenset[str] = frozenset()  # … a TLP:RED recipient
    default_recipient: bool = False  # receives records with no releasability list
    today: dt.date = dt.date(1970, 1, 1)


def grant_for(viewer: Viewer, today: dt.date) -> Grant:
    """The single place the sharing rules live."""
    if viewer.operator:
        return Grant(everything=True, today=today)
    if viewer.org_id is None or viewer.org_name is None:
        return Grant(open_tlp=TLP.CLEAR.rank, today=today)
    me = f"org:{viewer.org_name}"
    partner = viewer.kind == OrgKind.PRIVATE_PARTNER
    groups = {"partners"} if partner else {"members"}
    if viewer.region and not partner:
        groups.add(f"region:{viewer.region}")
    return Grant(
        own_org_ids=frozenset({viewer.org_id}),
        open_tlp=TLP.GREEN.rank,
        amber=frozenset({me, *groups, *(f"org:{p}" for p in viewer.parents)}),
        strict=frozenset({me, *groups}),
        red=frozenset({me}),
        default_recipient=viewer.kind in COORDINATORS,
        today=today,
    )


def may_see(grant: Grant, mark: Mark) -> bool:
    """Whether the grant covers this record (the Python twin of the SQL predicate)."""
    if grant.everything or mark.owner_org_id in grant.own_org_ids:
        return True
    if mark.source_org_id in grant.own_org_ids:
        return True
    if mark.retain_until is not None and mark.retain_until < grant.today:
        return False
    if mark.tlp <= grant.open_tlp:
        return True
    tokens = set(mark.releasable_to)
    if mark.tlp == TLP.AMBER.rank:
        return bool(tokens & grant.amber) or (not tokens and grant.default_recipient)
    if mark.tlp == TLP.AMBER_STRICT.rank:
        return bool(tokens & grant.strict) or (not tokens and grant.default_recipient)
    if mark.tlp == TLP.RED.rank:
        return bool(tokens & grant.red)
    return False


def may(viewer: Viewer, action: Action) -> bool:
    """Whether the viewer's role allows an action at all."""
    return viewer.operator or action in _ROLE_ACTIONS[viewer.role]


def role_within(role: Role, cap: Role) -> bool:
    """Whether ``role`` allows nothing that ``cap`` does not (a token's role under its user's)."""
    return _ROLE_ACTIONS[role] <= _ROLE_ACTIONS[cap]


def may_act(
    viewer: Viewer, grant: Grant, mark: Mark, action: Action, *, owner_permits: bool = False
) -> bool:
    """Whether the viewer may take an action on a record it can see.

    Active actions (a takedown request, an active check) reveal interest to the target,
    so they need PAP:CLEAR or PAP:GREEN, ownership, or the owner's explicit permission.
    """
    if not may(viewer, action) or not may_see(grant, mark):
        return False
    if action not in ACTIVE_ACTIONS:
        return True
    return (
        grant.everything
        or mark.pap <= PAP.GREEN.rank
        or mark.owner_org_id in grant.own_org_ids
        or owner_permits
    )


def may_record_action(viewer: Viewer, grant: Grant, mark: Mark) -> bool:
    """Whether the viewer may record an action its organisation took on a record.

    Recording reports what was done elsewhere and authorises nothing, so it needs the role
    and a record the viewer may see, not the PAP that governs acting through the platform.
    """
    return viewer.org_id is not None and may(viewer, Action.RECORD_ACTION) and may_see(grant, mark)


def may_see_action(grant: Grant, mark: Mark, actor_org_id: int) -> bool:
    """Whether an action taken on a record shows to the grant: to the acting organisation
    and the record's owner and source, and only while the grant still covers the record."""
    if not may_see(grant, mark):
        return False
    parties = {actor_org_id, mark.owner_org_id, mark.source_org_id}
    return grant.everything or bool(parties & grant.own_org_ids)


def shows_acting_user(grant: Grant, actor_org_id: int) -> bool:
    """Whether the grant learns which person recorded an action (others see the organisation)."""
    return grant.everything or actor_org_id in grant.own_org_ids


def tokens_of(releasable_to: str | None) -> tuple[str, ...]:
    """Releasability tokens from their stored JSON form."""
    if not releasable_to:
        return ()
    return tuple(orjson.loads(releasable_to))


def json_token(token: str) -> str:
    """A token exactly as it appears inside the stored JSON list (quotes included)."""
    return orjson.dumps(token).decode()


EVERYTHING = Grant(everything=True)
"""The operator's grant: for maintenance paths and tests that must see every record."""
