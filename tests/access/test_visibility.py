"""The SQL predicate and the Python policy always agree, on both engines.

Hypothesis draws markings (TLP, releasability tokens, owner, retention) for a batch of
assertions; for every organisation of a small network (with sub-units, a partner, a
desk, names full of LIKE wildcards and quotes), the ids the database returns through
`visible` must be exactly those `may_see` accepts.
"""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from marsad.access.policy import OPERATOR, PUBLIC, Mark, grant_for, may_see
from marsad.model.organisation import make_organisation
from marsad.store.schema import assertions, blobs, observables, submissions
from marsad.store.store import Store
from marsad.store.visibility import visible
from tests.access.tenants import ORGS, TOKENS

TODAY = dt.date(2026, 11, 23)
N = 12


@pytest.fixture
def network(store: Store) -> tuple[Store, dict[str, int]]:
    ids: dict[str, int] = {}
    for name, kind, region, parent in ORGS:
        ids[name] = store.add_org(make_organisation(name, kind, None, region), parent=parent).id
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with store.engine.begin() as conn:
        conn.execute(insert(blobs).values(sha256="0" * 64, size=0, data=b""))
        for org_id in ids.values():
            conn.execute(insert(submissions).values(
                id=org_id, source_org_id=org_id, sha256="0" * 64, size=0, status="ingested",
                defaults="{}", received_at=now,
            ))  # fmt: skip
        conn.execute(
            insert(observables),
            [{"id": i + 1, "type": "ipv4", "value": f"192.0.2.{i}"} for i in range(N)],
        )
    return store, ids


marks = st.lists(
    st.tuples(
        st.integers(0, len(ORGS) - 1),  # owner
        st.integers(0, len(ORGS) - 1),  # source
        st.integers(0, 4),  # TLP rank
        st.lists(st.sampled_from(TOKENS), max_size=4, unique=True),
        st.sampled_from([None, -1, 0, 1]),  # retain_until, days from today
    ),
    min_size=1,
    max_size=N,
)


@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(drawn=marks)
def test_sql_predicate_agrees_with_python_policy(
    network: tuple[Store, dict[str, int]], drawn: list[tuple[int, int, int, list[str], int | None]]
) -> None:
    store, ids = network
    names = [name for name, *_ in ORGS]
    rows, expected_marks = [], {}
    for i, (owner, source, tlp, tokens, retain) in enumerate(drawn):
        until = None if retain is None else TODAY + dt.timedelta(days=retain)
        owner_id, source_id = ids[names[owner]], ids[names[source]]
        rows.append({
            "id": i + 1, "observable_id": i + 1, "source_org_id": source_id,
            "owner_org_id": owner_id, "threat_type": "c2", "sightings": 1, "tlp": tlp,
            "pap": 2, "releasable_to": orjson.dumps(sorted(tokens)).decode(),
            "reliability": "F", "credibility": 6, "purpose": "threat-analysis",
            "retain_until": until, "first_submission_id": source_id,
            "last_submission_id": source_id, "location": f"$[{i}]",
        })  # fmt: skip
        expected_marks[i + 1] = Mark(owner_org_id=owner_id, source_org_id=source_id, tlp=tlp,
                                     pap=2, releasable_to=tuple(tokens), retain_until=until)  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(delete(assertions))
        conn.execute(insert(assertions), rows)
    viewers = [store.viewer(name) for name in names] + [PUBLIC, OPERATOR]
    with store.engine.connect() as conn:
        for viewer in viewers:
            grant = grant_for(viewer, TODAY)
            got = set(
                conn.execute(select(assertions.c.id).where(visible(grant, assertions))).scalars()
            )
            want = {i for i, m in expected_marks.items() if may_see(grant, m)}
            assert got == want, (viewer.label, sorted(got ^ want))


def test_sub_units_know_their_parents(network: tuple[Store, dict[str, int]]) -> None:
    store, _ = network
    assert store.viewer("Lautoka Post").parents == ("Suva Cyber Desk", "Fiji CCU")
    assert store.viewer("Fiji CCU").parents == ()
