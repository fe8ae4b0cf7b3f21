"""Typed dependencies: settings, the request's database session, the current user, role checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import request_session
from app.errors import Forbidden, NotAuthenticated
from app.i18n import msg
from app.models import User
from app.models.base import utcnow
from app.security import SLIP_SCOPE, TokenClaims, read_token_claims
from app.services.accounts import user_for_token
from app.services.signatures import Verification
from app.workflow.vocabulary import Role

TOKEN_URL = "/api/v1/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency on a
# worker thread, and a hop to a thread and back for reading an attribute costs more than the
# work (measured on registration under load).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Writing endpoints commit once; closing rolls back the rest.

    ``async`` on purpose: the close runs on the event loop, never waiting for a worker
    thread, so a request that holds a database lock can always release it even when every
    worker thread is busy waiting for that lock.
    """
    session = request_session(request.app.state, request.method)
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


async def get_verification(request: Request) -> Verification:
    return request.app.state.verification


VerificationDep = Annotated[Verification, Depends(get_verification)]
SessionDep = Annotated[Session, Depends(get_session)]
StatementSessionDep = Annotated[Session, Depends(get_statement_session)]


async def get_current_user(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The token's user, with unit and roles, checked against the database on every request
    (app.services.accounts.user_for_token): a deactivation, a role change or a revocation made
    by any server process holds from the next request on. The claims are kept on
    ``request.state.token_claims`` (logout revokes this token)."""
    if not token:
        raise NotAuthenticated(msg("a bearer token is required; get one from POST /api/v1/auth/token"))
    claims = read_token_claims(settings, token)
    if claims is None or claims.scope is not None:  # a slip link's token opens its slip only
        raise NotAuthenticated(msg("the token is invalid or expired"), code="auth.token_invalid")
    user = await run_in_threadpool(_authenticate, request, claims)
    request.state.token_claims = claims
    return user


def _authenticate(request: Request, claims: TokenClaims) -> User:
    """Load the token's user in a short read-only session of its own.

    Not the request's session: on SQLite that one takes the write lock when it begins, and
    FastAPI runs the endpoint on another worker thread than this; a lock taken here would be
    held while the request waits for a free thread, which under load are all waiting for that
    lock. One statement, outside a transaction on PostgreSQL.
    """
    with request.app.state.statement_read_sessionmaker() as session:
        user = user_for_token(session=session, claims=claims)
    if user is None:
        raise NotAuthenticated(msg("the token is invalid or expired"), code="auth.token_invalid")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def slip_reader(
    request: Request, settings: SettingsDep, document_id: int,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    token: Annotated[str | None, Query(description="A slip link's token (POST …/slip-link), instead of a bearer "
                                       "token: for opening the page in a browser")] = None,
) -> User:
    """Who reads the printable slip: the bearer token's user, or the user a slip link was made for.

    A link's token is checked like a bearer token (signature, expiry, the user's token version and
    revocation, an active user) and must name this document; it opens nothing else."""
    if bearer or token is None:
        return await get_current_user(request, settings, bearer)
    claims = read_token_claims(settings, token)
    if claims is None or claims.scope != SLIP_SCOPE or claims.document_id != document_id:
        raise NotAuthenticated(msg("the slip link is invalid or expired; ask for a new one"), code="slip_link.invalid")
    return await run_in_threadpool(_authenticate, request, claims)


SlipReader = Annotated[User, Depends(slip_reader)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users holding one of ``roles``."""
    wanted = frozenset(roles)

    async def _check(user: CurrentUser) -> User:
        if not user.roles & wanted:
            raise Forbidden(msg("this needs one of the roles: {roles}", roles=", ".join(sorted(wanted))), code="auth.role")
        return user

    return _check


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
ClerkUser = Annotated[User, Depends(require_roles(Role.clerk))]


async def client_address(request: Request) -> str | None:
    """The caller's address as the server sees it (behind a proxy: run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else None


Client = Annotated[str | None, Depends(client_address)]


async def request_time() -> datetime:
    return utcnow()


Now = Annotated[datetime, Depends(request_time)]
