"""Users, their memberships in organisations, and API tokens.

Passwords are hashed with argon2. API tokens are 256-bit random secrets shown once; only
their sha256 is stored (a slow hash adds nothing to that much entropy and would cost every
request), with a short prefix to name them. A token is scoped to one organisation and one
role, and expires. Its last use is kept to the minute: written at most once a minute per
token, so a busy script does not turn every request into a write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from marsad.access.policy import Role, Viewer, role_within
from marsad.model.errors import MarsadError
from marsad.store.bulk import as_utc
from marsad.store.schema import api_tokens, memberships, organisations, users
from marsad.store.store import Store

TOKEN_PREFIX = "msd_"
USE_RECORDED_EVERY = dt.timedelta(minutes=1)
"""A token's last use is written when the stored one is older than this (or absent)."""
log = logging.getLogger("marsad.access")
_hasher = PasswordHasher()


class AccessDenied(MarsadError):
    """Authentication failed or the request is not allowed; the message says which."""


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    """A user with the organisations they belong to and their role in each."""

    id: int
    name: str
    disabled: bool
    memberships: dict[str, Role]


class TokenRow(msgspec.Struct, frozen=True, kw_only=True):
    """An API token as listed (never its secret)."""

    id: int
    prefix: str
    user: str
    org: str
    role: Role
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None = None


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is authenticated: a user acting for one organisation in one role."""

    user: str
    viewer: Viewer


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_password(password: str) -> None:
    if len(password) < 12:
        raise AccessDenied("passwords must be at least 12 characters long")


def add_user(store: Store, name: str, org: str, role: Role, password: str | None) -> UserRow:
    """Create a user who belongs to ``org`` with ``role``."""
    clean = name.strip()
    if not clean or len(clean) > 200:
        raise AccessDenied("user names must be 1-200 characters")
    if password is not None:
        _check_password(password)
    org_id = store.org(org).id
    try:
        with store.engine.begin() as conn:
            user_id = conn.execute(
                insert(users).values(
                    name=clean,
                    password_hash=_hasher.hash(password) if password else None,
                    disabled=False,
                    created_at=_now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(insert(memberships).values(user_id=user_id, org_id=org_id, role=role))
    except IntegrityError:
        raise AccessDenied(f"a user named {clean!r} already exists") from None
    return user(store, clean)


def add_membership(store: Store, name: str, org: str, role: Role) -> UserRow:
    """Let an existing user act for another organisation (or change their role there)."""
    found = user(store, name)
    org_id = store.org(org).id
    with store.engine.begin() as conn:
        done = conn.execute(
            update(memberships)
            .where(memberships.c.user_id == found.id, memberships.c.org_id == org_id)
            .values(role=role)
        ).rowcount
        if not done:
            conn.execute(insert(memberships).values(user_id=found.id, org_id=org_id, role=role))
    return user(store, name)


def _membership_map(conn: Any, user_ids: list[int]) -> dict[int, dict[str, Role]]:
    rows = conn.execute(
        select(memberships.c.user_id, organisations.c.name, memberships.c.role)
        .join(organisations, organisations.c.id == memberships.c.org_id)
        .where(memberships.c.user_id.in_(user_ids))
        .order_by(organisations.c.name)
    )
    out: dict[int, dict[str, Role]] = {i: {} for i in user_ids}
    for uid, org, role in rows:
        out[uid][org] = Role(role)
    return out


def list_users(store: Store) -> list[UserRow]:
    """Every user, by name."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.name)).all()
        member = _membership_map(conn, [r.id for r in rows])
    return [
        UserRow(id=r.id, name=r.name, disabled=bool(r.disabled), memberships=member[r.id])
        for r in rows
    ]


def user(store: Store, name: str) -> UserRow:
    """The user called ``name``."""
    for row in list_users(store):
        if row.name == name:
            return row
    raise AccessDenied(f"no user named {name!r} (see `marsad user list`)")


def set_disabled(store: Store, name: str, disabled: bool = True) -> UserRow:
    """Disable (or re-enable) a user: their password and tokens stop working at once."""
    with store.engine.begin() as conn:
        done = conn.execute(
            update(users).where(users.c.name == name).values(disabled=disabled)
        ).rowcount
    if not done:
        raise AccessDenied(f"no user named {name!r} (see `marsad user list`)")
    return user(store, name)


def _principal(store: Store, name: str, org: str | None, role_cap: Role | None) -> Principal:
    found = user(store, name)
    if found.disabled:
        raise AccessDenied(f"user {name!r} is disabled")
    if org is None:
        if len(found.memberships) != 1:
            raise AccessDenied(
                f"user {name!r} belongs to several organisations; say which one to act for"
            )
        org = next(iter(found.memberships))
    if org not in found.memberships:
        raise AccessDenied(f"user {name!r} is not a member of {org!r}")
    role = role_cap or found.memberships[org]
    return Principal(user=name, viewer=store.viewer(org, role))


