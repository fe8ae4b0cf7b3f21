"""Attachment metadata."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.common import Schema


class AttachmentOut(Schema):
    id: int
    filename: str = Field(description="The uploaded name, made safe: no directories, no control characters")
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
