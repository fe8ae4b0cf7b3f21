"""Path parameters shared by the routes (FastAPI's ``Path``, which the schemas must not import)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from app.schemas.common import MAX_INT32


def id_path(description: str) -> Any:
    """A positive 32-bit id in the URL path."""
    return Annotated[int, Path(ge=1, le=MAX_INT32, description=description)]


DocumentId = id_path("Id of an incoming document")
AttachmentId = id_path("Id of an attachment of that document")
