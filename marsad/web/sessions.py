"""Web sessions and CSRF tokens, kept in the store so sign-out and disabling a user bite at once.

The session cookie holds a random id and its HMAC under the instance's web secret; the row
(in ``instance_state``, keyed by the id's sha256 so the table never holds a live cookie)
says which user acts for which organisation, until when. A forged or stale cookie is
refused before any row is read. CSRF tokens are the HMAC of the session id (or, before
sign-in, of a random pre-session cookie): a synchroniser token that needs no storage and
changes whenever the session does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import msgspec
import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from marsad.store.schema import instance_state
from marsad.store.store import Store

SESSION_COOKIE = "marsad_session"
PRE_COOKIE = "marsad_pre"
LIFETIME = dt.timedelta(hours=12)
_SECRET_KEY = "web-secret"
_PREFIX = "web-session:"


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in browser: its id, the user and the organisation they act for."""

    sid: str
    user: str
    org: str
    expires: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def secret(store: Store) -> bytes:
    """The instance's web secret, created once (concurrent first calls agree on one)."""
    cached: bytes | None = getattr(store, "_web_secret", None)
    if cached is not None:
        return cached
    with store.engine.begin() as conn:
        row = conn.execute(
            select(instance_state.c.value).where(instance_state.c.key == _SECRET_KEY)
        ).first()
    if row is None:
        try:
            with store.engine.begin() as conn:
                conn.execute(
                    insert(instance_state).values(
                        key=_SECRET_KEY, value=secrets.token_hex(32), updated_at=_now()
                    )
                )
        except IntegrityError:
            pass  # another process created it first
        return secret(store)
    value = bytes.fromhex(row.value)
    store._web_secret = value  # type: ignore[attr-defined]
    return value


def _mac(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def sign(store: Store, value: str) -> str:
    """``value.mac``: a cookie the server can check before looking anything up."""
    return f"{value}.{_mac(secret(store), 'cookie', value)}"


def unsign(store: Store, cookie: str | None) -> str | None:
    """The value of a signed cookie, or None when it is missing or forged."""
    if not cookie or "." not in cookie:
        return None
    value, _, mac = cookie.rpartition(".")
    good = _mac(secret(store), "cookie", value)
    return value if hmac.compare_digest(mac, good) else None


def csrf_token(store: Store, base: str) -> str:
    """The CSRF token of a session (or pre-session) id."""
    return _mac(secret(store), "csrf", base)


def csrf_ok(store: Store, base: str | None, token: str | None) -> bool:
    """Whether a submitted token belongs to this browser's session."""
    if not base or not token:
        return False
    return hmac.compare_digest(csrf_token(store, base), token)


def new_id() -> str:
    """A fresh unguessable id (session or pre-session)."""
    return secrets.token_urlsafe(32)


def _key(sid: str) -> str:
    return _PREFIX + hashlib.sha256(sid.encode()).hexdigest()


def open_session(store: Store, user: str, org: str) -> Session:
    """A new session for a user who has just signed in (a fresh id: no fixation)."""
    sid = new_id()
    expires = _now() + LIFETIME
    body = orjson.dumps({"user": user, "org": org, "expires": expires.isoformat()}).decode()
    with store.engine.begin() as conn:
        conn.execute(insert(instance_state).values(key=_key(sid), value=body, updated_at=_now()))
    return Session(sid=sid, user=user, org=org, expires=expires)


def load(store: Store, sid: str) -> Session | None:
    """The live session with this id, or None (unknown, signed out or expired)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(instance_state.c.value).where(instance_state.c.key == _key(sid))
        ).first()
    if row is None:
        return None
    data = orjson.loads(row.value)
    expires = dt.datetime.fromisoformat(data["expires"])
    if expires <= _now():
        close(store, sid)
        return None
    return Session(sid=sid, user=data["user"], org=data["org"], expires=expires)


def switch(store: Store, session: Session, org: str) -> Session:
    """The same session acting for another organisation of the same user."""
    body = orjson.dumps({"user": session.user, "org": org,
                         "expires": session.expires.isoformat()}).decode()  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(
            update(instance_state)
            .where(instance_state.c.key == _key(session.sid))
            .values(value=body, updated_at=_now())
        )
    return Session(sid=session.sid, user=session.user, org=org, expires=session.expires)


def close(store: Store, sid: str) -> None:
    """Sign out: the row goes, so the cookie is worthless even if it was copied."""
    with store.engine.begin() as conn:
        conn.execute(delete(instance_state).where(instance_state.c.key == _key(sid)))
