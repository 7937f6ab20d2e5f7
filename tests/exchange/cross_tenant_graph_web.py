"""Cross-tenant case generators for the cluster explorer (imported by cross_tenant_cases).

``/graph/neighbours`` is asked about planted observables, entities and relationship ends
(and junk): a node the caller may not see must answer 404, and a visible node's shown plus
"more" neighbours must be exactly the other ends of the relationships the caller may see,
so a hidden neighbour is not even counted. ``/graph/stix`` is posted views mixing visible
and hidden nodes: the bundle must be valid STIX 2.1, and its markers (scanned by the shared
test) only those of records the caller may see, with links only between posted nodes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from sqlalchemy import or_, select
from stix2validator import ValidationOptions, validate_string

from marsad.access.policy import Grant, may_see
from marsad.store.schema import relationships
from tests.exchange.cross_tenant_cases import Case, case
from tests.exchange.tenant_world import REL_TYPES, World


def _refs(world: World) -> st.SearchStrategy[str]:
    observed = st.sampled_from(sorted(world.observables)).map(
        lambda i: f"{world.observables[i][0].value}:{world.observables[i][1]}"
    )
    junk = st.one_of(st.sampled_from(["", "domain:", "x:y", "ipv4:192.0.2.1", "%", "url:%"]),
                     st.text(max_size=20))  # fmt: skip
    return st.one_of(observed, st.sampled_from(world.entity_refs),
                     st.sampled_from(world.target_refs), junk)  # fmt: skip


def _visible_ends(world: World, grant: Grant, ref: str) -> tuple[bool, set[str]]:
    """Whether the caller may see ``ref`` as a node, and its neighbours the caller may see."""
    with world.api.store.engine.connect() as conn:
        rows = conn.execute(
            select(relationships.c.id, relationships.c.source_ref, relationships.c.target_ref)
            .where(or_(relationships.c.source_ref == ref, relationships.c.target_ref == ref))
        ).all()  # fmt: skip
    seen = [r for r in rows if may_see(grant, world.relationships[r.id])]
    ends = {r.target_ref if r.source_ref == ref else r.source_ref for r in seen} - {ref}
    kind, _, value = ref.partition(":")
    asserted = any(k.value == kind and v == value and world.observable_visible(grant, i)
                   for i, (k, v, _) in world.observables.items())  # fmt: skip
    return asserted or bool(seen), ends


def _neighbours_expect(ref: str) -> Any:
    def check(world: World, grant: Grant, response: Any) -> None:
        if response.status_code in (400, 401) or response.url.path == "/login":
            return
        visible, ends = _visible_ends(world, grant, ref.strip())
        if not visible:
            assert response.status_code == 404, (ref, response.text[:200])
            return
        assert response.status_code == 200, (ref, response.text[:200])
        body = response.json()
        shown = {e["data"]["id"] for e in body["elements"] if "source" not in e["data"]}
        assert shown <= ends and body["shown"] + body["more"] == len(ends), (ref, body)

    return check


@case("GET /graph/neighbours", 400)
def _neighbours(world: World) -> st.SearchStrategy[Case]:
    limits = st.sampled_from([None, None, "1", "2", "1000", "0", "1001", "x"])
    return st.builds(
        lambda ref, limit: Case("GET", "/graph/neighbours",
                                {"node": ref, **({"limit": limit} if limit else {})},
                                expect=_neighbours_expect(ref)),
        _refs(world), limits,
    )  # fmt: skip


def _stix_expect(nodes: list[str]) -> Any:
    posted = set(nodes)

    def check(world: World, grant: Grant, response: Any) -> None:
        if response.status_code != 200 or response.url.path != "/graph/stix":
            return  # refused, or sent to the sign-in page
        results = validate_string(response.text, ValidationOptions(version="2.1"))
        assert results.is_valid, [str(e) for e in results.errors]
        for obj in response.json()["objects"]:
            if obj["type"] == "relationship":
                assert obj["relationship_type"] in REL_TYPES
                assert obj["source_ref"] in posted, obj  # the entity refs are their STIX ids

    return check


@case("POST /graph/stix", 300)
def _stix(world: World) -> st.SearchStrategy[Case]:
    types = st.one_of(st.none(), st.lists(st.sampled_from([*REL_TYPES, "x"]), max_size=2))
    return st.builds(
        lambda nodes, kinds: Case("POST", "/graph/stix", json=_view(nodes, kinds),
                                  expect=_stix_expect(nodes)),
        st.lists(_refs(world), max_size=40), types,
    )  # fmt: skip


def _view(nodes: list[str], kinds: list[str] | None) -> dict[str, Any]:
    return {"nodes": nodes, **({"edge_types": kinds} if kinds is not None else {})}
