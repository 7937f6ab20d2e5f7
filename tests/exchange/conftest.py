"""An API over a real store (SQLite and PostgreSQL), and callers with real tokens."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest

from marsad.access import identity
from marsad.access.policy import Role
from marsad.exchange.app import create_app
from marsad.exchange.auth import Settings
from marsad.store.store import Store

with warnings.catch_warnings():  # starlette asks for httpx2; httpx still works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TODAY = dt.date(2026, 11, 23)


class Api:
    """A test client over ``create_app(store)`` that hands out tokens per organisation and role."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.app = create_app(store, settings or Settings(today=lambda: TODAY))
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.__enter__()  # one event-loop thread for all requests, not one per request
        self._tokens: dict[tuple[str, Role], str] = {}

    def token(self, org: str, role: Role = Role.ANALYST) -> str:
        """A bearer token of a user acting for ``org`` in ``role``."""
        key = (org, role)
        if key not in self._tokens:
            name = f"{org} {role.value}"
            identity.add_user(self.store, name, org, role, None)
            self._tokens[key] = identity.create_token(self.store, name)[0]
        return self._tokens[key]

    def close(self) -> None:
        """Stop the client's event-loop thread."""
        self.client.__exit__(None, None, None)

    def auth(self, org: str, role: Role = Role.ANALYST) -> dict[str, str]:
        """The Authorization header of that caller."""
        return {"Authorization": f"Bearer {self.token(org, role)}"}


@pytest.fixture
def api(orgs: Store) -> Iterator[Api]:
    """The API over a store with PhishGuard (partner), Fiji CCU (unit) and ASP Desk."""
    client = Api(orgs)
    yield client
    client.close()
