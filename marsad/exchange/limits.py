"""Request size limit, enforced while the body arrives rather than after it is buffered.

A declared ``Content-Length`` over the limit is refused before a byte is read; a chunked
or lying body is cut off as soon as the running count passes the limit. Either way the
answer is a 413 problem document. A path or query holding a NUL byte is refused (400)
before any route sees it: no identifier or filter contains one, and PostgreSQL text
cannot store one, so it could only end as a server error deeper in.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marsad.exchange.problems import PROBLEM_JSON, Problem, problem_body


class BodyTooLarge(Problem):
    """The request body passed the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the limit of {limit:,} bytes",
            kind="body-too-large",
            limit=limit,
        )


class NulInRequest(Problem):
    """The path or query string holds a NUL byte."""

    def __init__(self, where: str) -> None:
        super().__init__(
            400, f"the request {where} contains a NUL (0x00) byte", kind="nul-byte", where=where
        )


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    if b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]:
        return "query string"
    return None


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nul_where = _nul_in(scope)
        if nul_where is not None:
            await _refuse(scope, send, NulInRequest(nul_where))
            return
        limit = self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, BodyTooLarge(limit))
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # raised where no handler turned it into a response
            if not started:
                await _refuse(scope, send, exc)


async def _refuse(scope: Scope, send: Send, exc: Problem) -> None:
    status = exc.status_code
    body = problem_body(status, str(exc.detail), scope["path"], exc.kind, **exc.extra)
    headers: list[Any] = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
