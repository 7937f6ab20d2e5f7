"""Federation over TAXII 2.1: pull a remote collection in, push what a peer may receive out.

*Pull* pages through a remote collection from the bookmark (the newest date added seen
last time, kept in the store's ``instance_state``) and ingests each page as a submission
from the local organisation that stands for the remote; revoked objects mark the matching
assertions revoked. *Push* reads the local assertions the peer's organisation may see
under the local policy (never what came from the peer itself) and posts them to the
remote inbox. Both are idempotent: the bookmark skips what was done, and the same page
bytes from the same source are a duplicate submission on either side. The bookmark only
moves when a whole run succeeded, so an interrupted run is simply repeated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import orjson

from marsad.access import audit
from marsad.access.policy import grant_for
from marsad.exchange.taxii_inbox import ingest_objects
from marsad.exchange.taxii_objects import IdCodec, indicator, parse_ts, ts, utc
from marsad.model.errors import MarsadError
from marsad.store import federation, taxii_reads
from marsad.store.store import Store

TAXII_MEDIA = "application/taxii+json;version=2.1"


class SyncError(MarsadError):
    """The remote could not be reached or refused; the message says which and why."""


class SyncResult(msgspec.Struct, kw_only=True):
    """What one pull or push did."""

    direction: str
    remote: str
    collection: str
    pages: int = 0
    objects: int = 0
    submissions: list[int] = msgspec.field(default_factory=list)
    duplicates: int = 0
    revoked: int = 0
    bookmark_before: str | None = None
    bookmark_after: str | None = None


class Remote:
    """One TAXII 2.1 API root, spoken to with a bearer token."""

    def __init__(self, url: str, token: str, *, client: httpx.Client | None = None) -> None:
        self.http = client or httpx.Client(timeout=120.0)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA}
        self.root = self._api_root(url if url.endswith("/") else url + "/")

    def get(self, url: str, **params: Any) -> httpx.Response:
        return self._check(url, lambda: self.http.get(url, params=params, headers=self.headers))

    def post(self, url: str, body: bytes) -> httpx.Response:
        headers = {**self.headers, "Content-Type": TAXII_MEDIA}
        return self._check(url, lambda: self.http.post(url, content=body, headers=headers))

    def _check(self, url: str, call: Any) -> httpx.Response:
        try:
            resp: httpx.Response = call()
        except httpx.HTTPError as exc:
            raise SyncError(f"cannot reach {url}: {exc}") from None
        if resp.status_code >= 400:
            try:
                said = orjson.loads(resp.content)
                reason = said.get("description") or said.get("detail") or said.get("title")
            except (orjson.JSONDecodeError, AttributeError):
                reason = resp.text[:200]
            raise SyncError(f"{url} answered {resp.status_code}: {reason}")
        return resp

    def _api_root(self, url: str) -> str:
        doc = orjson.loads(self.get(url).content)
        if "api_roots" in doc:  # a discovery URL: take its default API root
            roots = doc.get("api_roots") or []
            found = doc.get("default") or (roots[0] if roots else None)
            if not found:
                raise SyncError(f"{url} lists no TAXII API root")
            return str(found)
        return url

    def collection(self, wanted: str, *, write: bool) -> str:
        """The collection id for an id or alias, checked for the access we need."""
        listing = orjson.loads(self.get(self.root + "collections/").content)
        for c in listing.get("collections") or []:
            if wanted in (c.get("id"), c.get("alias"), c.get("title")):
                if not c.get("can_write" if write else "can_read"):
                    verb = "write to" if write else "read"
                    raise SyncError(f"the remote does not let this token {verb} {wanted!r}")
                return str(c["id"])
        raise SyncError(f"the remote has no collection {wanted!r} for this token")

    def pages(self, collection_id: str, added_after: str | None, limit: int) -> Iterator[Any]:
        """Each page of objects added after the bookmark, with its date-added-last header."""
        url = f"{self.root}collections/{collection_id}/objects/"
        params: dict[str, Any] = {"limit": limit}
        if added_after:
            params["added_after"] = added_after
        while True:
            resp = self.get(url, **params)
            envelope = orjson.loads(resp.content)
            yield envelope.get("objects") or [], resp.headers.get("X-TAXII-Date-Added-Last")
            if not envelope.get("more") or not envelope.get("next"):
                return
            params["next"] = envelope["next"]


def _key(direction: str, root: str, collection: str, org: str) -> str:
    return f"sync:{direction}:{root}:{collection}:{org}"


def pull(
    store: Store, remote: Remote, collection: str, *, as_source: str, limit: int = 1000
) -> SyncResult:
    """Ingest what the remote collection added since the bookmark, as ``as_source``."""
    store.org(as_source)  # a clear error before any network work
    cid = remote.collection(collection, write=False)
    key = _key("pull", remote.root, cid, as_source)
    before = federation.get_state(store, key)
    result = SyncResult(direction="pull", remote=remote.root, collection=cid,
                        bookmark_before=before, bookmark_after=before)  # fmt: skip
    newest = before
    for objects, last in remote.pages(cid, before, limit):
        result.pages += 1
        if not objects:
            continue
        body = orjson.dumps(objects)
        digest = hashlib.sha256(body).hexdigest()
        report, revoked = ingest_objects(
            store, objects, as_source, digest, f"taxii-pull {remote.root}"
        )
        result.objects += len(objects)
        result.revoked += revoked
        if report.status == "duplicate":
            result.duplicates += 1
        else:
            result.submissions.append(report.submission_id)
        if last and (newest is None or parse_ts(last) > parse_ts(newest)):
            newest = last
    if newest != before and newest is not None:
        federation.set_state(store, key, newest)
        result.bookmark_after = newest
    return result


def push(
    store: Store, remote: Remote, collection: str, *, as_org: str, limit: int = 1000
) -> SyncResult:
    """Post to the remote what ``as_org`` may see here and was added since the bookmark."""
    viewer = store.viewer(as_org)
    grant = grant_for(viewer, dt.date.today())
    cid = remote.collection(collection, write=True)
    key = _key("push", remote.root, cid, as_org)
    before = federation.get_state(store, key)
    result = SyncResult(direction="push", remote=remote.root, collection=cid,
                        bookmark_before=before, bookmark_after=before)  # fmt: skip
    codec = IdCodec(federation.instance_id(store))
    q = taxii_reads.PageQuery(
        added_after=parse_ts(before) if before else None,
        exclude_sources=(viewer.org_id,) if viewer.org_id is not None else (),
        limit=limit,
    )
    newest: dt.datetime | None = None
    while rows := taxii_reads.page(store, grant, q):
        envelope = orjson.dumps({"objects": [indicator(r, codec) for r in rows]})
        status = orjson.loads(
            remote.post(f"{remote.root}collections/{cid}/objects/", envelope).content
        )
        audit.record(store, viewer, "taxii-push", f"{remote.root} collection {cid}",
                     actor="sync", details={**audit.id_summary([r.id for r in rows]),
                                            "status": status.get("id")})  # fmt: skip
        if status.get("failure_count"):
            raise SyncError(f"the remote refused {status['failure_count']} object(s) of a page: "
                            f"{(status.get('failures') or [{}])[0].get('message')}")  # fmt: skip
        result.pages += 1
        result.objects += len(rows)
        newest = utc(rows[-1].added)
        q = msgspec.structs.replace(q, after=taxii_reads.cursor_of(rows[-1]))
    if newest is not None:
        result.bookmark_after = ts(newest)
        federation.set_state(store, key, result.bookmark_after)
    return result
