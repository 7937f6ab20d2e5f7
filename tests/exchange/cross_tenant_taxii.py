"""Cross-tenant case generators for the TAXII 2.1 routes (imported by cross_tenant_cases).

Callers ask every collection (the scope collections, their own and other organisations'
inboxes, junk ids) with every filter TAXII has: added_after, limit, next (ours and junk),
match[type|id|version|spec_version]; objects by id (planted ids, ids of other instances,
junk); versions; status of their own and other organisations' submissions; posts to every
inbox. The shared test scans each answer for planted markers the policy denies the caller.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
from hypothesis import strategies as st

from marsad.access.policy import Grant, may_see
from marsad.exchange.taxii import TAXII_MEDIA, _token, codec_of
from marsad.exchange.taxii_collections import SCOPES, inbox
from marsad.exchange.taxii_objects import IdCodec, ts
from marsad.store.taxii_reads import Cursor
from tests.exchange.cross_tenant_cases import Case, _params, case
from tests.exchange.tenant_world import World

ROOT = "/taxii2/api"
ACCEPT = st.sampled_from(
    [TAXII_MEDIA] * 6 + ["application/taxii+json", "application/json", "*/*", ""]
)
_OTHER = IdCodec(str(uuid.UUID(int=0x4242 << 64 | 1 << 76)))  # another instance's ids
_BASE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _headers(accept: str) -> dict[str, str]:
    return {"Accept": accept} if accept else {}


def _collection(world: World) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([c.id for c in SCOPES]),
        st.sampled_from([inbox(name).id for name in world.org_names]),
        st.sampled_from(["all", "inbox", str(uuid.uuid4()), "..", "%"]),
    )


def _assertion_ids(world: World) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(sorted(world.assertions)), st.integers(1, 10**6))


def _object_id(world: World) -> st.SearchStrategy[str]:
    codec = codec_of(world.api.store)
    return st.one_of(
        st.builds(codec.object_id, _assertion_ids(world)),
        st.builds(codec.object_id, _assertion_ids(world)),
        st.builds(_OTHER.object_id, _assertion_ids(world)),
        st.sampled_from(["indicator--x", "malware--" + str(uuid.uuid4()), "junk"]),
    )


def _when() -> st.SearchStrategy[str]:
    return st.builds(lambda days: ts(_BASE + dt.timedelta(days=days)), st.floats(-400, 400))


def _next() -> st.SearchStrategy[str | None]:
    cursor = st.builds(
        lambda days, sub, a: _token(Cursor(_BASE + dt.timedelta(days=days), sub, a)),
        st.floats(-2, 2), st.integers(0, 40), st.integers(0, 400),
    )  # fmt: skip
    return st.one_of(st.none(), cursor, st.text("abcXYZ019=_-", max_size=12))


def _filters(world: World) -> st.SearchStrategy[dict[str, Any]]:
    ids = st.lists(_object_id(world), max_size=6).map(",".join)
    versions = st.one_of(st.sampled_from(["first", "last", "all", "last,first"]), _when(),
                         st.just(ts(_BASE)))  # fmt: skip
    return st.builds(
        _params,
        added_after=st.one_of(st.none(), _when(), st.just("yesterday")),
        limit=st.one_of(st.none(), st.integers(1, 60), st.sampled_from([1000, 1001, 0])),
        next=_next(),
        **{
            "match[type]": st.one_of(st.none(), st.sampled_from(["indicator", "malware",
                                                                 "indicator,relationship"])),
            "match[id]": st.one_of(st.none(), ids),
            "match[version]": st.one_of(st.none(), versions),
            "match[spec_version]": st.one_of(st.none(), st.sampled_from(["2.1", "2.0"])),
        },
    )  # fmt: skip


def _hidden_object_is_404(world: World, object_id: str) -> Any:
    assertion = codec_of(world.api.store).assertion_id(object_id)

    def check(_: World, grant: Grant, response: Any) -> None:
        mark = world.assertions.get(assertion) if assertion is not None else None
        if (mark is not None and not may_see(grant, mark)
                and response.status_code not in (400, 401, 406)):  # fmt: skip
            assert response.status_code in (403, 404), response.text  # never 200

    return check


@case("GET /taxii2/", 30)
def _discovery(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda a: Case("GET", "/taxii2/", headers=_headers(a)), ACCEPT)


@case(f"GET {ROOT}/", 30)
def _api_root(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda a: Case("GET", f"{ROOT}/", headers=_headers(a)), ACCEPT)


@case(f"GET {ROOT}/collections/", 60)
def _collections(world: World) -> st.SearchStrategy[Case]:
    return st.builds(lambda a: Case("GET", f"{ROOT}/collections/", headers=_headers(a)), ACCEPT)


@case(f"GET {ROOT}/collections/{{collection_id}}/", 100)
def _collection_one(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda c, a: Case("GET", f"{ROOT}/collections/{c}/", headers=_headers(a)),
        _collection(world), ACCEPT,
    )  # fmt: skip


@case(f"GET {ROOT}/collections/{{collection_id}}/objects/", 700)
def _objects(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda c, f, a: Case("GET", f"{ROOT}/collections/{c}/objects/", f, headers=_headers(a)),
        _collection(world), _filters(world), ACCEPT,
    )  # fmt: skip


@case(f"GET {ROOT}/collections/{{collection_id}}/manifest/", 300)
def _manifest(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda c, f, a: Case("GET", f"{ROOT}/collections/{c}/manifest/", f, headers=_headers(a)),
        _collection(world), _filters(world), ACCEPT,
    )  # fmt: skip


@case(f"GET {ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", 500)
def _object(world: World) -> st.SearchStrategy[Case]:
    def build(c: str, o: str, f: dict[str, Any], a: str, plain: bool) -> Case:
        f = {} if plain else {k: v for k, v in f.items() if k != "match[id]"}
        expect = _hidden_object_is_404(world, o) if plain else None
        return Case("GET", f"{ROOT}/collections/{c}/objects/{o}/", f, headers=_headers(a),
                    expect=expect)  # fmt: skip

    return st.builds(build, _collection(world), _object_id(world), _filters(world), ACCEPT,
                     st.booleans())  # fmt: skip


@case(f"GET {ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/", 300)
def _versions(world: World) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda c, o, a: Case("GET", f"{ROOT}/collections/{c}/objects/{o}/versions/",
                             headers=_headers(a), expect=_hidden_object_is_404(world, o)),
        _collection(world), _object_id(world), ACCEPT,
    )  # fmt: skip


@case(f"GET {ROOT}/status/{{status_id}}/", 300)
def _status(world: World) -> st.SearchStrategy[Case]:
    codec = codec_of(world.api.store)
    ids = st.one_of(
        st.builds(codec.status_id, st.sampled_from(sorted(world.submissions))),
        st.builds(codec.status_id, st.integers(1, 10**6)),
        st.builds(_OTHER.status_id, st.sampled_from(sorted(world.submissions))),
        st.sampled_from(["junk", str(uuid.uuid4())]),
    )

    def build(s: str, a: str) -> Case:
        sub = codec.submission_id(s)

        def check(_: World, grant: Grant, response: Any) -> None:
            owner = world.submissions.get(sub) if sub is not None else None
            if owner is not None and owner not in grant.own_org_ids and response.status_code == 200:
                raise AssertionError(
                    f"status of another organisation's submission: {response.text}"
                )

        return Case("GET", f"{ROOT}/status/{s}/", headers=_headers(a), expect=check)

    return st.builds(build, ids, ACCEPT)


@case(f"POST {ROOT}/collections/{{collection_id}}/objects/", 150)
def _add(world: World) -> st.SearchStrategy[Case]:
    def build(c: str, n: int, values: list[int], tlp: str, revoked: bool, kind: str) -> Case:
        objects = [{
            "type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'{n}-{v}')}",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "pattern": f"[domain-name:value = 'tx{n}-{v}.example.org']", "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z", "labels": ["phishing"], "revoked": revoked,
            "object_marking_refs": [f"marking-definition--{tlp}"],
        } for v in values]  # fmt: skip
        body = b"{not json" if kind == "broken" else orjson.dumps({"objects": objects})
        ctype = "application/json" if kind == "json" else TAXII_MEDIA
        return Case("POST", f"{ROOT}/collections/{c}/objects/", content=body,
                    headers={"Accept": TAXII_MEDIA, "Content-Type": ctype})  # fmt: skip

    tlps = st.sampled_from(["94868c89-83c2-464b-929b-a1a8aa3c8487",
                            "e828b379-4e03-4974-9ac4-e53a884c97c1", "junk"])  # fmt: skip
    return st.builds(
        build, _collection(world), st.integers(0, 10**9),
        st.lists(st.integers(0, 40), min_size=0, max_size=4), tlps, st.booleans(),
        st.sampled_from(["taxii"] * 4 + ["json", "broken"]),
    )  # fmt: skip
