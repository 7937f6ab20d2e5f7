"""What every API resource shares: JSON rendering of records, opaque cursors, paging."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any

import msgspec
from fastapi import Query, Request
from starlette.responses import Response

from marsad.exchange.auth import settings_of
from marsad.exchange.problems import Problem
from marsad.model.handling import Handling, HandlingError, parse_tlp
from marsad.model.observable import ObservableType
from marsad.model.records import ThreatType
from marsad.store.reads import AssertionQuery, EntityRow, RelationshipRow
from marsad.store.store import StoredAssertion

Limit = Annotated[
    int, Query(ge=1, description="Items per page (the server caps it, 1,000 by default).")
]
Cursor = Annotated[
    str | None, Query(description="The `next` value of the previous page; omit for the first.")
]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON encoded by msgspec (records, dates and enums included), fast on large pages."""
    return Response(
        msgspec.json.encode(data), status_code=status, media_type="application/json",
        headers=headers,
    )  # fmt: skip


def encode_cursor(kind: str, last_id: int) -> str:
    """An opaque cursor that resumes a listing after ``last_id``."""
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The id a cursor resumes after; a 400 problem when it is not one of ours."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, value = text.partition(":")
        if found == kind and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Problem(400, f"cursor {cursor[:40]!r} is not a cursor of this listing", kind="cursor")


def page_of(
    kind: str, rows: list[Any], limit: int, key: Any = None
) -> tuple[list[Any], str | None]:
    """Split a fetched ``limit`` + 1 rows into the page and the cursor of the next one."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, encode_cursor(kind, key(last) if key else last.id)


class Paging:
    """The page a listing was asked for: its size and where it resumes."""

    def __init__(self, limit: int, cursor: str | None) -> None:
        self.limit = limit
        self.cursor = cursor

    def after(self, kind: str) -> int | None:
        """The id this page resumes after (None: from the start)."""
        return decode_cursor(kind, self.cursor)


def paging(request: Request, limit: Limit = 100, cursor: Cursor = None) -> Paging:
    """A dependency: the page asked for, refused above the server's page size."""
    max_page = settings_of(request).max_page
    if limit > max_page:
        raise Problem(
            422, f"limit {limit} is above this server's page size of {max_page}", kind="limit"
        )
    return Paging(limit, cursor)


def assertion_filters(
    type: Annotated[list[ObservableType] | None, Query(description="Observable types.")] = None,
    threat_type: Annotated[list[ThreatType] | None, Query(description="Threat types.")] = None,
    source: Annotated[list[str] | None, Query(description="Source organisations.")] = None,
    country: Annotated[
        list[str] | None,
        Query(description="Countries of the source organisations (ISO 3166-1 alpha-2)."),
    ] = None,
    since: Annotated[
        dt.datetime | None, Query(description="Last seen on or after (UTC unless zoned).")
    ] = None,
    until: Annotated[dt.datetime | None, Query(description="First seen on or before.")] = None,
    max_tlp: Annotated[
        str | None, Query(description="Leave out anything more restrictive than this TLP.")
    ] = None,
) -> AssertionQuery:
    """A dependency: assertion filters from the query string (repeat a key for several)."""
    try:
        tlp = parse_tlp(max_tlp) if max_tlp else None
    except HandlingError as exc:
        raise Problem(422, f"max_tlp: {exc}", kind="invalid-value") from None
    return AssertionQuery(
        types=tuple(type or ()), threat_types=tuple(threat_type or ()),
        sources=tuple(source or ()), countries=tuple(country or ()),
        since=since, until=until, max_tlp=tlp,
    )  # fmt: skip


def handling_json(h: Handling) -> dict[str, Any]:
    """A record's handling and grading as the API shows it."""
    return {
        "tlp": h.tlp.label,
        "pap": h.pap.label,
        "releasable_to": h.releasable_to.tokens(),
        "grading": h.grading,
        "purpose": h.purpose.value,
        "retain_until": h.retain_until,
        "review_at": h.review_at,
    }


def assertion_json(a: StoredAssertion) -> dict[str, Any]:
    """One assertion with its observable, source, handling and provenance."""
    v = a.view
    return {
        "id": a.id,
        "type": v.observable.type.value,
        "value": v.observable.value,
        "threat_type": v.threat_type.value,
        "source": v.source,
        **handling_json(v.handling),
        "first_seen": v.first_seen,
        "last_seen": v.last_seen,
        "sightings": v.sightings,
        "confidence": v.confidence,
        "name": v.name,
        "description": v.description,
        "stix_id": v.stix_id,
        "first_submission_id": a.first_submission_id,
        "last_submission_id": a.last_submission_id,
    }


def entity_json(e: EntityRow) -> dict[str, Any]:
    """One entity with its source and handling."""
    return {
        "id": e.id, "ref": e.ref, "kind": e.kind, "name": e.name, "description": e.description,
        "attributes": e.attributes, "source": e.source, **handling_json(e.handling),
        "first_seen": e.first_seen, "last_seen": e.last_seen,
    }  # fmt: skip


def relationship_json(r: RelationshipRow) -> dict[str, Any]:
    """One relationship with its source and handling."""
    return {
        "id": r.id, "source_ref": r.source_ref, "type": r.type, "target_ref": r.target_ref,
        "source": r.source, "stix_id": r.stix_id, "attributes": r.attributes, "count": r.count,
        **handling_json(r.handling), "first_seen": r.first_seen, "last_seen": r.last_seen,
    }  # fmt: skip
