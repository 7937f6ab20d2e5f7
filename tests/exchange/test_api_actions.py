"""Actions taken through the API: record (problem+json for bad input, 404 for hidden records,
403 for roles that may not), list the feedback, page through it, audited."""

from __future__ import annotations

from marsad.access import audit
from marsad.access.policy import Role
from tests.exchange.conftest import Api
from tests.exchange.test_api import problem, walk

PG, FIJI, DESK = "PhishGuard", "Fiji CCU", "ASP Desk"


def _submit(api: Api, org: str, body: bytes, **params: str) -> int:
    done = api.client.post("/api/v1/submissions", content=body, headers=api.auth(org),
                           params={"threat_type": "phishing", **params})  # fmt: skip
    assert done.status_code == 201, done.text
    return int(done.json()["submission_id"])


def test_record_list_and_feedback(api: Api) -> None:
    sub = _submit(api, PG, b"evil.example.com\nother.example.com\n", tlp="green")
    red = _submit(api, DESK, b"evil.example.com\n", tlp="red")
    fiji = api.auth(FIJI)
    made = api.client.post("/api/v1/actions", headers=fiji, json={
        "type": "domain", "value": "EVIL.example.com", "kind": "Blocked", "note": " at 3 ISPs "})  # fmt: skip
    assert made.status_code == 201, made.text
    [item] = made.json()["items"]  # the desk's RED record is not Fiji's to see
    assert (item["org"], item["user"], item["kind"], item["note"], item["value"]) == (
        FIJI, f"{FIJI} analyst", "blocked", "at 3 ISPs", "evil.example.com")  # fmt: skip
    feedback = api.client.get("/api/v1/actions", headers=api.auth(PG),
                              params={"scope": "on-own", "submission": sub}).json()  # fmt: skip
    assert [(x["org"], x["user"], x["kind"]) for x in feedback["items"]] == [
        (FIJI, None, "blocked")
    ]
    assert api.client.get("/api/v1/actions", headers=api.auth(DESK)).json()["items"] == []
    detail = api.client.get(f"/api/v1/submissions/{sub}", headers=api.auth(PG)).json()
    assert [(x["org"], x["value"]) for x in detail["feedback"]["actions"]] == [
        (FIJI, "evil.example.com")
    ]
    assert detail["feedback"]["sightings"] == []
    desk_sub = api.client.get(f"/api/v1/submissions/{red}", headers=api.auth(DESK)).json()
    assert desk_sub["feedback"]["actions"] == []  # Fiji acted on PhishGuard's record only
    foreign = api.client.get("/api/v1/actions", headers=api.auth(PG), params={"submission": red})
    assert problem(foreign, 404)["detail"] == f"no submission {red} from {PG}"
    # the desk acts on both records; PhishGuard sees the action on its record, paged
    for _ in range(3):
        desk = api.client.post("/api/v1/actions", headers=api.auth(DESK),
                               json={"type": "domain", "value": "evil.example.com",
                                     "kind": "investigation-opened"})  # fmt: skip
        assert len(desk.json()["items"]) == 2
    pages = list(walk(api, "/api/v1/actions", api.auth(PG), limit=1))
    assert [x["org"] for x in pages] == [DESK, DESK, DESK, FIJI]
    assert len({x["id"] for x in pages}) == 4
    logged = audit.entries(api.store, action="record-action")
    assert {e.org for e in logged} == {FIJI, DESK} and all(e.outcome == "allow" for e in logged)


def test_bad_input_hidden_records_and_roles_are_refused(api: Api) -> None:
    _submit(api, DESK, b"hidden.example.com\n", tlp="red")
    fiji = api.auth(FIJI)
    kind = api.client.post("/api/v1/actions", headers=fiji,
                           json={"type": "domain", "value": "x.example", "kind": "nuked"})  # fmt: skip
    assert "kind: 'nuked' is not an action kind" in problem(kind, 422)["detail"]
    note = api.client.post("/api/v1/actions", headers=fiji,
                           json={"assertion_id": 1, "kind": "blocked", "note": "x" * 600})  # fmt: skip
    assert "note: 600 characters" in problem(note, 422)["detail"]
    both = api.client.post("/api/v1/actions", headers=fiji,
                           json={"assertion_id": 1, "type": "domain", "value": "a.example", "kind": "blocked"})  # fmt: skip
    assert problem(both, 422)["detail"] == "give either assertion_id, or type and value"
    unknown = api.client.post("/api/v1/actions", headers=fiji, json={"kind": "blocked", "x": 1})
    assert problem(unknown, 422)["type"].endswith("invalid-request")
    hidden = api.client.post(
        "/api/v1/actions", headers=fiji, json={"assertion_id": 1, "kind": "blocked"}
    )
    never = api.client.post(
        "/api/v1/actions", headers=fiji, json={"assertion_id": 999, "kind": "blocked"}
    )
    assert (
        problem(hidden, 404)["detail"] == "no assertion 1"
        and problem(never, 404)["detail"] == "no assertion 999"
    )
    by_value = api.client.post("/api/v1/actions", headers=fiji,
                               json={"type": "domain", "value": "hidden.example.com", "kind": "blocked"})  # fmt: skip
    assert (
        problem(by_value, 404)["detail"]
        == "nothing known about domain:hidden.example.com that you may see"
    )
    reader = api.client.post("/api/v1/actions", headers=api.auth(DESK, Role.READ_ONLY),
                             json={"assertion_id": 1, "kind": "blocked"})  # fmt: skip
    assert problem(reader, 403)["type"].endswith("forbidden")
    denied = audit.entries(api.store, action="record-action", outcome="deny")
    assert [e.target for e in denied] == [
        "POST /api/v1/actions",
        "domain:hidden.example.com",
        "assertion 999",
        "assertion 1",
    ]
