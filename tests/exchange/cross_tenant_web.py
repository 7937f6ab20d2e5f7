"""Cross-tenant case generators for the web pages (imported by cross_tenant_cases).

Pages answer bearer tokens too (their JSON twin, and the HTML itself), so the shared test
drives them as every caller: searches of planted values (one, defanged, a pasted list),
observable, assertion, cluster and submission pages by URL, listings with paging, uploads,
and the session and language routes. Each answer (HTML or JSON) is scanned for the markers
of records the policy denies the caller; hidden records by URL must answer 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.exchange.cross_tenant_cases import (
    Case,
    _foreign_submission_is_404,
    _hidden_assertion_is_404,
    _hidden_observable_is_404,
    _params,
    _value,
    case,
)
from tests.exchange.tenant_world import World

FORMAT = st.sampled_from([None, None, "json"])


def _signed(check: Any) -> Any:
    """A 404 check for callers who reach the page (no credentials: the sign-in page, or 401)."""

    def wrapped(world: World, grant: Any, response: Any) -> None:
        if response.url.path != "/login":
            check(world, grant, response)

    return wrapped


def _fmt(params: dict[str, Any], fmt: str | None) -> dict[str, Any]:
    return {**params, **({"format": fmt} if fmt else {})}


@case("GET /", 150)
def _dashboard(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda f: Case("GET", "/", _fmt({}, f)), FORMAT)


@case("GET /search", 700)
def _search(world: World) -> st.SearchStrategy[Case]:
    one = _value(world)
    many = st.lists(_value(world), min_size=2, max_size=30).map("\n".join)
    return st.builds(
        lambda q, page, f: Case("GET", "/search", _fmt(_params(q=q, page=page), f)),
        st.one_of(one, many), st.one_of(st.none(), st.sampled_from(["1", "2", "x", "-1"])), FORMAT,
    )  # fmt: skip


@case("GET /login", 30)
def _login_page(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda n: Case("GET", "/login", _params(next=n)),
                     st.sampled_from([None, "/", "//evil.example", "/search?q=x"]))  # fmt: skip


@case("POST /login", 60)
def _login(world: World) -> st.SearchStrategy[Case]:
    users = st.sampled_from(["Fiji CCU analyst", "PhishGuard analyst", "nobody", ""])
    return st.builds(
        lambda u, p: Case("POST", "/login", files=None,
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          content=f"username={quote(u)}&password={quote(p)}&csrf_token=x".encode()),
        users, st.text(max_size=20),
    )  # fmt: skip


@case("GET /lang/{code}", 30)
def _lang(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda c, n: Case("GET", f"/lang/{c}", _params(next=n)),
                     st.sampled_from(["en", "ar", "fr", "xx"]),
                     st.sampled_from([None, "/", "//evil.example", "/search"]))  # fmt: skip


@case("GET /static/{name}", 20)
def _static(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda n: Case("GET", f"/static/{n}"),
                     st.sampled_from(["marsad.css", "marsad.js", "htmx.min.js", "x.js", "..%2Fapp.py"]))  # fmt: skip


@case("POST /logout", 30)
def _logout(world: World) -> st.SearchStrategy[Case]:
    return st.just(Case("POST", "/logout"))


@case("POST /session/organisation", 60)
def _switch(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda org: Case("POST", "/session/organisation",
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         content=f"org={quote(org)}&next=/".encode()),
        st.sampled_from(world.org_names),
    )  # fmt: skip


@case("GET /observables/{type}/{value:path}", 500)
def _observable(world: World) -> st.SearchStrategy[Case]:
    def build(obs_id: int, after: str | None, f: str | None) -> Case:
        kind, value, _ = world.observables[obs_id]
        return Case("GET", f"/observables/{kind.value}/{quote(value, safe='')}",
                    _fmt(_params(after=after), f), expect=_signed(_hidden_observable_is_404(obs_id)))  # fmt: skip

    junk = st.builds(lambda t, v: Case("GET", f"/observables/{t}/{quote(v, safe='')}"),
                     st.sampled_from(["domain", "url", "x"]), _value(world))  # fmt: skip
    pages = st.one_of(st.none(), st.sampled_from(["1", "5", "x"]))
    return st.one_of(st.builds(build, st.sampled_from(sorted(world.observables)), pages, FORMAT),
                     junk)  # fmt: skip


@case("GET /assertions/{assertion_id}", 500)
def _assertion(world: World) -> st.SearchStrategy[Case]:
    ids = st.one_of(st.sampled_from(sorted(world.assertions)), st.integers(1, 10**6))
    return st.builds(
        lambda i, f: Case("GET", f"/assertions/{i}", _fmt({}, f), expect=_signed(_hidden_assertion_is_404(i))),
        ids, FORMAT,
    )  # fmt: skip


@case("GET /clusters", 100)
def _clusters(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p, f: Case("GET", "/clusters", _fmt(_params(page=p), f)),
                     st.sampled_from([None, "1", "2", "x"]), FORMAT)  # fmt: skip


def _cluster_id(world: World) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(sorted(world.observables)).map(str),
                     st.sampled_from(["0", "-1", "x", "99999999"]))  # fmt: skip


@case("GET /clusters/{cluster_id}", 300)
def _cluster(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda c, f: Case("GET", f"/clusters/{c}", _fmt({}, f)), _cluster_id(world), FORMAT
    )


@case("GET /clusters/{cluster_id}/graph", 300)
def _cluster_graph(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda c: Case("GET", f"/clusters/{c}/graph"), _cluster_id(world))


@case("GET /submissions", 150)
def _submissions(world: World) -> st.SearchStrategy[Case]:
    befores = st.one_of(
        st.none(), st.integers(1, len(world.submissions) + 2).map(str), st.just("x")
    )
    return st.builds(
        lambda b, f: Case("GET", "/submissions", _fmt(_params(before=b), f)), befores, FORMAT
    )


@case("POST /submissions", 100)
def _upload(world: World) -> st.SearchStrategy[Case]:
    def build(n: int, values: list[int]) -> Case:
        body = "".join(f"webup{n}-{v}.example.org\n" for v in values).encode()
        return Case("POST", "/submissions", files={"file": ("up.txt", body)})

    return st.builds(
        build, st.integers(0, 10**9), st.lists(st.integers(0, 50), min_size=1, max_size=5)
    )


@case("GET /submissions/{submission_id}", 400)
def _submission(world: World) -> st.SearchStrategy[Case]:
    ids = st.one_of(st.sampled_from(sorted(world.submissions)), st.integers(1, 10**6))
    return st.builds(lambda i, f: Case("GET", f"/submissions/{i}", _fmt({}, f),
                                       expect=_signed(_foreign_submission_is_404(i))), ids, FORMAT)  # fmt: skip


@case("GET /admin/organisations", 50)
def _admin_orgs(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda f: Case("GET", "/admin/organisations", _fmt({}, f)), FORMAT)


@case("GET /admin/users", 50)
def _admin_users(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda f: Case("GET", "/admin/users", _fmt({}, f)), FORMAT)


@case("GET /admin/audit", 100)
def _admin_audit(world: World) -> st.SearchStrategy[Case]:
    # Audit targets hold what people typed (a value typed is not a record shown), which the
    # marker scan cannot tell apart: the case reads the sign-in and denial entries.
    return st.builds(
        lambda o, before, f: Case("GET", "/admin/audit",
                                  _fmt(_params(action="login", outcome=o, before=before), f)),
        st.sampled_from([None, "allow", "deny"]), st.sampled_from([None, "5", "x"]), FORMAT,
    )  # fmt: skip


@case("GET /admin/audit/verify", 30)
def _audit_verify(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda f: Case("GET", "/admin/audit/verify", _fmt({}, f)), FORMAT)
