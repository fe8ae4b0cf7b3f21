"""Refuse oversized uploads before they are parsed (413), not after they fill the disk."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import MAX_JSON_BODY_KB, problem_response
from app.errors import PayloadTooLarge
from app.i18n import msg

# Multipart framing (boundaries, part headers) on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class UploadSizeLimit:
    """Pure ASGI middleware: caps request bodies of POSTs to ``*/attachments`` and, with caps of
    their own, to ``*/appendices/import`` and ``/exchange/messages``.

    A declared Content-Length over the cap is answered at once; a body without one
    (chunked) is counted as it streams and cut off when it passes the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, appendix_max_bytes: int | None = None,
                 exchange_max_bytes: int | None = None) -> None:
        self.app = app
        self.limits = {"/attachments": (max_bytes, msg("attachments are limited to {mb} MB"))}
        if exchange_max_bytes is not None:
            self.limits["/exchange/messages"] = (exchange_max_bytes, msg("edXML messages are limited to {mb} MB"))
        if appendix_max_bytes is not None:
            self.limits["/appendices/import"] = (appendix_max_bytes, msg("appendix files are limited to {mb} MB"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/") if scope["type"] == "http" and scope["method"] == "POST" else ""
        limit = next((v for suffix, v in self.limits.items() if path.endswith(suffix)), None) if path else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        max_bytes, text = limit
        max_body = max_bytes + MULTIPART_OVERHEAD
        message = text.with_params(mb=max_bytes // (1024 * 1024))
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_body:
                await problem_response(Request(scope), 413, code=PayloadTooLarge.code, slug=PayloadTooLarge.slug,
                                       title=PayloadTooLarge.title, detail=message)(scope, receive, send)
                return

        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            received = await receive()
            if received["type"] == "http.request":
                seen += len(received.get("body", b""))
                if seen > max_body:
                    # An HTTPException, not an AppError: FastAPI turns any other error raised
                    # while it parses a form into a 400.
                    raise HTTPException(413, detail=message)
            return received

        await self.app(scope, counting_receive, send)


MAX_JSON_BODY = MAX_JSON_BODY_KB * 1024
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _is_json(content_type: bytes | None) -> bool:
    """JSON, ``+json``, or no type at all (FastAPI parses an untyped body as JSON)."""
    if not content_type:
        return True
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (media_type.startswith(b"application/") and media_type.endswith(b"+json"))


class JsonBodyLimit:
    """Pure ASGI middleware: a JSON request body over ``max_bytes`` (1 MB) gets 413 before it is parsed.

    Every JSON body this API takes is a few kilobytes; parsing and validating a large one costs a
    worker thread for nothing. A declared Content-Length is checked at once and the body passes
    through untouched. A chunked body (no Content-Length) is read here, counting, up to the limit,
    and handed on as one message; past the limit the app never sees it. Uploads (multipart) are
    left to ``UploadSizeLimit`` and their own caps.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = msg("JSON bodies are limited to {kb} KB", kb=self.max_bytes // 1024)
        await problem_response(Request(scope), 413, code=PayloadTooLarge.code, slug=PayloadTooLarge.slug,
                               title=PayloadTooLarge.title, detail=detail)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not _is_json(headers.get(b"content-type")):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands out ``messages``, then defers to the real one (disconnects)."""
    pending = list(messages)

    async def replaying() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replaying
