"""RFC 9457 problem details: every error the API returns is ``application/problem+json``.

Routing errors (404, 405), validation errors (422), errors Marsad expects (bad values,
denied access) and unexpected failures all take the same shape: ``type``, ``title``,
``status``, ``detail``, ``instance``, plus extension members where they help (``errors``
for validation). A failure never shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from marsad.model.errors import MarsadError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:marsad:problem:"
log = logging.getLogger("marsad.exchange")


class Problem(StarletteHTTPException):
    """An error with a problem type; raise it anywhere in a request."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.kind = kind
        self.extra = extra


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int, detail: str, instance: str, kind: str | None = None, **extra: Any
) -> bytes:
    """The serialised problem document."""
    doc: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return msgspec.json.encode(doc)


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response for this request."""
    return Response(
        problem_body(status, detail, request.url.path, kind, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, Problem):
        return problem_response(
            request, exc.status_code, str(exc.detail), kind=exc.kind, headers=exc.headers,
            **exc.extra,
        )  # fmt: skip
    detail = {
        404: f"there is no resource at {request.url.path}",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(exc.status_code, str(exc.detail))
    return problem_response(request, exc.status_code, detail, headers=exc.headers)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"where": _where(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    first = errors[0] if errors else {"where": "request", "message": "invalid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem_response(
        request, 422, f"{first['where']}: {first['message']}{more}", kind="invalid-request",
        errors=errors[:100],
    )  # fmt: skip


async def _marsad_error(request: Request, exc: Exception) -> Response:
    return problem_response(request, 422, str(exc), kind="invalid-value")


async def _unexpected(request: Request, exc: Exception) -> Response:
    if "NUL (0x00)" in str(exc):  # PostgreSQL refused a NUL from a request body
        return problem_response(
            request, 400, "a text field contains a NUL (0x00) byte, which cannot be stored",
            kind="nul-byte",
        )  # fmt: skip
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        request, 500, f"internal error ({type(exc).__name__}); the server log has the details"
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(MarsadError, _marsad_error)
    app.add_exception_handler(Exception, _unexpected)
