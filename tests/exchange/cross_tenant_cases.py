"""Request generators for the cross-tenant test, one per route of the application.

`ROUTE_CASES` maps ``"METHOD /path/template"`` (exactly as the route is declared, e.g.
``"GET /api/v1/observables/{type}/{value:path}"``) to a `Route`: a function from the
planted `World` to a hypothesis strategy of `Case` requests, and how many examples to run.
`test_cross_tenant.py` fails for any route of `create_app` without an entry here, so a new
route cannot slip through. To cover a new route, register it with ``@case("GET /path", n)``
(in this module, or in a module imported at its end) and draw its queries from the world:
the organisations, planted values, ids and refs, plus junk. Nothing else is needed: the test
sends each case as a random caller and checks every marker in the response against the
policy, whatever the response's format. A case may add an ``expect`` check of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from marsad.access.policy import Grant, may_see
from marsad.exchange.api_common import encode_cursor
from marsad.model.handling import Purpose
from marsad.model.observable import ObservableType
from tests.exchange.tenant_world import THREATS, TOKENS, World


@dataclass(frozen=True)
class Case:
    """One request: the caller's headers are added by the test."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: Callable[[World, Grant, Any], None] | None = None


CaseFactory = Callable[[World], st.SearchStrategy[Case]]


@dataclass(frozen=True)
class Route:
    """The case generator of one route and how many cases it gets."""

    cases: CaseFactory
    examples: int


ROUTE_CASES: dict[str, Route] = {}


def case(key: str, examples: int) -> Callable[[CaseFactory], CaseFactory]:
    """Register the case generator of the route ``key`` ("METHOD /path/template")."""

    def register(factory: CaseFactory) -> CaseFactory:
        assert key not in ROUTE_CASES, f"{key} registered twice"
        ROUTE_CASES[key] = Route(factory, examples)
        return factory

    return register


# -- shared pieces -----------------------------------------------------------------------

purpose = st.one_of(st.none(), st.sampled_from([p.value for p in Purpose]))


def _headers(p: str | None) -> dict[str, str]:
    return {"X-Marsad-Purpose": p} if p else {}


def _limit() -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.integers(1, 60), st.sampled_from([1000, 1001]))


def _cursor(kind: str, top: int) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.builds(
            encode_cursor, st.sampled_from([kind, "assertions", "other"]), st.integers(0, top)
        ),
        st.text("abcXYZ019=_-", max_size=12),
    )


def _params(**drawn: Any) -> dict[str, Any]:
    return {k: v for k, v in drawn.items() if v not in (None, [], ())}


def _org(world: World) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(world.org_names), st.sampled_from(["Fiji C", "%", "Nobody"]))


def _dates() -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(), st.dates(min_value=_d(2025, 1, 1), max_value=_d(2027, 12, 31)).map(str)
    )


def _d(y: int, m: int, d: int) -> Any:
    import datetime as dt

    return dt.date(y, m, d)


def _value(world: World) -> st.SearchStrategy[str]:
    """A planted observable value as someone might type it, or junk."""
    planted = st.sampled_from([v for _, v, _ in world.observables.values()])
    typed = st.tuples(planted, st.sampled_from(["as-is", "upper", "defang"])).map(
        lambda t: (
            t[0].upper()
            if t[1] == "upper"
            else t[0].replace(".", "[.]")
            if t[1] == "defang"
            else t[0]
        )
    )
    junk = st.one_of(st.sampled_from(["192.0.2.1", "example.org", "x@example.net", "?"]),
                     st.text(min_size=1, max_size=30))  # fmt: skip
    return st.one_of(typed, typed, junk)


def _filters(world: World) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        _params,
        type=st.lists(st.sampled_from([t.value for t in ObservableType][:6]), max_size=2),
        threat_type=st.lists(st.sampled_from(THREATS), max_size=2),
        source=st.lists(_org(world), max_size=2),
        since=_dates(), until=_dates(),
        max_tlp=st.one_of(st.none(), st.sampled_from(["clear", "green", "amber", "amber+strict", "red", "x"])),
    )  # fmt: skip


