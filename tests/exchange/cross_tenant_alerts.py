"""Cross-tenant case generators for the alert routes (imported by cross_tenant_cases).

On first use the planted world gets watchlists (every organisation watches what every
planted value contains, plus a threat type) and its submissions are evaluated through
`marsad.products.alerting` at the tests' date, so every organisation holds alerts raised
from whatever it may see. Each answer is scanned for markers as usual, and checked
explicitly: every alert shown is the caller's organisation's, and every piece of evidence
in it is an assertion the policy lets the caller see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import insert, select

from marsad.access.policy import Grant, grant_for, may_see
from marsad.products import alert_store, alerting
from marsad.store.schema import alerts, assertion_sources, assertions
from tests.exchange.conftest import TODAY
from tests.exchange.cross_tenant_cases import Case, _cursor, _limit, _params, case
from tests.exchange.tenant_world import World

_PLANTED: dict[int, dict[int, int]] = {}  # id(world) -> alert id -> organisation id


def _planted(world: World) -> dict[int, int]:
    """Watchlists for everyone, the world's submissions evaluated; alert id -> org id."""
    key = id(world)
    if key not in _PLANTED:
        store = world.api.store
        with store.engine.begin() as conn:  # the world plants assertions without provenance
            rows = conn.execute(select(assertions.c.id, assertions.c.last_submission_id)).all()
            have = set(conn.execute(select(assertion_sources.c.assertion_id)).scalars())
            missing = [{"assertion_id": a, "submission_id": s, "location": "line 1",
                        "sightings": 1} for a, s in rows if a not in have]  # fmt: skip
            if missing:
                conn.execute(insert(assertion_sources), missing)
        for name in world.org_names:
            alert_store.add_entry(store, name, "keyword", "example")
            alert_store.add_entry(store, name, "threat-type", "c2")
        alerting.run(store, context=alerting.Context(deliver=False, today=TODAY))
        _plant_hidden_evidence(world)
        with store.engine.connect() as conn:
            found = conn.execute(select(alerts.c.id, alerts.c.org_id)).all()
        _PLANTED[key] = {int(a): int(o) for a, o in found}
        assert _PLANTED[key], "the world should raise alerts"
    return _PLANTED[key]


_HIDDEN_ONLY: set[int] = set()  # alerts whose every piece of evidence their org may not see


def _plant_hidden_evidence(world: World) -> None:
    """Evidence each organisation may not see, as if owners tightened handling after the
    alerts were raised: on existing alerts, and on alerts that have nothing else."""
    store = world.api.store
    for name in world.org_names:
        viewer = store.viewer(name)
        assert viewer.org_id is not None
        grant = grant_for(viewer, TODAY)
        hidden = [(viewer.org_id, obs, a, '["keyword:example"]')
                  for obs, (_, _, listed) in world.observables.items()
                  for a in listed if not may_see(grant, world.assertions[a])]  # fmt: skip
        with store.engine.begin() as conn:
            before = set(conn.execute(select(alerts.c.id)).scalars())
            alerted = set(conn.execute(select(alerts.c.observable_id).where(
                alerts.c.org_id == viewer.org_id)).scalars())  # fmt: skip
            beside = [m for m in hidden if m[1] in alerted][:40]  # beside visible evidence
            alone = [m for m in hidden if m[1] not in alerted][:10]  # nothing else
            alert_store.write_alerts(store, conn, 1, beside + alone, dt.datetime.now(dt.UTC))
            after = set(conn.execute(select(alerts.c.id)).scalars())
        _HIDDEN_ONLY.update(after - before)
    assert _HIDDEN_ONLY, "some alerts should hold only hidden evidence"


def _alerts_are_own_and_visible(world: World, grant: Grant, response: Any) -> None:
    if response.status_code != 200:
        return
    body = response.json()
    items = body.get("items", [body])
    owner = _planted(world)
    for alert in items:
        assert alert["id"] not in owner or owner[alert["id"]] in grant.own_org_ids, alert["id"]
        assert alert["evidence"], f"alert {alert['id']} shown without evidence"
        for evidence in alert["evidence"]:
            mark = world.assertions.get(evidence["assertion_id"])
            assert mark is None or may_see(grant, mark), evidence


def _alert_id(world: World) -> st.SearchStrategy[int]:
    planted = sorted(_planted(world))
    return st.one_of(st.sampled_from(planted), st.integers(1, 10**6))


@case("GET /api/v1/alerts", 600)
def _list(world: World) -> st.SearchStrategy[Case]:
    top = max(_planted(world)) + 2
    return st.builds(
        lambda unacked, limit, cursor: Case(
            "GET", "/api/v1/alerts", _params(unacked=unacked or None, limit=limit, cursor=cursor),
            expect=_alerts_are_own_and_visible),
        st.booleans(), _limit(), _cursor("alerts", top),
    )  # fmt: skip


def _ack_expect(alert_id: int) -> Any:
    def check(world: World, grant: Grant, response: Any) -> None:
        owner = _planted(world).get(alert_id)
        if response.status_code == 200:
            assert owner is not None and owner in grant.own_org_ids, alert_id
            assert alert_id not in _HIDDEN_ONLY, f"acknowledged {alert_id}, all of it hidden"
        elif response.status_code not in (401, 403):
            assert response.status_code == 404, response.text
        _alerts_are_own_and_visible(world, grant, response)

    return check


@case("POST /api/v1/alerts/{alert_id}/ack", 600)
def _ack(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda i: Case("POST", f"/api/v1/alerts/{i}/ack", expect=_ack_expect(i)), _alert_id(world)
    )
