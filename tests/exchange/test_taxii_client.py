"""The TAXII 2.1 server through the real `taxii2-client` library, against uvicorn on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from marsad.access import audit
from marsad.access.policy import Role, grant_for
from marsad.exchange.taxii import TAXII_MEDIA, codec_of
from marsad.formats import stix21
from marsad.model.handling import TLP
from marsad.model.records import AssertionRecord, ParseMeta
from marsad.products import alert_store
from marsad.store import alert_reads
from marsad.store.store import Store
from tests.exchange.taxii_world import BearerAuth, build, headers, serving, visible_ids

TODAY = dt.date.today()


class World:
    def __init__(self, store: Store, url: str, tokens: dict[str, str]) -> None:
        self.store, self.url, self.tokens = store, url, tokens

    def root(self, org: str) -> ApiRoot:
        server = Server(f"{self.url}/taxii2/", auth=BearerAuth(self.tokens[org]))
        assert server.title == "Marsad TAXII 2.1"
        [root] = server.api_roots
        return root

    def collection(self, org: str, alias: str) -> Collection:
        [found] = [c for c in self.root(org).collections if c.alias == alias]
        return found

    def ids(self, objects: list[dict[str, Any]]) -> set[int]:
        codec = codec_of(self.store)
        found = {codec.assertion_id(o["id"]) for o in objects}
        assert None not in found
        return found  # type: ignore[return-value]


@pytest.fixture
def world(store: Store) -> Iterator[World]:
    tokens = build(store)
    with serving(store) as url:
        yield World(store, url, tokens)


def test_discovery_and_collections_are_per_caller(world: World) -> None:
    root = world.root("Fiji CCU")
    assert root.versions == [TAXII_MEDIA]
    by_alias = {c.alias: c for c in root.collections}
    assert set(by_alias) == {"all", "clear", "green", "amber", "amber-strict", "red", "inbox"}
    assert by_alias["inbox"].can_write and not by_alias["inbox"].can_read
    assert by_alias["red"].can_read and not by_alias["red"].can_write
    assert by_alias["inbox"].title == "Inbox of Fiji CCU"
    other = {c.alias: c.id for c in world.root("PhishGuard").collections}
    assert other["inbox"] != by_alias["inbox"].id
    assert other["amber"] == by_alias["amber"].id  # scope collections are the same for all


def test_paging_returns_exactly_what_the_policy_allows(world: World) -> None:
    for org in ("Fiji CCU", "Tonga CERT", "ASP Desk", "PhishGuard"):
        coll = world.collection(org, "all")
        objects: list[dict[str, Any]] = []
        pages = 0
        for envelope in as_pages(coll.get_objects, per_request=4):
            pages += 1
            objects += envelope.get("objects", [])
        expected = visible_ids(world.store, org)
        assert len(expected) >= 12
        assert world.ids(objects) == expected, org
        assert len(objects) == len(expected)  # no object twice across pages
        assert pages == -(-len(expected) // 4)  # the last full page already says no more
        added = [o["modified"] for o in objects]
        assert added == sorted(added)


def test_scope_collections_split_by_tlp(world: World) -> None:
    total = 0
    for tlp in TLP:
        coll = world.collection("ASP Desk", tlp.value.replace("+", "-"))
        objects = coll.get_objects().get("objects", [])
        assert {o["object_marking_refs"][0] for o in objects} <= {stix21.V.TLP2_MARKING_IDS[tlp]}
        assert world.ids(objects) == visible_ids(world.store, "ASP Desk", tlp)
        total += len(objects)
    assert total == len(visible_ids(world.store, "ASP Desk"))


def test_objects_read_back_with_their_handling(world: World) -> None:
    objects = world.collection("Tonga CERT", "amber").get_objects()["objects"]
    assert objects
    raw = orjson.dumps({"type": "bundle", "id": "bundle--0", "objects": objects})
    records = [r for r in stix21.parse(raw, ParseMeta()) if isinstance(r, AssertionRecord)]
    assert len(records) == len(objects)
    for r in records:
        assert r.handling is not None
        assert r.handling.tlp is TLP.AMBER
        assert r.handling.releasable_to.tokens() == ["org:Tonga CERT"]


def test_manifest_object_versions_and_filters(world: World) -> None:
    coll = world.collection("Fiji CCU", "all")
    objects = coll.get_objects()["objects"]
    manifest = coll.get_manifest()["objects"]
    assert [m["id"] for m in manifest] == [o["id"] for o in objects]
    assert all(m["version"] == o["modified"] for m, o in zip(manifest, objects, strict=True))
    first = objects[0]
    got = coll.get_object(first["id"])["objects"]
    assert got == [first]
    versions = coll.object_versions(first["id"])
    assert versions["versions"] == [first["modified"]]
    assert coll.get_objects(type="malware").get("objects", []) == []
    assert len(coll.get_objects(type=["indicator"])["objects"]) == len(objects)
    assert coll.get_objects(spec_version="2.0").get("objects", []) == []
    picked = [o["id"] for o in objects[:3]]
    assert [o["id"] for o in coll.get_objects(id=picked)["objects"]] == picked
    assert len(coll.get_objects(version=first["modified"])["objects"]) >= 1
    last = max(o["modified"] for o in objects)
    assert coll.get_objects(added_after=last).get("objects", []) == []


def test_add_objects_ingests_a_submission_and_reports_status(world: World) -> None:
    source = world.collection("Tonga CERT", "green").get_objects()["objects"][:3]
    mine = [{**o, "id": o["id"].replace("indicator--", "indicator--")} for o in source]
    inbox = world.collection("PhishGuard", "inbox")
    status = inbox.add_objects({"objects": mine})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (3, 3, 0)
    again = world.root("PhishGuard").get_status(status.id)
    assert again.id == status.id and again.success_count == 3
    [sub] = world.store.list_submissions(source="PhishGuard", limit=1)
    assert sub.filename == "taxii-inbox.json" and sub.accepted + sub.merged == 3
    duplicate = inbox.add_objects({"objects": mine})
    assert duplicate.id == status.id  # the same envelope twice is one submission
    with pytest.raises(requests.HTTPError) as refused:
        world.root("Fiji CCU").get_status(status.id)
    assert refused.value.response.status_code == 404


def test_org_b_cannot_read_org_a_amber_or_red(world: World) -> None:
    fiji = {o["id"] for o in world.collection("Fiji CCU", "all").get_objects()["objects"]}
    partner = world.collection("PhishGuard", "all")
    seen = {o["id"] for o in partner.get_objects()["objects"]}
    hidden = fiji - seen
    assert hidden
    for tlp in ("amber", "amber-strict", "red"):
        objects = world.collection("PhishGuard", tlp).get_objects().get("objects", [])
        assert not (world.ids(objects) & world.ids([{"id": i} for i in hidden]))
    target = sorted(hidden)[0]
    with pytest.raises(requests.HTTPError) as refused:
        partner.get_object(target)
    assert refused.value.response.status_code == 404
    assert partner.get_objects(id=[target]).get("objects", []) == []
    denials = audit.entries(world.store, org="PhishGuard", outcome="deny")
    assert any(target in e.target for e in denials)
    assert any(e.details.get("count") == 1 for e in denials if e.target == "taxii collection all")
    with pytest.raises(requests.HTTPError) as inbox:
        Collection(
            f"{world.url}/taxii2/api/collections/{world.collection('Fiji CCU', 'inbox').id}/",
            auth=BearerAuth(world.tokens["PhishGuard"]),
        ).add_objects({"objects": []})
    assert inbox.value.response.status_code == 404


def test_reads_are_audited_with_their_ids(world: World) -> None:
    objects = world.collection("Tonga CERT", "all").get_objects()["objects"]
    [entry] = audit.entries(world.store, org="Tonga CERT", action="taxii-read", limit=1)
    assert entry.outcome == "allow"
    assert set(entry.details["ids"]) == world.ids(objects)


def test_media_types_and_errors(world: World) -> None:
    h = headers(world.tokens["Fiji CCU"])
    base = f"{world.url}/taxii2/api/collections/"
    assert requests.get(base, headers={**h, "Accept": "application/json"}).status_code == 406
    ok = requests.get(base, headers={**h, "Accept": "application/taxii+json"})
    assert ok.status_code == 200 and ok.headers["content-type"] == TAXII_MEDIA
    inbox = next(c for c in ok.json()["collections"] if c["alias"] == "inbox")["id"]
    wrong = requests.post(f"{base}{inbox}/objects/", data=b"{}",
                          headers={**h, "Content-Type": "application/json"})  # fmt: skip
    assert wrong.status_code == 415
    bad = requests.post(f"{base}{inbox}/objects/", data=b"[1]",
                        headers={**h, "Content-Type": TAXII_MEDIA})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["http_status"] == "400"
    anon = requests.get(base, headers={"Accept": TAXII_MEDIA})
    assert anon.status_code == 401 and anon.headers["content-type"] == TAXII_MEDIA
    junk = requests.get(f"{base}{inbox.replace('a', 'b')}/objects/?next=zz", headers=h)
    assert junk.status_code in (400, 404)


def test_objects_posted_to_an_inbox_raise_alerts_for_watchers(world: World) -> None:
    alert_store.add_entry(world.store, "Tonga CERT", "cctld", "to")
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5a3c2b8e-1f4d-4c1e-9a7b-2d6e8f0a1b2c",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": "2026-11-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'pay.bank.to']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
        "labels": ["phishing"],
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }
    status = world.collection("PhishGuard", "inbox").add_objects({"objects": [indicator]})
    assert status.status == "complete" and status.success_count == 1
    viewer = world.store.viewer("Tonga CERT", Role.ANALYST)
    org_id = world.store.org("Tonga CERT").id
    found = alert_reads.list_alerts(world.store, org_id, "Tonga CERT", grant_for(viewer, TODAY))
    assert [(a.value, a.reasons) for a in found] == [("pay.bank.to", ["cctld:to"])]
