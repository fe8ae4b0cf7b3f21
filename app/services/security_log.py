"""The security log (issue 11, finding 8): append-only, read by admins and auditors.

Kinds: logins (``login_succeeded``, ``login_failed``, ``login_locked`` when a failure reaches the
throttle's limit), ``logout``, ``tokens_revoked``, ``user_created``, ``user_changed``,
``password_changed`` (by the user), ``password_reset`` (by an admin), ``delegation_created``,
``delegation_revoked``. Written in the transaction of the change it records, so a change is never
without its entry; a failed login is committed on its own (nothing else is written then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import SecurityEvent
from app.models.base import utcnow

KINDS = (
    "login_succeeded", "login_failed", "login_locked", "logout", "tokens_revoked", "user_created", "user_changed",
    "password_changed", "password_reset", "delegation_created", "delegation_revoked",
)


def subject(name: str | None) -> str | None:
    """A name as the log keeps it (and the throttle looks it up): at most 64 characters, NUL
    (which PostgreSQL cannot store) as U+FFFD; a name typed at the login may be anything."""
    return (name or "").replace("\x00", "\ufffd")[:64] or None


def record(
    session: Session, kind: str, *, username: str | None, actor: str | None = None, client: str | None = None,
    at: datetime | None = None, **data: Any,
) -> None:
    assert kind in KINDS, kind
    session.add(SecurityEvent(at=at or utcnow(), kind=kind, username=subject(username), actor=subject(actor),
                              client=subject(client), data=data))


@dataclass(frozen=True)
class EventFilters:
    username: str | None = None
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def list_events(
    *, session: Session, filters: EventFilters, limit: int, offset: int
) -> tuple[Sequence[SecurityEvent], int]:
    """Newest first, with the total of the filtered log."""
    query = select(SecurityEvent)
    if filters.username is not None:
        query = query.where(SecurityEvent.username == filters.username)
    if filters.kind is not None:
        query = query.where(SecurityEvent.kind == filters.kind)
    if filters.since is not None:
        query = query.where(SecurityEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(SecurityEvent.at < filters.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc()).limit(limit).offset(offset))
    return list(rows), total