def _merge(base: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {**base, **_params(**more)}


# -- expectations: what a caller may not see does not exist for them ------------------------


def refused_for_nul(response: Any) -> bool:
    """A path or query with a NUL byte is refused (400) before authentication or lookup."""
    return response.status_code == 400 and b"nul-byte" in response.content


def _hidden_assertion_is_404(assertion_id: int) -> Callable[[World, Grant, Any], None]:
    def check(world: World, grant: Grant, response: Any) -> None:
        mark = world.assertions.get(assertion_id)
        if mark is not None and not may_see(grant, mark) and response.status_code != 401:
            assert response.status_code == 404, response.text

    return check


def _hidden_observable_is_404(obs_id: int) -> Callable[[World, Grant, Any], None]:
    def check(world: World, grant: Grant, response: Any) -> None:
        if not world.observable_visible(grant, obs_id) and response.status_code != 401:
            assert response.status_code in (404, 422) or refused_for_nul(response), response.text

    return check


def _foreign_submission_is_404(sub_id: int) -> Callable[[World, Grant, Any], None]:
    def check(world: World, grant: Grant, response: Any) -> None:
        owner = world.submissions.get(sub_id)
        if owner is not None and owner not in grant.own_org_ids and response.status_code != 401:
            assert response.status_code == 404, response.text

    return check


# -- the routes of marsad.exchange.app ------------------------------------------------------


@case("GET /api/openapi.json", 50)
def _openapi(world: World) -> st.SearchStrategy[Case]:
    return st.just(Case("GET", "/api/openapi.json"))


@case("GET /api/health", 50)
def _health(world: World) -> st.SearchStrategy[Case]:
    return st.just(Case("GET", "/api/health"))


@case("GET /api/v1/me", 100)
def _me(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p: Case("GET", "/api/v1/me", headers=_headers(p)), purpose)


@case("GET /api/v1/organisations", 100)
def _organisations(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p: Case("GET", "/api/v1/organisations", headers=_headers(p)), purpose)


@case("POST /api/v1/submissions", 200)
def _submit(world: World) -> st.SearchStrategy[Case]:
    def build(n: int, values: list[int], tlp: str, tokens: list[str], multipart: bool) -> Case:
        body = "".join(f"up{n}-{v}.example.org\n" for v in values).encode()
        params = _params(tlp=tlp, releasable_to=",".join(tokens), filename=f"up{n}.txt")
        if multipart:
            return Case("POST", "/api/v1/submissions", params, files={"file": ("up.txt", body)})
        return Case("POST", "/api/v1/submissions", params, content=body)

    return st.builds(
        build, st.integers(0, 10**9), st.lists(st.integers(0, 50), min_size=1, max_size=5),
        st.sampled_from(["clear", "green", "amber", "red"]),
        st.lists(st.sampled_from(TOKENS), max_size=2), st.booleans(),
    )  # fmt: skip


@case("GET /api/v1/submissions", 700)
def _submissions(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda limit, cursor: Case("GET", "/api/v1/submissions", _params(limit=limit, cursor=cursor)),
        _limit(), _cursor("submissions", len(world.submissions) + 2),
    )  # fmt: skip


def _submission_id(world: World) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(sorted(world.submissions)), st.integers(1, 10**6))


@case("GET /api/v1/submissions/{submission_id}", 700)
def _submission(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda i: Case("GET", f"/api/v1/submissions/{i}", expect=_foreign_submission_is_404(i)),
        _submission_id(world),
    )


@case("GET /api/v1/submissions/{submission_id}/raw", 500)
def _submission_raw(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda i: Case("GET", f"/api/v1/submissions/{i}/raw", expect=_foreign_submission_is_404(i)),
        _submission_id(world),
    )


@case("GET /api/v1/lookup", 1300)
def _lookup(world: World) -> st.SearchStrategy[Case]:
    kinds = st.one_of(st.none(), st.sampled_from(["domain", "url", "email", "ipv4"]))
    return st.builds(
        lambda v, t, e, p: Case("GET", "/api/v1/lookup", _params(value=v, type=t, expand=e or None),
                                headers=_headers(p)),
        _value(world), kinds, st.booleans(), purpose,
    )  # fmt: skip


