"""Results of verifying a file's digital signatures, one row per file's bytes (by SHA-256).

A result depends only on the bytes and the trust set, so a document's attachment and the inbox
attachment it came from (same bytes) share it. ``state`` is ``pending`` while a large file waits
for the worker, ``done`` once checked; ``trust_fingerprint`` names the trust set it was checked
against and ``checked_at`` when. Re-verifying replaces the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class SignatureCheck(Base):
    __tablename__ = "signature_checks"
    __table_args__ = (
        Index("ix_signature_checks_pending", "id", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | done
    status: Mapped[str | None] = mapped_column(String(16))  # unsigned | valid | untrusted | invalid | unsupported
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    trust_fingerprint: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