def login(store: Store, name: str, password: str, org: str | None = None) -> Principal:
    """Check a password; the same message for an unknown user and a wrong password."""
    with store.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == name)).first()
    try:
        if stored is None or stored.password_hash is None:
            raise VerificationError
        _hasher.verify(stored.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise AccessDenied("unknown user or wrong password") from None
    return _principal(store, name, org, None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    store: Store,
    name: str,
    org: str | None = None,
    role: Role | None = None,
    *,
    days: int | None = 90,
    label: str | None = None,
) -> tuple[str, TokenRow]:
    """A new API token for a user, for one organisation; the secret is returned once."""
    who = _principal(store, name, org, None)
    member_role = who.viewer.role
    if role is not None and not role_within(role, member_role):
        raise AccessDenied(
            f"user {name!r} is {member_role.value} in {who.viewer.org_name!r}: "
            f"a {role.value} token would allow more"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now, user_id = _now(), user(store, name).id
    with store.engine.begin() as conn:
        token_id = conn.execute(
            insert(api_tokens).values(
                token_hash=_digest(secret), prefix=secret[:12],
                user_id=user_id, org_id=who.viewer.org_id,
                role=(role or member_role).value, label=label, created_at=now,
                expires_at=now + dt.timedelta(days=days) if days else None,
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    [row] = [t for t in list_tokens(store) if t.id == token_id]
    return secret, row


def _token_query() -> Any:
    return (
        select(api_tokens, users.c.name.label("user_name"), organisations.c.name.label("org_name"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .join(organisations, organisations.c.id == api_tokens.c.org_id)
    )


def list_tokens(
    store: Store, user_name: str | None = None, *, org: str | None = None
) -> list[TokenRow]:
    """Tokens (not their secrets), newest first: a user's, an organisation's, or all."""
    query = _token_query().order_by(api_tokens.c.id.desc())
    if user_name:
        query = query.where(users.c.name == user_name)
    if org:
        query = query.where(organisations.c.name == org)
    with store.engine.connect() as conn:
        return [
            TokenRow(
                id=r.id, prefix=r.prefix, user=r.user_name, org=r.org_name, role=Role(r.role),
                label=r.label, created_at=as_utc(r.created_at),  # type: ignore[arg-type]
                expires_at=as_utc(r.expires_at), revoked_at=as_utc(r.revoked_at),
                last_used_at=as_utc(r.last_used_at),
            )
            for r in conn.execute(query)
        ]  # fmt: skip


def revoke_token(store: Store, prefix: str) -> TokenRow:
    """Revoke a token by its prefix (as listed) or its id."""
    cond = api_tokens.c.id == int(prefix) if prefix.isdigit() else api_tokens.c.prefix == prefix
    with store.engine.begin() as conn:
        done = conn.execute(
            update(api_tokens)
            .where(cond, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        ).rowcount
    if not done:
        raise AccessDenied(f"no active token {prefix!r} (see `marsad token list`)")
    return next(t for t in list_tokens(store) if t.prefix == prefix or str(t.id) == prefix)


def authenticate(store: Store, secret: str) -> Principal:
    """The principal a bearer token stands for; one message for every failure kind."""
    with store.engine.connect() as conn:
        row = conn.execute(
            _token_query()
            .add_columns(users.c.disabled)
            .where(api_tokens.c.token_hash == _digest(secret))
        ).first()
    now = _now()
    if (
        row is None
        or row.revoked_at is not None
        or row.disabled
        or (row.expires_at is not None and as_utc(row.expires_at) <= now)  # type: ignore[operator]
    ):
        raise AccessDenied("invalid, expired or revoked token")
    last = as_utc(row.last_used_at)
    if last is None or now - last >= USE_RECORDED_EVERY:
        note_use(store, row.id, now)
    return Principal(user=row.user_name, viewer=store.viewer(row.org_name, Role(row.role)))


def note_use(store: Store, token_id: int, now: dt.datetime) -> bool:
    """Record that a token was used now, unless it was within the last minute; whether it
    wrote. The condition sits in the UPDATE, so workers racing on one token write once; a
    busy database skips it (the next request after a minute tries again)."""
    t = api_tokens.c
    stale = now - USE_RECORDED_EVERY
    try:
        with store.engine.begin() as conn:
            done = conn.execute(
                update(api_tokens)
                .where(t.id == token_id, (t.last_used_at.is_(None)) | (t.last_used_at <= stale))
                .values(last_used_at=now)
            ).rowcount
    except OperationalError as exc:  # never refuse a request for want of this write
        log.warning("token %s: last use not recorded (%s)", token_id, exc.orig)
        return False
    return bool(done)
