"""What a console page needs besides its session: a database session, the time, the reader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import request_session
from app.models import User
from app.models.base import utcnow
from app.services.workflow import Identity, identities_for


async def page_session(request: Request) -> AsyncIterator[Session]:
    """One database session per page, as the API's (app.api.deps.get_session): read-only for a
    reading method; ``async`` so that closing it never waits for a worker thread."""
    session = request_session(request.app.state, request.method)
    try:
        yield session
    finally:
        session.close()


DB = Annotated[Session, Depends(page_session)]


@dataclass(frozen=True)
class Reader:
    """The signed-in user as the rules see them today: themself and the leaders they stand in for."""

    user: User
    identities: list[Identity]
    now: datetime
    today: date
    settings: Settings

    @property
    def delegators(self) -> list:
        return [i.on_behalf_of for i in self.identities if i.on_behalf_of]


def reader_for(session: Session, user: User, settings: Settings) -> Reader:
    now = utcnow()
    today = now.astimezone(settings.tz).date()
    return Reader(user=user, identities=identities_for(session=session, user=user, today=today), now=now,
                  today=today, settings=settings)


def reader_of(request: Request, session: Session, user: User) -> Reader:
    """The reader of this page, under the application's settings."""
    return reader_for(session, user, request.app.state.settings)