@case("POST /api/v1/lookup", 1000)
def _bulk_lookup(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda values: Case("POST", "/api/v1/lookup", json={"values": values}),
        st.lists(_value(world), min_size=0, max_size=40),
    )


@case("GET /api/v1/assertions", 1300)
def _assertions(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda f, limit, cursor: Case("GET", "/api/v1/assertions", _merge(f, limit=limit, cursor=cursor)),
        _filters(world), _limit(), _cursor("assertions", len(world.assertions)),
    )  # fmt: skip


@case("GET /api/v1/assertions/{assertion_id}", 900)
def _assertion(world: World) -> st.SearchStrategy[Case]:
    ids = st.one_of(st.sampled_from(sorted(world.assertions)), st.integers(1, 10**6))
    return st.builds(
        lambda i: Case("GET", f"/api/v1/assertions/{i}", expect=_hidden_assertion_is_404(i)), ids
    )


@case("GET /api/v1/observables", 900)
def _observables(world: World) -> st.SearchStrategy[Case]:
    domains = st.one_of(
        st.none(), st.sampled_from(["example.org", "example.net", "example.com", "x.org"])
    )
    kinds = st.one_of(st.none(), st.sampled_from(["domain", "url", "email", "ipv4"]))
    return st.builds(
        lambda t, d, limit, cursor: Case("GET", "/api/v1/observables", _params(
            type=t, registered_domain=d, limit=limit, cursor=cursor)),
        kinds, domains, _limit(), _cursor("observables", len(world.observables)),
    )  # fmt: skip


@case("GET /api/v1/observables/{type}/{value:path}", 900)
def _observable(world: World) -> st.SearchStrategy[Case]:
    def build(obs_id: int, upper: bool) -> Case:
        kind, value, _ = world.observables[obs_id]
        shown = value.upper() if upper and kind is not ObservableType.URL else value
        return Case("GET", f"/api/v1/observables/{kind.value}/{shown}",
                    expect=_hidden_observable_is_404(obs_id))  # fmt: skip

    junk = st.builds(lambda v: Case("GET", f"/api/v1/observables/domain/{quote(v, safe='')}"),
                     _value(world))  # fmt: skip
    return st.one_of(
        st.builds(build, st.sampled_from(sorted(world.observables)), st.booleans()), junk
    )


@case("GET /api/v1/entities", 700)
def _entities(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda kind, ref, src, limit, cursor: Case("GET", "/api/v1/entities", _params(
            kind=kind, ref=ref, source=src, limit=limit, cursor=cursor)),
        st.one_of(st.none(), st.sampled_from(["threat-actor", "campaign", "malware", "x"])),
        st.one_of(st.none(), st.sampled_from(world.entity_refs)),
        st.one_of(st.none(), _org(world)), _limit(), _cursor("entities", len(world.entities)),
    )  # fmt: skip


@case("GET /api/v1/relationships", 700)
def _relationships(world: World) -> st.SearchStrategy[Case]:
    refs = st.one_of(
        st.none(), st.sampled_from(world.entity_refs), st.sampled_from(world.target_refs)
    )
    return st.builds(
        lambda ref, kind, src, limit, cursor: Case("GET", "/api/v1/relationships", _params(
            ref=ref, type=kind, source=src, limit=limit, cursor=cursor)),
        refs, st.one_of(st.none(), st.sampled_from(["uses", "indicates", "x"])),
        st.one_of(st.none(), _org(world)), _limit(), _cursor("relationships", len(world.relationships)),
    )  # fmt: skip


@case("GET /api/v1/export", 900)
def _export(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda f, fmt, p: Case("GET", "/api/v1/export", _merge(f, format=fmt), headers=_headers(p)),
        _filters(world), st.one_of(st.none(), st.sampled_from(["stix21", "misp", "intelmq", "pdf"])),
        purpose,
    )  # fmt: skip


# The modules below register the TAXII routes, the web pages, the alerts, the products and
# the actions taken.
from tests.exchange import (  # noqa: E402, F401
    cross_tenant_actions,
    cross_tenant_admin_web,
    cross_tenant_alerts,
    cross_tenant_graph_web,
    cross_tenant_products_web,
    cross_tenant_taxii,
    cross_tenant_web,
)
