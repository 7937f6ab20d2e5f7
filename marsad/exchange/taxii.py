"""The TAXII 2.1 server under ``/taxii2/``: discovery, one API root, collections, status.

Built as an `APIRouter` for the application (`marsad.exchange.app`); it uses the API's
bearer-token caller and ``permit`` dependencies (401/403 audited there) and answers its
own errors as TAXII error messages in ``application/taxii+json;version=2.1``. Every page
is read with the caller's grant applied in SQL (`marsad.store.taxii_reads`), and every
read is audited with the ids it returned; refusals are audited as denials.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Annotated, Any, Final

import msgspec
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from marsad.access.policy import Action
from marsad.exchange import taxii_inbox
from marsad.exchange.auth import Caller, permit, settings_of
from marsad.exchange.problems import Problem
from marsad.exchange.taxii_collections import Collection, collections_for, resolve
from marsad.exchange.taxii_objects import IdCodec, indicator, manifest_entry, parse_ts, ts, utc
from marsad.store import federation, taxii_reads
from marsad.store.store import Store

TAXII_MEDIA: Final = "application/taxii+json;version=2.1"
API_ROOT: Final = "api"
DEFAULT_LIMIT: Final = 1000
_VERSION_WORDS: Final = frozenset({"first", "last", "all"})

Reader = Annotated[Caller, Depends(permit(Action.READ))]
Submitter = Annotated[Caller, Depends(permit(Action.SUBMIT))]


def _error(status: int, description: str, headers: Mapping[str, str] | None = None) -> Response:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"title": title, "description": description, "http_status": str(status)}
    return Response(orjson.dumps(body), status, headers=headers, media_type=TAXII_MEDIA)


class TaxiiRoute(APIRoute):
    """A route whose errors (its dependencies' included) are TAXII error messages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except StarletteHTTPException as exc:
                return _error(exc.status_code, str(exc.detail), exc.headers)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
                where = ".".join(str(p) for p in first["loc"])
                return _error(400, f"{where}: {first['msg']}")

        return handler


def _media_ok(value: str, *, allow_any: bool) -> bool:
    for part in value.split(","):
        kind, *params = (p.strip().lower() for p in part.split(";"))
        if allow_any and kind in ("*/*", "application/*"):
            continue
        if kind != "application/taxii+json":
            continue
        versions = [p.partition("=")[2].strip() for p in params if p.startswith("version")]
        if not versions or versions == ["2.1"]:
            return True
    return False


def accepts_taxii(request: Request) -> None:
    """406 unless the client accepts ``application/taxii+json;version=2.1``."""
    if not _media_ok(request.headers.get("accept", ""), allow_any=False):
        raise Problem(406, f"this endpoint answers only {TAXII_MEDIA}: send it in Accept")


def sends_taxii(request: Request) -> None:
    """415 unless the body is ``application/taxii+json;version=2.1``."""
    if not _media_ok(request.headers.get("content-type", ""), allow_any=False):
        raise Problem(415, f"send the envelope as Content-Type: {TAXII_MEDIA}")


def _taxii(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type=TAXII_MEDIA)


class _Filters(msgspec.Struct, frozen=True, kw_only=True):
    added_after: str | None = None
    limit: int | None = None
    next: str | None = None
    type: str | None = None
    id: str | None = None
    version: str | None = None
    spec_version: str | None = None


def _filters(
    added_after: Annotated[str | None, Query(description="Objects added after this time.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Objects per page.")] = None,
    next_: Annotated[str | None, Query(alias="next", description="Next-page token.")] = None,
    match_type: Annotated[str | None, Query(alias="match[type]")] = None,
    match_id: Annotated[str | None, Query(alias="match[id]")] = None,
    match_version: Annotated[str | None, Query(alias="match[version]")] = None,
    match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
) -> _Filters:
    return _Filters(
        added_after=added_after, limit=limit, next=next_, type=match_type, id=match_id,
        version=match_version, spec_version=match_spec_version,
    )  # fmt: skip


Filters = Annotated[_Filters, Depends(_filters)]


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _cursor(token: str | None) -> taxii_reads.Cursor | None:
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return msgspec.json.decode(raw, type=taxii_reads.Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise Problem(400, f"next={token[:40]!r} is not a token this server gave") from None


def _token(cursor: taxii_reads.Cursor) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


_codecs: weakref.WeakKeyDictionary[Store, IdCodec] = weakref.WeakKeyDictionary()


def codec_of(store: Store) -> IdCodec:
    """The id codec of the instance behind ``store`` (read once per store)."""
    found = _codecs.get(store)
    if found is None:
        found = _codecs[store] = IdCodec(federation.instance_id(store))
    return found


def _query(
    codec: IdCodec, coll: Collection, f: _Filters, max_page: int, object_id: str | None = None
) -> taxii_reads.PageQuery | None:
    """The page query the filters ask for; None when they can match nothing here."""
    types, spec = _split(f.type), _split(f.spec_version)
    if (types is not None and "indicator" not in types) or (spec is not None and "2.1" not in spec):
        return None
    wanted = [object_id] if object_id else _split(f.id)
    ids = None
    if wanted is not None:
        ids = tuple(i for i in (codec.assertion_id(w) for w in wanted) if i is not None)
    versions = None
    words = _split(f.version) or ["last"]
    if not _VERSION_WORDS & set(words):
        try:
            versions = tuple(parse_ts(v) for v in words)
        except ValueError as exc:
            raise Problem(400, f"match[version]: {exc}") from None
    try:
        added_after = parse_ts(f.added_after) if f.added_after else None
    except ValueError as exc:
        raise Problem(400, f"added_after: {exc}") from None
    return taxii_reads.PageQuery(
        tlp=coll.tlp, added_after=added_after, ids=ids, versions=versions,
        after=_cursor(f.next), limit=min(f.limit or DEFAULT_LIMIT, max_page) + 1,
    )  # fmt: skip


def _page(
    request: Request, who: Caller, coll: Collection, f: _Filters, object_id: str | None = None
) -> tuple[list[Any], dict[str, Any], dict[str, str]]:
    """Rows of one page, the envelope's paging members and the date-added headers."""
    codec = codec_of(who.store)
    q = _query(codec, coll, f, settings_of(request).max_page, object_id)
    rows = taxii_reads.page(who.store, who.grant, q) if q is not None else []
    limit = (q.limit - 1) if q is not None else 0
    more = len(rows) > limit
    rows = rows[:limit]
    paging: dict[str, Any] = {"more": more}
    if more:
        paging["next"] = _token(taxii_reads.cursor_of(rows[-1]))
    headers = {}
    if rows:
        headers["X-TAXII-Date-Added-First"] = ts(utc(rows[0].added))
        headers["X-TAXII-Date-Added-Last"] = ts(utc(rows[-1].added))
    if q is not None and q.ids and not more:
        _audit_hidden(who, coll, tuple(sorted(set(q.ids) - {r.id for r in rows})))
    return rows, paging, headers


def _audit_hidden(who: Caller, coll: Collection, ids: tuple[int, ...]) -> None:
    """Ids asked for by name that exist but the policy withholds: an audited denial."""
    if not ids:
        return
    shown = {r.id for r in taxii_reads.page(who.store, who.grant, taxii_reads.PageQuery(
        ids=ids, limit=len(ids)))}  # fmt: skip
    hidden = sorted(taxii_reads.existing_ids(who.store, [i for i in ids if i not in shown]))
    if hidden:
        who.audit("taxii-read", f"taxii collection {coll.alias}", ids=hidden, outcome="deny",
                  reason="the access policy withholds these objects")  # fmt: skip


def _readable(who: Caller, collection_id: str, what: str) -> Collection:
    coll = resolve(collection_id, who.viewer)
    target = f"taxii collection {collection_id} {what}"
    if coll is None:
        who.deny("taxii-read", target, 404, f"there is no collection {collection_id} for you")
    if coll.inbox_of is not None:
        who.deny("taxii-read", target, 403, f"collection {coll.alias} is write-only")
    return coll


def taxii_router() -> APIRouter:
    """The TAXII 2.1 routes; the app supplies ``state.store`` and ``state.settings``."""
    router = APIRouter(
        prefix="/taxii2", tags=["TAXII 2.1"], route_class=TaxiiRoute,
        dependencies=[Depends(accepts_taxii)],
    )  # fmt: skip

    @router.get("/", summary="TAXII discovery")
    def discovery(request: Request, who: Reader) -> Response:
        root = str(request.url_for("api_root"))
        return _taxii({
            "title": "Marsad TAXII 2.1",
            "description": "Cybercrime intelligence shared under the platform's access policy.",
            "default": root,
            "api_roots": [root],
        })  # fmt: skip

    @router.get(f"/{API_ROOT}/", summary="TAXII API root", name="api_root")
    def api_root(request: Request, who: Reader) -> Response:
        return _taxii({
            "title": "Marsad",
            "description": "Collections per sharing scope, and your organisation's inbox.",
            "versions": [TAXII_MEDIA],
            "max_content_length": settings_of(request).max_body_bytes,
        })  # fmt: skip

    @router.get(f"/{API_ROOT}/collections/", summary="Collections you may use")
    def collections(who: Reader) -> Response:
        return _taxii(
            {"collections": [c.resource(who.viewer) for c in collections_for(who.viewer)]}
        )

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/", summary="One collection")
    def collection(collection_id: str, who: Reader) -> Response:
        coll = resolve(collection_id, who.viewer)
        if coll is None:
            who.deny("taxii-read", f"taxii collection {collection_id}", 404,
                     f"there is no collection {collection_id} for you")  # fmt: skip
        return _taxii(coll.resource(who.viewer))

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/objects/", summary="Objects")
    def objects(request: Request, collection_id: str, who: Reader, f: Filters) -> Response:
        coll = _readable(who, collection_id, "objects")
        rows, paging, headers = _page(request, who, coll, f)
        codec = codec_of(who.store)
        who.audit("taxii-read", f"taxii collection {coll.alias} objects",
                  ids=[r.id for r in rows], collection=coll.alias)  # fmt: skip
        return _taxii({**paging, "objects": [indicator(r, codec) for r in rows]}, 200, headers)

    @router.get(f"/{API_ROOT}/collections/{{collection_id}}/manifest/", summary="Manifest")
    def manifest(request: Request, collection_id: str, who: Reader, f: Filters) -> Response:
        coll = _readable(who, collection_id, "manifest")
        rows, paging, headers = _page(request, who, coll, f)
        codec = codec_of(who.store)
        who.audit("taxii-read", f"taxii collection {coll.alias} manifest",
                  ids=[r.id for r in rows], collection=coll.alias)  # fmt: skip
        return _taxii({**paging, "objects": [manifest_entry(r, codec) for r in rows]}, 200, headers)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/", summary="One object"
    )
    def one_object(
        request: Request, collection_id: str, object_id: str, who: Reader, f: Filters
    ) -> Response:
        coll = _readable(who, collection_id, "object")
        rows, paging, headers = _page(request, who, coll, f, object_id)
        if not rows and not f.version and not f.added_after:
            who.deny("taxii-read", f"taxii collection {coll.alias} object {object_id}", 404,
                     f"there is no object {object_id} in collection {coll.alias} for you")  # fmt: skip
        codec = codec_of(who.store)
        who.audit("taxii-read", f"taxii collection {coll.alias} object",
                  ids=[r.id for r in rows], collection=coll.alias)  # fmt: skip
        return _taxii({**paging, "objects": [indicator(r, codec) for r in rows]}, 200, headers)

    @router.get(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/{{object_id}}/versions/",
        summary="Versions of one object",
    )
    def versions(
        request: Request, collection_id: str, object_id: str, who: Reader, f: Filters
    ) -> Response:
        coll = _readable(who, collection_id, "versions")
        plain = _Filters(added_after=f.added_after, limit=f.limit, next=f.next,
                         spec_version=f.spec_version)  # fmt: skip
        rows, paging, headers = _page(request, who, coll, plain, object_id)
        if not rows and not f.added_after:
            who.deny("taxii-read", f"taxii collection {coll.alias} versions {object_id}", 404,
                     f"there is no object {object_id} in collection {coll.alias} for you")  # fmt: skip
        who.audit("taxii-read", f"taxii collection {coll.alias} versions",
                  ids=[r.id for r in rows], collection=coll.alias)  # fmt: skip
        return _taxii({**paging, "versions": [ts(utc(r.added)) for r in rows]}, 200, headers)

    @router.post(
        f"/{API_ROOT}/collections/{{collection_id}}/objects/",
        summary="Add objects (ingested as a submission)",
        dependencies=[Depends(sends_taxii)],
    )
    async def add_objects(request: Request, collection_id: str, who: Submitter) -> Response:
        coll = resolve(collection_id, who.viewer)
        target = f"taxii collection {collection_id} add"
        if coll is None:
            who.deny("taxii-submit", target, 404, f"there is no collection {collection_id} for you")
        if coll.inbox_of != who.viewer.org_name:
            who.deny("taxii-submit", target, 403,
                     f"collection {coll.alias} is read-only: post to your inbox")  # fmt: skip
        body = await request.body()
        status = await taxii_inbox.submit_async(who, body, codec_of(who.store))
        return _taxii(status, 202)

    @router.get(f"/{API_ROOT}/status/{{status_id}}/", summary="Status of an add request")
    def status(status_id: str, who: Reader) -> Response:
        store = who.store
        found = taxii_inbox.status_of(store, who, status_id, codec_of(store))
        return _taxii(found)

    return router
