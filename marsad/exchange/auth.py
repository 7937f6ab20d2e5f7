"""Who is calling, what they may do, and the audit record of what they did.

A request authenticates with ``Authorization: Bearer msd_…``: the token names one user
acting for one organisation in one role (`marsad.access.identity`). Every API route
declares the action it needs with ``Depends(permit(Action.X))``; the dependency answers
401 without a valid token and 403 when the role does not allow the action, and audits
both as denials. Handlers then audit what they read through `Caller.audit`, the one
place API audit entries are written. ``X-Marsad-Purpose`` (optional) says why the caller
processes the data; it goes into every audit entry of the request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from marsad.access import audit, identity
from marsad.access.policy import PUBLIC, Action, Grant, Viewer, grant_for, may
from marsad.exchange.problems import Problem
from marsad.model.handling import Purpose
from marsad.store.store import Store

_bearer = HTTPBearer(auto_error=False, description="An API token from `marsad token create`.")
PERMIT_MARK = "marsad_permit"
"""Attribute set on every `permit` dependency, so a test can check each route has one."""


class Settings:
    """What the API is configured with (sizes, page limits, clock)."""

    def __init__(
        self,
        *,
        max_body_bytes: int = 64 * 1024 * 1024,
        max_page: int = 1000,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_page = max_page
        self.today = today

    def now(self) -> dt.datetime:
        """Now on the policy's date (tests fix the date; the time of day is the clock's)."""
        clock = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return dt.datetime.combine(self.today(), clock.timetz())


class Caller:
    """An authenticated request: the user, their organisation's viewer and grant, the purpose."""

    def __init__(
        self, store: Store, user: str, viewer: Viewer, grant: Grant, purpose: Purpose | None
    ) -> None:
        self.store = store
        self.user = user
        self.viewer = viewer
        self.grant = grant
        self.purpose = purpose

    def audit(
        self,
        action: str,
        target: str,
        *,
        ids: Sequence[int] | None = None,
        outcome: str = "allow",
        **details: Any,
    ) -> None:
        """Record what this caller did or was refused, with the ids of what it read."""
        if ids is not None:
            details.update(audit.id_summary(list(ids)))
        audit.record(
            self.store, self.viewer, action, target, actor=self.user, outcome=outcome,
            purpose=self.purpose.value if self.purpose else None, details=details,
        )  # fmt: skip

    def deny(self, action: str, target: str, status: int, detail: str, **details: Any) -> NoReturn:
        """Audit a refusal and answer it as a problem (404 where existence must not show)."""
        self.audit(action, target, outcome="deny", **details)
        raise Problem(status, detail, kind="forbidden" if status == 403 else None)


def store_of(request: Request) -> Store:
    """The store the application serves."""
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def _unauthenticated(store: Store, request: Request, reason: str, prefix: str | None) -> NoReturn:
    audit.record(
        store, PUBLIC, "authenticate", f"{request.method} {request.url.path}",
        actor="anonymous", outcome="deny", details={"reason": reason, "prefix": prefix},
    )  # fmt: skip
    raise Problem(
        401,
        f"{reason}: send Authorization: Bearer <token> (create one with `marsad token create`)",
        kind="unauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="marsad"'},
    )


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_marsad_purpose: Annotated[
        Purpose | None, Header(description="Why the caller processes the data (audited).")
    ] = None,
) -> Caller:
    """The authenticated caller of this request; 401 (audited) without a valid token."""
    store = store_of(request)
    if credentials is None:
        _unauthenticated(store, request, "no bearer token", None)
    secret = credentials.credentials
    try:
        principal = identity.authenticate(store, secret)
    except identity.AccessDenied as exc:
        _unauthenticated(store, request, str(exc), secret[:12])
    grant = grant_for(principal.viewer, settings_of(request).today())
    return Caller(store, principal.user, principal.viewer, grant, x_marsad_purpose)


def permit(action: Action) -> Callable[..., Caller]:
    """A dependency: the caller, if their role allows ``action``; else 403, audited."""

    def dependency(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
        if not may(who.viewer, action):
            who.deny(
                action.value, f"{request.method} {request.url.path}", 403,
                f"{who.user} acts as {who.viewer.role.value} in {who.viewer.org_name}, "
                f"which may not {action.value}",
            )  # fmt: skip
        return who

    setattr(dependency, PERMIT_MARK, action)
    dependency.__name__ = f"permit_{action.value.replace('-', '_')}"
    return dependency
