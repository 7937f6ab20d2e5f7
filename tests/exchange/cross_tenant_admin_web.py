"""Cross-tenant case generators for the API-token, agreement and watchlist pages.

On first use each organisation of the world gets spare tokens (of a user of its own, so
the callers' tokens stay alive) and spare watchlist entries. Every caller then lists,
creates, revokes, sets and removes, drawing ids and organisation names from every tenant
as well as junk; besides the usual marker scan, each answer is checked against the store:
nothing listed belongs to another organisation, another organisation's token stays
active, another's entry stays, and every agreement set was set by its own organisation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from sqlalchemy import select

from marsad.access import audit, identity
from marsad.access.policy import Grant, Role
from marsad.products import alert_store
from marsad.store.schema import api_tokens, watchlists
from tests.exchange.cross_tenant_cases import Case, case
from tests.exchange.tenant_world import World

FORMAT = st.sampled_from([None, None, "json"])
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SPARES = 4
_PLANTED: dict[int, tuple[dict[int, int], dict[int, int]]] = {}  # id(world) -> tokens, entries


def _planted(world: World) -> tuple[dict[int, int], dict[int, int]]:
    """Spare tokens and watchlist entries of every organisation: id -> organisation id."""
    key = id(world)
    if key not in _PLANTED:
        store, tokens, entries = world.api.store, {}, {}
        for name in world.org_names:
            org_id = store.org(name).id
            spare = f"{name} spare"
            identity.add_user(store, spare, name, Role.ANALYST, None)
            for n in range(SPARES):
                tokens[identity.create_token(store, spare)[1].id] = org_id
                entry = alert_store.add_entry(store, name, "keyword", f"spare-watch-{n}")
                entries[entry.id] = org_id
        _PLANTED[key] = (tokens, entries)
    return _PLANTED[key]


def _names(world: World) -> dict[int, str]:
    return {o.id: o.name for o in world.api.store.list_orgs()}


def _form(path: str, fields: dict[str, Any], expect: Any = None) -> Case:
    body = urlencode([(k, v) for k, v in fields.items() if v is not None], doseq=True)
    return Case("POST", path, headers=FORM, content=body.encode(), expect=expect)


def _fmt(fmt: str | None) -> dict[str, Any]:
    return {"format": fmt} if fmt else {}


def _json(response: Any) -> Any:
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return None
    return response.json()


def _own(world: World, grant: Grant) -> set[str]:
    names = _names(world)
    return {names[i] for i in grant.own_org_ids}


# -- tokens -----------------------------------------------------------------------------------


def _tokens_are_own(world: World, grant: Grant, response: Any) -> None:
    body = _json(response)
    if body is not None and "tokens" in body:
        own = _own(world, grant)
        assert all(t["org"] in own for t in body["tokens"]), body["tokens"]
        assert set(body["members"]) <= {u.name for u in identity.list_users(world.api.store)
                                        if set(u.memberships) & own}  # fmt: skip


@case("GET /admin/tokens", 80)
def _tokens(world: World) -> st.SearchStrategy[Case]:
    _planted(world)
    return st.builds(lambda f, r: Case("GET", "/admin/tokens", {**_fmt(f), **({"revoked": r} if r else {})},
                                       expect=_tokens_are_own),
                     FORMAT, st.sampled_from([None, "msd_", "x"]))  # fmt: skip


def _never_by_token(world: World, grant: Grant, response: Any) -> None:
    if response.url.path != "/login":  # no credentials: the sign-in page
        assert response.status_code in (401, 403), response.text[:300]


@case("POST /admin/tokens", 80)
def _create(world: World) -> st.SearchStrategy[Case]:
    users = st.sampled_from([f"{n} {r.value}" for n in world.org_names for r in Role] + ["", "x"])
    return st.builds(
        lambda u, r, d: _form("/admin/tokens", {"user": u, "role": r, "days": d}, _never_by_token),
        users, st.sampled_from([r.value for r in Role] + ["root"]), st.sampled_from(["30", "0", "x"]),
    )  # fmt: skip


def _active(world: World, token_id: int) -> bool:
    with world.api.store.engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.revoked_at).where(api_tokens.c.id == token_id)
        ).first()
    return row is not None and row.revoked_at is None


def _revoked_only_if_own(world: World, token_id: int) -> Case:
    """Revoke a token; one of another organisation that was active stays active."""
    was_active = _active(world, token_id)  # drawn just before the request is sent

    def check(world: World, grant: Grant, response: Any) -> None:
        org = _planted(world)[0].get(token_id)
        if org is None or org in grant.own_org_ids or not was_active:
            return
        assert _active(world, token_id), f"token {token_id} of organisation {org} revoked"
        if response.url.path != "/login" and response.status_code != 401:
            assert response.status_code in (403, 404), response.text[:300]

    return _form(f"/admin/tokens/{token_id}/revoke", {}, check)


@case("POST /admin/tokens/{token_id}/revoke", 150)
def _revoke(world: World) -> st.SearchStrategy[Case]:
    spares = sorted(_planted(world)[0])
    ids = st.one_of(st.sampled_from(spares), st.integers(10**5, 10**6))  # never a caller's
    junk = st.sampled_from(["x", "-1", "0", "99999999999999"])
    return st.one_of(
        st.builds(lambda i: _revoked_only_if_own(world, i), ids),
        st.builds(lambda j: _form(f"/admin/tokens/{j}/revoke", {}), junk),
    )


# -- agreements -------------------------------------------------------------------------------


def _agreements_set_by_their_own(world: World, grant: Grant, response: Any) -> None:
    for entry in audit.entries(
        world.api.store, action="agreement-set", outcome="allow", limit=10**6
    ):
        assert entry.org == entry.target, entry
    body = _json(response)
    if body is not None and "org" in body:
        assert body["org"] in _own(world, grant)


@case("GET /admin/agreements", 80)
def _agreement(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda f: Case("GET", "/admin/agreements", _fmt(f),
                                    expect=_agreements_set_by_their_own), FORMAT)  # fmt: skip


@case("POST /admin/agreements", 200)
def _set_agreement(world: World) -> st.SearchStrategy[Case]:
    orgs = st.one_of(st.sampled_from(world.org_names), st.sampled_from(["", "Nobody", "%"]))
    fields = st.fixed_dictionaries({
        "org": orgs,
        "tlp": st.sampled_from(["clear", "green", "amber", "amber+strict", "red", "purple"]),
        "pap": st.sampled_from(["clear", "green", "amber", "red", "x"]),
        "members": st.sampled_from([None, "1"]), "partners": st.sampled_from([None, "1"]),
        "regions": st.lists(st.sampled_from(["asia-south-pacific", "europe", "atlantis"]), max_size=2),
        "organisations": st.lists(st.one_of(st.sampled_from(world.org_names), st.just("Nobody")),
                                  max_size=3).map("\n".join),
        "reliability": st.sampled_from(["A", "B", "F", "Z"]),
        "credibility": st.sampled_from(["1", "6", "9", "x"]),
        "purpose": st.sampled_from(["threat-analysis", "investigation-support", "x"]),
        "retain_until": st.sampled_from(["", "2030-01-01", "2020-01-01", "soon"]),
    })  # fmt: skip
    return st.builds(lambda f: _form("/admin/agreements", f, _agreements_set_by_their_own), fields)


# -- watchlists -------------------------------------------------------------------------------


def _entries_are_own(world: World, grant: Grant, response: Any) -> None:
    body = _json(response)
    if body is not None and "entries" in body:
        own = _own(world, grant)
        assert all(e["org"] in own for e in body["entries"]), body["entries"]


@case("GET /admin/watchlists", 80)
def _watchlist(world: World) -> st.SearchStrategy[Case]:
    _planted(world)
    return st.builds(lambda f: Case("GET", "/admin/watchlists", _fmt(f), expect=_entries_are_own),
                     FORMAT)  # fmt: skip


# Never the alert cases' own entries (keyword "example", threat type c2): they plant those.
WATCH = [("country", "FJ"), ("country", "X"), ("asn", "AS64500"), ("asn", "ASX"),
         ("cidr", "198.51.100.0/24"), ("cidr", "300.1.1.0/24"), ("cctld", "fj"),
         ("domain", "watched.example.net"), ("keyword", "watch-word"), ("value", "198.51.100.9"),
         ("threat-type", "phishing"), ("threat-type", "nonsense"), ("planet", "mars"),
         ("keyword", "")]  # fmt: skip


@case("POST /admin/watchlists", 120)
def _watch_add(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda kv: _form("/admin/watchlists", {"kind": kv[0], "value": kv[1]},
                                      _entries_are_own), st.sampled_from(WATCH))  # fmt: skip


def _exists(world: World, entry_id: int) -> bool:
    with world.api.store.engine.connect() as conn:
        return (
            conn.execute(select(watchlists.c.id).where(watchlists.c.id == entry_id)).first()
            is not None
        )


def _removed_only_if_own(world: World, entry_id: int) -> Case:
    """Remove an entry; one of another organisation that was there stays."""
    was_there = _exists(world, entry_id)  # drawn just before the request is sent

    def check(world: World, grant: Grant, response: Any) -> None:
        org = _planted(world)[1].get(entry_id)
        if org is None or org in grant.own_org_ids or not was_there:
            return
        assert _exists(world, entry_id), f"entry {entry_id} of organisation {org} removed"
        if response.url.path != "/login" and response.status_code != 401:
            assert response.status_code in (403, 404), response.text[:300]

    return _form(f"/admin/watchlists/{entry_id}/remove", {}, check)


@case("POST /admin/watchlists/{entry_id}/remove", 150)
def _watch_remove(world: World) -> st.SearchStrategy[Case]:
    spares = sorted(_planted(world)[1])
    ids = st.one_of(st.sampled_from(spares), st.integers(10**5, 10**6))
    return st.one_of(
        st.builds(lambda i: _removed_only_if_own(world, i), ids),
        st.builds(
            lambda j: _form(f"/admin/watchlists/{j}/remove", {}), st.sampled_from(["x", "-3"])
        ),
    )
