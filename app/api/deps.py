"""Typed dependencies: settings, the request's database session, the current user, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.api.recent_users import RecentUsers
from app.config import Settings
from app.errors import Forbidden, NotAuthenticated
from app.models import User
from app.models.base import utcnow
from app.security import read_token_claims
from app.services.organisation import get_user
from app.workflow.vocabulary import Role

TOKEN_URL = "/api/v1/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency on a
# worker thread, and a hop to a thread and back for reading an attribute costs more than the
# work (measured on registration under load).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Writing endpoints commit once; closing rolls back the rest.

    ``async`` on purpose: the close runs on the event loop, never waiting for a worker
    thread, so a request that holds a database lock can always release it even when every
    worker thread is busy waiting for that lock.
    """
    factory = request.app.state.read_sessionmaker if request.method in READ_METHODS else request.app.state.sessionmaker
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()


async def get_statement_session(request: Request) -> AsyncIterator[Session]:
    """A session whose statements each commit on their own on PostgreSQL (see ``make_sessionmaker``).

    For an endpoint that writes a single statement: registering a document, whose counter
    lock then lasts one statement instead of a transaction's round trips.
    """
    session: Session = request.app.state.statement_sessionmaker()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
StatementSessionDep = Annotated[Session, Depends(get_statement_session)]


async def get_current_user(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The token's user, with unit and roles.

    A token seen in the last few seconds gets the user loaded for it then (``RecentUsers``),
    with no thread hand-off and no query; otherwise the user is loaded on a worker thread.
    """
    if not token:
        raise NotAuthenticated("a bearer token is required; get one from POST /api/v1/auth/token")
    recent: RecentUsers = request.app.state.recent_users
    user = recent.get(token)
    if user is None:
        user = await run_in_threadpool(_authenticate, request, settings, token, recent)
    return user


def _authenticate(request: Request, settings: Settings, token: str, recent: RecentUsers) -> User:
    """Check the token and load its user in a short read-only session of its own.

    Not the request's session: on SQLite that one takes the write lock when it begins, and
    FastAPI runs the endpoint on another worker thread than this; a lock taken here would be
    held while the request waits for a free thread, which under load are all waiting for that
    lock. One statement, outside a transaction on PostgreSQL.
    """
    generation = recent.generation
    claims = read_token_claims(settings, token)
    user = None
    if claims:
        with request.app.state.statement_read_sessionmaker() as session:
            user = get_user(session=session, username=claims.username)
    if claims is None or user is None or not user.is_active:
        raise NotAuthenticated("the token is invalid or expired")
    recent.put(token, user, token_expires_at=claims.expires_at, generation=generation)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users holding one of ``roles``."""
    wanted = frozenset(roles)

    async def _check(user: CurrentUser) -> User:
        if not user.roles & wanted:
            raise Forbidden(f"this needs one of the roles: {', '.join(sorted(wanted))}")
        return user

    return _check


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
ClerkUser = Annotated[User, Depends(require_roles(Role.clerk))]


async def request_time() -> datetime:
    return utcnow()


Now = Annotated[datetime, Depends(request_time)]
