"""Cross-tenant case generators for the alerts inbox and the reports pages (imported by
cross_tenant_cases).

The inbox reuses the alerts planted by `cross_tenant_alerts` (evidence on every alert,
hidden evidence planted after the fact): every alert the page shows must be the caller's
organisation's, with only evidence the caller may see. For the reports, the world's
national units get countries on first use, so a country's activity report lists what its
units reported under every handling drawn; each answer (HTML, JSON, CSV, STIX, and the
PDF's text) is scanned for the markers of records the caller may not see. The assessment,
advisory and notice pages and files must list only statements the caller may see (the
advisory only TLP:CLEAR ones), and the dashboard's clusters only clusters of its own graph.
"""

from __future__ import annotations

import subprocess
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import update

from marsad.access.policy import Grant, may_see
from marsad.store.schema import organisations
from tests.exchange.cross_tenant_alerts import _HIDDEN_ONLY, _alert_id, _planted
from tests.exchange.cross_tenant_cases import Case, _params, case
from tests.exchange.tenant_world import World, leaks

FORMAT = st.sampled_from([None, None, "json"])
COUNTRIES = {"Fiji CCU": "FJ", "Suva Cyber Desk": "FJ", "Lautoka Post": "FJ", "France OFAC": "FR"}
_LOCATED: set[int] = set()


def _fmt(params: dict[str, Any], fmt: str | None) -> dict[str, Any]:
    return {**params, **({"format": fmt} if fmt else {})}


def _inbox_is_own_and_visible(world: World, grant: Grant, response: Any) -> None:
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return
    owner = _planted(world)
    body = response.json()
    for alert in body.get("alerts", [body]):
        assert alert["id"] not in owner or owner[alert["id"]] in grant.own_org_ids, alert["id"]
        assert alert["id"] not in _HIDDEN_ONLY, f"alert {alert['id']} shown, all of it hidden"
        assert alert["evidence"], f"alert {alert['id']} shown without evidence"
        for evidence in alert["evidence"]:
            mark = world.assertions.get(evidence["assertion_id"])
            assert mark is None or may_see(grant, mark), evidence


@case("GET /alerts", 300)
def _inbox(world: World) -> st.SearchStrategy[Case]:
    top = max(_planted(world)) + 2
    return st.builds(
        lambda show, after, f: Case("GET", "/alerts", _fmt(_params(show=show, after=after), f),
                                    expect=_inbox_is_own_and_visible),
        st.sampled_from([None, "open", "all", "x"]),
        st.one_of(st.none(), st.integers(0, top).map(str), st.just("x")), FORMAT,
    )  # fmt: skip


def _ack_expect(raw: str) -> Any:
    alert_id = int(raw) if raw.isdigit() else -1

    def check(world: World, grant: Grant, response: Any) -> None:
        owner = _planted(world).get(alert_id)
        if response.status_code == 200 and response.url.path.endswith("/ack"):
            assert owner is not None and owner in grant.own_org_ids, alert_id
            assert alert_id not in _HIDDEN_ONLY, f"acknowledged {alert_id}, all of it hidden"
        _inbox_is_own_and_visible(world, grant, response)

    return check


@case("POST /alerts/{alert_id}/ack", 300)
def _ack(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda i, f: Case("POST", f"/alerts/{i}/ack", _fmt({}, f), expect=_ack_expect(i)),
        _alert_id(world).map(str) | st.just("x"), FORMAT,
    )  # fmt: skip


def _located(world: World) -> None:
    """Countries for the national units, once per world: their reports fill up."""
    if id(world) in _LOCATED:
        return
    with world.api.store.engine.begin() as conn:
        for name, code in COUNTRIES.items():
            conn.execute(update(organisations).where(organisations.c.name == name)
                         .values(country=code))  # fmt: skip
    _LOCATED.add(id(world))


def _report_params(world: World) -> st.SearchStrategy[dict[str, Any]]:
    _located(world)
    return st.builds(
        lambda c, p: _params(country=c, period=p),
        st.sampled_from(["FJ", "fj", "FR", "WS", "", "Fiji", "%"]),
        st.sampled_from(["2026", "2025", "2026-Q3", "2026-10", "2025-06-01..2026-11-30", "x", ""]),
    )


@case("GET /reports", 120)
def _reports(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p, f: Case("GET", "/reports", _fmt(p, f)), _report_params(world),
                     FORMAT)  # fmt: skip


def _pdf_text_is_clean(world: World, grant: Grant, response: Any) -> None:
    if response.status_code != 200 or not response.content.startswith(b"%PDF"):
        return
    text = subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True,
                          check=True).stdout  # fmt: skip
    leaked = leaks(world, grant, b"", text)
    assert not leaked, f"the PDF leaked {leaked}"


