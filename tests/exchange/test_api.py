"""The REST API as a client uses it: uploads, lookups, listings, pages, exports, errors, audit."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from marsad.access import audit
from marsad.access.policy import Role
from marsad.exchange.auth import Settings
from marsad.model.organisation import make_organisation
from marsad.store.reads import LOOKUP_BATCH
from marsad.store.store import Store
from tests.conftest import DATA
from tests.exchange.conftest import Api

PG, FIJI, DESK = "PhishGuard", "Fiji CCU", "ASP Desk"
LIST = b"hxxps://Evil[.]Example.COM:443/a\n198.51.100.23\nnot a value at all\n"
CSV = b"value,type,threat_type,first_seen\n203.0.113.5,ipv4,c2,2026-10-01\nbad.invalid,domain,c2,\n"


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response's problem document, after checking its media type and members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert doc["status"] == status and doc["title"] and doc["detail"] and doc["type"]
    assert doc["instance"].startswith("/")
    return doc  # type: ignore[no-any-return]


def walk(api: Api, path: str, headers: dict[str, str], **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a listing, following `next` cursors."""
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(path, params=query, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        yield from body["items"]
        cursor = body["next"]
        if cursor is None:
            return


@pytest.mark.parametrize(
    ("name", "raw", "multipart", "fmt"),
    [
        ("list.txt", LIST, False, "list"),
        ("iocs.csv", CSV, True, "csv"),
        ("apt1.json", (DATA / "stix21/apt1.json").read_bytes(), True, "stix21"),
        ("event.json", (DATA / "misp/feed/5721c2e4-05ec-4af3-9264-411b950d210f.json").read_bytes(),
         False, "misp"),
        ("phish.json", (DATA / "intelmq/phishtank/test_parser.INPUT.json").read_bytes(), True,
         "phishtank"),
        ("urlhaus.txt", (DATA / "intelmq/abusech/urlhaus.txt").read_bytes(), False, "urlhaus"),
    ],
)  # fmt: skip
def test_upload_in_any_format_returns_the_parse_report(
    api: Api, name: str, raw: bytes, multipart: bool, fmt: str
) -> None:
    headers = api.auth(PG, Role.PARTNER_SUBMITTER)
    params = {"tlp": "green", "threat_type": "phishing"}
    if multipart:
        sent = api.client.post("/api/v1/submissions", params=params, headers=headers,
                               files={"file": (name, raw)})  # fmt: skip
    else:
        sent = api.client.post("/api/v1/submissions", params={**params, "filename": name},
                               headers=headers, content=raw)  # fmt: skip
    assert sent.status_code == 201, sent.text
    report = sent.json()
    assert (report["format"], report["status"], report["filename"]) == (fmt, "ingested", name)
    assert report["source"] == PG and report["records"] >= report["accepted"] > 0
    assert sent.headers["location"] == f"/api/v1/submissions/{report['submission_id']}"
    shown = api.client.get(sent.headers["location"], headers=headers).json()
    assert shown["submission"]["accepted"] == report["accepted"]
    assert len(shown["rejections"]) == report["rejected"]
    raw_back = api.client.get(sent.headers["location"] + "/raw", headers=headers)
    assert raw_back.content == raw
    mine = list(walk(api, "/api/v1/assertions", headers, source=PG))
    assert len(mine) == report["accepted"] and {a["tlp"] for a in mine} >= {"TLP:GREEN"}
    again = api.client.post("/api/v1/submissions", params=params, headers=headers, content=raw)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_upload_handling_reaches_exactly_the_named_recipients(api: Api) -> None:
    api.store.add_org(make_organisation("France OFAC", "national-cyber-unit", "FR", "europe"))
    sent = api.client.post(
        "/api/v1/submissions", params={"tlp": "amber", "releasable_to": "org:Fiji CCU"},
        content=b"198.51.100.77\n", headers=api.auth(PG, Role.PARTNER_SUBMITTER),
    )  # fmt: skip
    assert sent.status_code == 201
    fiji = api.client.get("/api/v1/lookup?value=198.51.100.77", headers=api.auth(FIJI)).json()
    france = api.client.get(
        "/api/v1/lookup?value=198.51.100.77", headers=api.auth("France OFAC")
    ).json()
    assert [a["releasable_to"] for a in fiji["assertions"]] == [["org:Fiji CCU"]]
    assert france["assertions"] == []


def test_strict_upload_with_a_bad_record_stores_nothing(api: Api) -> None:
    headers = api.auth(PG, Role.PARTNER_SUBMITTER)
    sent = api.client.post("/api/v1/submissions?strict=true", content=LIST, headers=headers)
    assert sent.status_code == 201
    report = sent.json()
    assert report["status"] == "rejected" and report["rejected"] == 1 and report["accepted"] == 0
    assert list(walk(api, "/api/v1/assertions", headers)) == []
    assert report["rejections"][0]["location"] == "line 3"


def test_upload_errors_are_problems(api: Api) -> None:
    headers = api.auth(PG, Role.PARTNER_SUBMITTER)
    empty = problem(api.client.post("/api/v1/submissions", content=b"", headers=headers), 422)
    assert "empty" in empty["detail"]
    bad_tlp = problem(
        api.client.post("/api/v1/submissions?tlp=purple", content=LIST, headers=headers), 422
    )
    assert "purple" in bad_tlp["detail"]
    no_part = api.client.post("/api/v1/submissions", files={"other": ("x", b"1.2.3.4")},
                              headers=headers)  # fmt: skip
    assert "file" in problem(no_part, 422)["detail"]
    reader = api.auth(FIJI, Role.READ_ONLY)
    refused = problem(api.client.post("/api/v1/submissions", content=LIST, headers=reader), 403)
    assert "read-only" in refused["detail"] and "submit" in refused["detail"]
    [denied] = audit.entries(api.store, outcome="deny", action="submit")
    assert denied.actor == f"{FIJI} read-only" and denied.org == FIJI


def test_lookup_normalises_what_was_typed(api: Api) -> None:
    api.client.post("/api/v1/submissions?tlp=green", content=LIST,
                    headers=api.auth(PG, Role.PARTNER_SUBMITTER))  # fmt: skip
    headers = api.auth(FIJI)
    found = api.client.get("/api/v1/lookup", params={"value": "HXXPS://evil[.]example.com/a"},
                           headers=headers).json()  # fmt: skip
    assert found["normalised"] == [{"type": "url", "value": "https://evil.example.com/a"}]
    assert [a["value"] for a in found["assertions"]] == ["https://evil.example.com/a"]
    wider = api.client.get(
        "/api/v1/lookup",
        headers=headers,
        params={"value": "hxxps://evil[.]example.com/a", "expand": "true"},
    )
    assert [o["value"] for o in wider.json()["normalised"]] == [
        "https://evil.example.com/a", "evil.example.com", "example.com"
    ]  # fmt: skip
    typed = api.client.get("/api/v1/lookup", params={"value": "198.51.100.023", "type": "ipv4"},
                           headers=headers)  # fmt: skip
    assert typed.status_code in (200, 422)  # leading zeros: the normaliser decides, never a 500
    nothing = problem(api.client.get("/api/v1/lookup?value=%3F%3F%3F", headers=headers), 422)
    assert "not a value" in nothing["detail"]


def test_bulk_lookup_of_100000_values_asks_one_query_per_batch(api: Api) -> None:
    known = [f"198.18.{i // 250}.{i % 250}" for i in range(2000)]
    api.client.post("/api/v1/submissions?tlp=green&threat_type=c2", content="\n".join(known).encode(),
                    headers=api.auth(PG, Role.PARTNER_SUBMITTER))  # fmt: skip
    values = [str(ipaddress.IPv4Address(0x0A000000 + i)) for i in range(100_000 - 2001)]
    values += [v.replace(".", "[.]") for v in known] + ["not a value"]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM assertions" in statement:
            statements.append(statement)

    event.listen(api.store.engine, "before_cursor_execute", count)
    try:
        got = api.client.post("/api/v1/lookup", json={"values": values}, headers=api.auth(FIJI))
    finally:
        event.remove(api.store.engine, "before_cursor_execute", count)
    assert got.status_code == 200, got.text[:300]
    body = got.json()
    assert (body["count"], body["recognised"]) == (100_000, 99_999)
    assert body["normalised"][-1] is None and body["normalised"][-2] == f"ipv4:{known[-1]}"
    assert sorted(a["value"] for a in body["assertions"]) == sorted(known)
    distinct = len(set(values)) - 1
    assert len(statements) <= -(-distinct // LOOKUP_BATCH) == 10, len(statements)
    over = api.client.post("/api/v1/lookup", json={"values": ["1.1.1.1"] * 100_001},
                           headers=api.auth(FIJI))  # fmt: skip
    assert "100000" in problem(over, 422)["detail"]


def test_pages_walk_every_visible_assertion_exactly_once(api: Api) -> None:
    values = "\n".join(f"192.0.2.{i}" for i in range(1, 138)) + "\n"
    for tlp, threat in (("green", "c2"), ("red", "phishing"), ("amber", "scanning")):
        sent = api.client.post(f"/api/v1/submissions?tlp={tlp}&threat_type={threat}",
                               content=f"# {tlp}\n{values}".encode(),
                               headers=api.auth(PG, Role.PARTNER_SUBMITTER))  # fmt: skip
        assert sent.json()["accepted"] == 137
    for org, expected in ((FIJI, 137), (DESK, 274), (PG, 411)):  # desk: AMBER with no list
        headers = api.auth(org)
        seen = [a["id"] for a in walk(api, "/api/v1/assertions", headers, limit=10)]
        assert len(seen) == len(set(seen)) == expected
        assert seen == sorted(seen)
        one_page = api.client.get("/api/v1/assertions", params={"limit": 1000}, headers=headers)
        assert [a["id"] for a in one_page.json()["items"]] == seen
    c2 = list(walk(api, "/api/v1/assertions", api.auth(PG), limit=7, threat_type="c2"))
    assert len(c2) == 137 and {a["threat_type"] for a in c2} == {"c2"}
    seen_obs = [o["value"] for o in walk(api, "/api/v1/observables", api.auth(FIJI), limit=9)]
    assert sorted(seen_obs) == sorted(f"192.0.2.{i}" for i in range(1, 138))
    bad = problem(api.client.get("/api/v1/assertions?cursor=bm9wZQ", headers=api.auth(PG)), 400)
    assert "cursor" in bad["detail"]
    other_kind = api.client.get("/api/v1/observables?limit=1", headers=api.auth(PG)).json()["next"]
    problem(api.client.get(f"/api/v1/assertions?cursor={other_kind}", headers=api.auth(PG)), 400)
    too_big = api.client.get("/api/v1/assertions?limit=1001", headers=api.auth(PG))
    assert "1000" in problem(too_big, 422)["detail"]


def test_filters_by_time_type_threat_source_country_and_tlp(api: Api) -> None:
    pg = api.auth(PG, Role.PARTNER_SUBMITTER)
    csv = (b"value,type,threat_type,first_seen,last_seen\n"
           b"203.0.113.1,ipv4,c2,2026-01-10,2026-02-01\n"
           b"203.0.113.2,ipv4,phishing,2026-05-01,2026-06-01\n"
           b"old.example.com,domain,phishing,2025-01-01,2025-02-01\n")  # fmt: skip
    api.client.post("/api/v1/submissions?tlp=green", content=csv, headers=pg)
    api.client.post("/api/v1/submissions?tlp=clear&threat_type=spam", content=b"203.0.113.3\n",
                    headers=api.auth(FIJI))  # fmt: skip

    def values(**params: Any) -> list[str]:
        return sorted(a["value"] for a in walk(api, "/api/v1/assertions", pg, **params))

    assert values(since="2026-03-01", until="2100-01-01") == ["203.0.113.2", "203.0.113.3"]
    assert values(until="2026-01-31") == [
        "203.0.113.1",
        "old.example.com",
    ]  # lists: seen on receipt
    assert values(type="domain") == ["old.example.com"]
    assert values(threat_type=["c2", "spam"]) == ["203.0.113.1", "203.0.113.3"]
    assert values(source=FIJI) == ["203.0.113.3"]
    assert values(country="fj") == ["203.0.113.3"]  # Fiji CCU's country; PhishGuard is AU
    assert values(country=["AU", "FJ"]) == values()
    assert values(max_tlp="clear") == ["203.0.113.3"]
    problem(api.client.get("/api/v1/assertions?type=colour", headers=pg), 422)
    problem(api.client.get("/api/v1/assertions?max_tlp=purple", headers=pg), 422)


def test_entities_relationships_and_observables(api: Api) -> None:
    api.client.post("/api/v1/submissions?tlp=amber", headers=api.auth(PG, Role.PARTNER_SUBMITTER),
                    content=(DATA / "stix21/apt1.json").read_bytes())  # fmt: skip
    mine, desk, fiji = api.auth(PG), api.auth(DESK), api.auth(FIJI)
    ents = list(walk(api, "/api/v1/entities", desk, limit=5))
    rels = list(walk(api, "/api/v1/relationships", desk, limit=20))
    assert ents and rels and {e["tlp"] for e in ents} == {"TLP:AMBER"}
    assert list(walk(api, "/api/v1/entities", fiji)) == []  # AMBER, no list: coordinators only
    assert list(walk(api, "/api/v1/relationships", fiji)) == []
    actor = next(e for e in ents if e["kind"] == "intrusion-set")
    touching = list(walk(api, "/api/v1/relationships", mine, ref=actor["ref"]))
    assert touching and all(actor["ref"] in (r["source_ref"], r["target_ref"]) for r in touching)
    assert [e["id"] for e in walk(api, "/api/v1/entities", mine, ref=actor["ref"])] == [actor["id"]]
    [obs, *_] = api.client.get("/api/v1/observables", headers=desk).json()["items"]
    one = api.client.get(f"/api/v1/observables/{obs['type']}/{obs['value']}", headers=desk)
    assert one.status_code == 200 and len(one.json()["assertions"]) == obs["assertions"]
    hidden = api.client.get(f"/api/v1/observables/{obs['type']}/{obs['value']}", headers=fiji)
    problem(hidden, 404)
    first = api.client.get("/api/v1/assertions?limit=1", headers=desk).json()["items"][0]
    assert api.client.get(f"/api/v1/assertions/{first['id']}", headers=desk).json() == first
    assert problem(api.client.get(f"/api/v1/assertions/{first['id']}", headers=fiji), 404) == (
        problem(api.client.get("/api/v1/assertions/999999", headers=fiji), 404)
        | {"detail": f"no assertion {first['id']}", "instance": f"/api/v1/assertions/{first['id']}"}
    )  # a hidden record and a missing one look the same


def test_submissions_are_private_to_their_source(api: Api) -> None:
    sent = api.client.post("/api/v1/submissions", content=LIST,
                           headers=api.auth(PG, Role.PARTNER_SUBMITTER)).json()  # fmt: skip
    fiji = api.auth(FIJI)
    api.client.post("/api/v1/submissions", content=b"192.0.2.200\n", headers=fiji)
    assert {s["source"] for s in walk(api, "/api/v1/submissions", fiji)} == {FIJI}
    sid = sent["submission_id"]
    problem(api.client.get(f"/api/v1/submissions/{sid}", headers=fiji), 404)
    problem(api.client.get(f"/api/v1/submissions/{sid}/raw", headers=fiji), 404)
    denied = audit.entries(api.store, outcome="deny", action="read-submission")
    assert [(d.org, d.target) for d in denied] == [(FIJI, str(sid))] * 2


def test_export_needs_the_export_role_and_applies_the_policy(api: Api) -> None:
    api.client.post("/api/v1/submissions?tlp=red", content=b"203.0.113.66\n",
                    headers=api.auth(PG, Role.PARTNER_SUBMITTER))  # fmt: skip
    api.client.post("/api/v1/submissions?tlp=green&threat_type=c2", content=b"198.51.100.9\n",
                    headers=api.auth(FIJI))  # fmt: skip
    desk = api.auth(DESK)
    stix = api.client.get("/api/v1/export", headers=desk)
    assert stix.headers["content-type"].startswith("application/stix+json")
    patterns = [o["pattern"] for o in stix.json()["objects"] if o["type"] == "indicator"]
    assert patterns == ["[ipv4-addr:value = '198.51.100.9']"]
    misp = api.client.get("/api/v1/export?format=misp", headers=api.auth(PG)).json()
    assert sorted(a["value"] for a in misp["Event"]["Attribute"]) == [
        "198.51.100.9",
        "203.0.113.66",
    ]
    lines = api.client.get("/api/v1/export?format=intelmq&max_tlp=green", headers=api.auth(PG))
    assert [json.loads(x)["source.ip"] for x in lines.text.splitlines()] == ["198.51.100.9"]
    refused = api.client.get("/api/v1/export", headers=api.auth(PG, Role.PARTNER_SUBMITTER))
    assert "export" in problem(refused, 403)["detail"]
    allowed = audit.entries(api.store, action="export", outcome="allow")
    assert [(a.org, a.target, a.details["count"]) for a in allowed] == [
        (PG, "intelmq", 1), (PG, "misp", 2), (DESK, "stix21", 1)]  # fmt: skip


def test_errors_are_problem_documents(api: Api) -> None:
    fiji = api.auth(FIJI)
    missing = problem(api.client.get("/api/v1/lookup?value=1.2.3.4"), 401)
    assert missing["type"].endswith("unauthenticated")
    wrong = api.client.get("/api/v1/me", headers={"Authorization": "Bearer msd_not-a-token"})
    assert problem(wrong, 401)["detail"].startswith("invalid, expired or revoked token")
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert (
        "/api/v1/nowhere" in problem(api.client.get("/api/v1/nowhere", headers=fiji), 404)["detail"]
    )
    not_allowed = api.client.delete("/api/v1/assertions", headers=fiji)
    problem(not_allowed, 405)
    assert not_allowed.headers["allow"] == "GET"
    invalid = problem(api.client.get("/api/v1/assertions?limit=zero", headers=fiji), 422)
    assert invalid["errors"][0]["where"] == "query.limit"
    purpose = api.client.get("/api/v1/me", headers={**fiji, "X-Marsad-Purpose": "curiosity"})
    assert "x-marsad-purpose" in problem(purpose, 422)["detail"]
    bad_json = api.client.post(
        "/api/v1/lookup", content=b"{", headers={**fiji, "content-type": "application/json"}
    )
    problem(bad_json, 422)
    assert api.client.get("/api/health").json() == {"status": "ok"}
    denied = audit.entries(api.store, action="authenticate", outcome="deny")
    assert {d.actor for d in denied} == {"anonymous"} and len(denied) == 2


def test_bodies_over_the_limit_are_refused_while_they_arrive(orgs: Store) -> None:
    api = Api(orgs, Settings(max_body_bytes=1000))
    headers = api.auth(PG, Role.PARTNER_SUBMITTER)
    declared = api.client.post("/api/v1/submissions", content=b"1.2.3.4\n" * 200, headers=headers)
    assert problem(declared, 413)["limit"] == 1000
    chunks_read = []

    def stream() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(100):
            chunks_read.append(i)
            yield b"1.2.3.4\n" * 20

    streamed = api.client.post("/api/v1/submissions", content=stream(), headers=headers)
    problem(streamed, 413)
    multipart = api.client.post("/api/v1/submissions", files={"file": ("a", b"x" * 5000)},
                                headers=headers)  # fmt: skip
    problem(multipart, 413)
    small = api.client.post("/api/v1/submissions", content=b"192.0.2.1\n", headers=headers)
    assert small.status_code == 201
    assert audit.entries(api.store, action="submit")[0].details["accepted"] == 1
    api.close()


def test_every_read_is_audited_with_purpose_and_ids(api: Api) -> None:
    api.client.post("/api/v1/submissions?tlp=green", content=LIST,
                    headers=api.auth(PG, Role.PARTNER_SUBMITTER))  # fmt: skip
    headers = {**api.auth(FIJI), "X-Marsad-Purpose": "investigation-support"}
    hits = api.client.get("/api/v1/lookup?value=198.51.100.23", headers=headers).json()
    page = api.client.get("/api/v1/assertions", headers=headers).json()
    [listed, looked] = audit.entries(api.store, org=FIJI, limit=2)
    assert (looked.action, looked.actor, looked.purpose, looked.target) == (
        "lookup", f"{FIJI} analyst", "investigation-support", "198.51.100.23")  # fmt: skip
    assert looked.details["ids"] == [a["id"] for a in hits["assertions"]]
    assert listed.action == "list-assertions"
    assert (
        listed.details["ids"] == [a["id"] for a in page["items"]] and listed.details["count"] == 2
    )
    assert audit.verify(api.store).ok


def test_openapi_document_describes_every_route(api: Api) -> None:
    doc = api.client.get("/api/openapi.json").json()
    paths = doc["paths"]
    for path, methods in {"/api/v1/submissions": {"get", "post"}, "/api/v1/lookup": {"get", "post"},
                          "/api/v1/assertions": {"get"}, "/api/v1/export": {"get"}}.items():  # fmt: skip
        assert methods <= set(paths[path])
    assert "multipart/form-data" in paths["/api/v1/submissions"]["post"]["requestBody"]["content"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_revoked_and_expired_tokens_stop_at_once(api: Api) -> None:
    from marsad.access import identity

    headers = api.auth(FIJI)
    assert api.client.get("/api/v1/me", headers=headers).json()["organisation"] == FIJI
    identity.revoke_token(api.store, api.token(FIJI)[:12])
    problem(api.client.get("/api/v1/me", headers=headers), 401)


def test_nul_bytes_are_a_callers_error_and_still_audited(api: Api) -> None:
    """PostgreSQL text cannot hold NUL; a request carrying one is a 400 or 401, never a 500."""
    fiji = api.auth(FIJI)
    for headers in (fiji, {"Authorization": "Bearer msd_bad"}, {}):
        for path in (
            "/api/v1/observables/domain/evil%00.example",
            "/api/v1/lookup?value=1.2.3.4%00",
            "/api/v1/assertions?source=Fiji%00CCU",
        ):
            answer = problem(api.client.get(path, headers=headers), 400)
            assert answer["type"].endswith("nul-byte") and "NUL" in answer["detail"]
    body = api.client.post("/api/v1/lookup", json={"values": ["a\x00b.example"]}, headers=fiji)
    assert body.status_code < 500, body.text
    problem(api.client.get("/api/v1/me", headers={"Authorization": "Bearer msd_\x00bad"}), 401)
    with api.store.engine.begin() as conn:
        audit.append(conn, actor="anonymous", org=None, action="probe", target="/x\x00y")
    [probe] = audit.entries(api.store, action="probe")
    assert probe.target == "/x\\x00y"
    assert audit.verify(api.store).ok
