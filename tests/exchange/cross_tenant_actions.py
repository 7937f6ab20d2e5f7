"""Cross-tenant case generators for actions taken (imported by cross_tenant_cases).

On first use every organisation of the planted world records an action on a few of the
records it may see (so listings hold actions of every organisation on every kind of record).
Then: recording, through the API and the observable page's form, on planted and hidden
records and values; listing, in every scope and for submissions of one's own and others'.
Besides the marker scan, every action shown must be one `may_see_action` lets the caller see,
with the acting person's name only for the acting organisation, and recording on a record
the caller may not see must answer 404 (403 for a role that may not record).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st
from sqlalchemy import insert, select

from marsad.access.policy import Grant, Role, grant_for, may_see, may_see_action
from marsad.model.actions import ActionKind
from marsad.store import action_reads
from marsad.store.schema import assertion_sources, assertions
from tests.exchange.conftest import TODAY
from tests.exchange.cross_tenant_cases import (
    Case,
    _cursor,
    _hidden_observable_is_404,
    _limit,
    _params,
    _submission_id,
    _value,
    case,
)
from tests.exchange.tenant_world import World

KINDS = [k.value for k in ActionKind] + ["nuked", ""]
NOTES = st.one_of(st.none(), st.sampled_from(["blocked at the resolvers", "", "x" * 501, "a\x00b"]))
_PLANTED: dict[int, int] = {}  # id(world) -> how many actions were planted
_ORG_IDS: dict[int, dict[str, int]] = {}


def _org_ids(world: World) -> dict[str, int]:
    key = id(world)
    if key not in _ORG_IDS:
        _ORG_IDS[key] = {name: world.api.store.org(name).id for name in world.org_names}
    return _ORG_IDS[key]


def _planted(world: World) -> int:
    """Each organisation acts on up to 6 records it may see (provenance added for the
    submission filter: the world plants assertions without it)."""
    key = id(world)
    if key not in _PLANTED:
        store = world.api.store
        with store.engine.begin() as conn:
            rows = conn.execute(select(assertions.c.id, assertions.c.last_submission_id)).all()
            have = set(conn.execute(select(assertion_sources.c.assertion_id)).scalars())
            missing = [{"assertion_id": a, "submission_id": s, "location": "line 1",
                        "sightings": 1} for a, s in rows if a not in have]  # fmt: skip
            if missing:
                conn.execute(insert(assertion_sources), missing)
        made = 0
        now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
        for n, name in enumerate(world.org_names):
            viewer = store.viewer(name, Role.ANALYST)
            grant = grant_for(viewer, TODAY)
            ids = [a for a, mark in sorted(world.assertions.items()) if may_see(grant, mark)]
            chosen = ids[n % 7 :: 37][:6]
            kind = list(ActionKind)[n % len(ActionKind)]
            if chosen:
                made += len(action_reads.record(store, viewer, grant, chosen, kind, "planted note",
                                                actor=f"{name} planter", target="planted", now=now))  # fmt: skip
        assert made, "the world should hold actions"
        _PLANTED[key] = made
    return _PLANTED[key]


def _actions_shown_are_visible(world: World, grant: Grant, response: Any) -> None:
    if response.status_code not in (200, 201):
        return
    orgs = _org_ids(world)
    for item in response.json()["items"]:
        mark = world.assertions.get(item["assertion_id"])
        actor = orgs.get(item["org"])
        assert mark is not None and actor is not None, item
        assert may_see_action(grant, mark, actor), f"action {item['id']} shown to {grant}"
        if item["user"] is not None:
            assert grant.everything or actor in grant.own_org_ids, f"user of {item['id']} shown"


@case("GET /api/v1/actions", 400)
def _list(world: World) -> st.SearchStrategy[Case]:
    top = _planted(world) + 400
    scopes = st.one_of(st.none(), st.sampled_from(["all", "on-own", "by-own", "x"]))
    subs = st.one_of(st.none(), _submission_id(world))

    def build(scope: str | None, sub: int | None, limit: int | None, cursor: str | None) -> Case:
        def expect(world: World, grant: Grant, response: Any) -> None:
            owner = world.submissions.get(sub) if sub is not None else None
            foreign = sub is not None and (owner is None or owner not in grant.own_org_ids)
            if foreign and response.status_code == 200:
                raise AssertionError(f"submission {sub} of another organisation answered")
            _actions_shown_are_visible(world, grant, response)

        params = _params(scope=scope, submission=sub, limit=limit, cursor=cursor)
        return Case("GET", "/api/v1/actions", params, expect=expect)

    return st.builds(build, scopes, subs, _limit(), _cursor("actions", top))


def _record_expect(assertion_id: int | None, obs_id: int | None) -> Any:
    def check(world: World, grant: Grant, response: Any) -> None:
        if response.status_code == 201:
            orgs = _org_ids(world)
            for item in response.json()["items"]:
                assert orgs[item["org"]] in grant.own_org_ids, item
            _actions_shown_are_visible(world, grant, response)
            return
        if response.status_code in (401, 403, 422):
            return
        mark = world.assertions.get(assertion_id) if assertion_id is not None else None
        if mark is not None and not may_see(grant, mark):
            assert response.status_code == 404, response.text
        if obs_id is not None and not world.observable_visible(grant, obs_id):
            assert response.status_code == 404, response.text

    return check


@case("POST /api/v1/actions", 300)
def _record(world: World) -> st.SearchStrategy[Case]:
    _planted(world)
    ids = st.one_of(st.sampled_from(sorted(world.assertions)), st.integers(1, 10**6))
    by_id = st.builds(
        lambda i, k, n: Case("POST", "/api/v1/actions", json=_params(assertion_id=i, kind=k, note=n),
                             expect=_record_expect(i, None)),
        ids, st.sampled_from(KINDS), NOTES,
    )  # fmt: skip

    def by_value(obs_id: int, k: str, n: str | None) -> Case:
        kind, value, _ = world.observables[obs_id]
        body = _params(type=kind.value, value=value, kind=k, note=n)
        return Case("POST", "/api/v1/actions", json=body, expect=_record_expect(None, obs_id))

    junk = st.builds(
        lambda v, k: Case("POST", "/api/v1/actions", json={"type": "domain", "value": v, "kind": k}),
        _value(world), st.sampled_from(KINDS),
    )  # fmt: skip
    both = st.builds(lambda i: Case("POST", "/api/v1/actions", json={
        "assertion_id": i, "type": "domain", "value": "x.example", "kind": "blocked"}),
        st.sampled_from(sorted(world.assertions)))  # fmt: skip
    values = st.builds(
        by_value, st.sampled_from(sorted(world.observables)), st.sampled_from(KINDS), NOTES
    )
    return st.one_of(by_id, values, junk, both)


@case("POST /actions", 200)
def _web_record(world: World) -> st.SearchStrategy[Case]:
    _planted(world)

    def build(obs_id: int, k: str, note: str | None) -> Case:
        kind, value, _ = world.observables[obs_id]
        form = f"type={kind.value}&value={quote(value)}&kind={quote(k)}&note={quote(note or '')}"
        check = _hidden_observable_is_404(obs_id)

        def expect(world: World, grant: Grant, response: Any) -> None:
            if response.url.path != "/login" and response.status_code not in (401, 403, 422):
                check(world, grant, response)

        return Case("POST", "/actions", content=form.encode(), expect=expect,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip

    junk = st.builds(
        lambda t, v: Case("POST", "/actions", content=f"type={t}&value={quote(v)}&kind=blocked".encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}),
        st.sampled_from(["domain", "url", "x"]), _value(world),
    )  # fmt: skip
    notes = st.one_of(st.none(), st.sampled_from(["checked", "x" * 501]))
    return st.one_of(
        st.builds(build, st.sampled_from(sorted(world.observables)), st.sampled_from(KINDS), notes),
        junk,
    )
