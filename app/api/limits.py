"""Refuse oversized uploads before they are parsed (413), not after they fill the disk."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.errors import PayloadTooLarge

# Multipart framing (boundaries, part headers) on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class UploadSizeLimit:
    """Pure ASGI middleware: caps request bodies of POSTs to ``*/attachments`` and, with a cap of
    its own, to ``*/appendices/import``.

    A declared Content-Length over the cap is answered at once; a body without one
    (chunked) is counted as it streams and cut off when it passes the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, appendix_max_bytes: int | None = None) -> None:
        self.app = app
        self.limits = {"/attachments": (max_bytes, "attachments")}
        if appendix_max_bytes is not None:
            self.limits["/appendices/import"] = (appendix_max_bytes, "appendix files")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/") if scope["type"] == "http" and scope["method"] == "POST" else ""
        limit = next((v for suffix, v in self.limits.items() if path.endswith(suffix)), None) if path else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        max_bytes, what = limit
        max_body = max_bytes + MULTIPART_OVERHEAD
        message = f"{what} are limited to {max_bytes // (1024 * 1024)} MB"
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_body:
                await problem_response(413, slug=PayloadTooLarge.slug, title=PayloadTooLarge.title, detail=message)(
                    scope, receive, send
                )
                return

        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > max_body:
                    # An HTTPException, not an AppError: FastAPI turns any other error raised
                    # while it parses a form into a 400.
                    raise HTTPException(413, detail=message)
            return msg

        await self.app(scope, counting_receive, send)
