"""Revoked tokens and the security log (issue 11): who logged in, failed, was locked out, changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class RevokedToken(Base):
    """A token given up before its expiry (``POST /auth/logout``), by its ``jti``; kept until it
    would have expired anyway, then swept."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SecurityEvent(Base):
    """One entry of the append-only security log (``GET /audit/security-events``).

    ``username`` is whom the event is about (as typed, for a failed login of an unknown name);
    ``actor`` who caused it, when someone else did (an admin). The login throttle counts the
    ``login_failed`` entries (app.services.throttle), so the log is also the throttle's memory,
    shared by every server process. On PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "security_events"
    __table_args__ = (
        Index("ix_security_events_username_kind_at", "username", "kind", "at"),
        Index("ix_security_events_client_kind_at", "client", "kind", "at"),
        Index("ix_security_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