@case("GET /reports/activity.{fmt}", 160)
def _report_file(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda fmt, p: Case("GET", f"/reports/activity.{fmt}", p, expect=_pdf_text_is_clean),
        st.sampled_from(["csv", "stix", "html", "html", "pdf", "exe"]), _report_params(world),
    )  # fmt: skip


# -- the dashboard's clusters, and the assessment, advisory and notice pages ---------------


def _ids_visible(world: World, grant: Grant, response: Any) -> None:
    """Every statement a product lists is one the caller may see (the advisory: TLP:CLEAR)."""
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return
    body = response.json()
    product = next((body[k] for k in ("assessment", "advisory", "notice") if body.get(k)), body)
    for number in product.get("assertion_ids", []):
        mark = world.assertions.get(number)
        assert mark is None or may_see(grant, mark), f"statement {number} disclosed"
        if "advice" in product:
            assert mark is None or mark.tlp == 0, f"advisory example {number} is not TLP:CLEAR"


def _pdf_or_ids(world: World, grant: Grant, response: Any) -> None:
    _pdf_text_is_clean(world, grant, response)
    _ids_visible(world, grant, response)


@case("GET /dashboard/clusters", 60)
def _top_clusters(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda f, hx: Case("GET", "/dashboard/clusters", _fmt({}, f),
                           headers={"HX-Request": "true"} if hx else {}),
        FORMAT, st.booleans(),
    )  # fmt: skip


def _assessment_params(world: World) -> st.SearchStrategy[dict[str, Any]]:
    _located(world)
    return st.builds(
        lambda r, p: _params(region=r, period=p),
        st.sampled_from(["asia-south-pacific", "europe", "global", "africa", "x", "", None]),
        st.sampled_from(["2026", "2025-Q3", "2026-Q3", "2026-10", "2025-06-01..2026-11-30", "x"]),
    )


@case("GET /reports/assessment", 60)
def _assessment(world: World) -> st.SearchStrategy[Case]:
    """The page, its JSON twin, and htmx's poll of the build (the same address as a fragment:
    the progress, or the product built for the caller's own grant)."""
    return st.builds(
        lambda p, f, hx: Case("GET", "/reports/assessment", _fmt(p, f), expect=_ids_visible,
                              headers={"HX-Request": "true"} if hx else {}),
        _assessment_params(world), FORMAT, st.booleans(),
    )  # fmt: skip


@case("GET /reports/assessment.{fmt}", 40)
def _assessment_file(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda fmt, p: Case("GET", f"/reports/assessment.{fmt}", p, expect=_pdf_or_ids),
        st.sampled_from(["json", "json", "html", "pdf", "csv"]), _assessment_params(world),
    )  # fmt: skip


def _advisory_params() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda t, n: _params(threat=t, examples=n),
        st.sampled_from(["phishing", "investment-scam", "romance-scam", "bec", "piracy", "", None]),
        st.sampled_from([None, "0", "5", "50", "51", "x"]),
    )


@case("GET /reports/advisory", 60)
def _advisory(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p, f: Case("GET", "/reports/advisory", _fmt(p, f), expect=_ids_visible),
                     _advisory_params(), FORMAT)  # fmt: skip


@case("GET /reports/advisory.{fmt}", 40)
def _advisory_file(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda fmt, p: Case("GET", f"/reports/advisory.{fmt}", p, expect=_pdf_or_ids),
        st.sampled_from(["json", "json", "html", "pdf", "stix"]), _advisory_params(),
    )  # fmt: skip


def _notice_params(world: World) -> st.SearchStrategy[dict[str, Any]]:
    clusters = st.one_of(st.sampled_from(sorted(world.observables)).map(str),
                         st.sampled_from(["", "0", "x", "99999999"]))  # fmt: skip
    return st.builds(
        lambda c, m, t: _params(cluster=c, method=m, tlp=t),
        clusters,
        st.sampled_from([None, "Fake shops."]),
        st.sampled_from([None, "amber", "x"]),
    )


@case("GET /reports/notice", 80)
def _notice(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda p, f: Case("GET", "/reports/notice", _fmt(p, f), expect=_ids_visible),
                     _notice_params(world), FORMAT)  # fmt: skip


@case("GET /reports/notice.{fmt}", 40)
def _notice_file(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda fmt, p: Case("GET", f"/reports/notice.{fmt}", p, expect=_pdf_or_ids),
        st.sampled_from(["json", "stix", "html", "pdf", "csv"]), _notice_params(world),
    )  # fmt: skip
