"""Logging in and out, and who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Client, CurrentUser, Now, SessionDep, SettingsDep
from app.api.problems import error_responses
from app.config import Settings
from app.errors import NotAuthenticated, TooManyRequests
from app.schemas.organisation import LoginForm, Me, Token
from app.security import issue_token
from app.services import accounts
from app.services.throttle import LoginPolicy
from app.i18n import msg

router = APIRouter(prefix="/auth", tags=["auth"])


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(settings.login_max_failures, settings.login_max_failures_per_client,
                       timedelta(minutes=settings.login_window_minutes))


@router.post("/token", name="token", response_model=Token, responses=error_responses(401, 422, 429, 503))
async def login(
    request: Request, form: Annotated[LoginForm, Form()], settings: SettingsDep, client: Client,
    now: Now,
) -> Token:
    """OAuth2 password login: a bearer token for the API.

    After ``CONGVAN_LOGIN_MAX_FAILURES`` wrong passwords for a username within
    ``CONGVAN_LOGIN_WINDOW_MINUTES`` (or too many from one address), 429 with Retry-After: the same
    for a username that does not exist. Every attempt is in the security log."""
    policy = login_policy(settings)
    def before() -> tuple[int | None, str | None, int | None]:
        with request.app.state.read_sessionmaker() as session:
            wait, user = accounts.login_attempt(session=session, policy=policy, username=form.username,
                                                client=client, now=now)
            return wait, user.password_hash if user else None, user.token_version if user else None

    def after(succeeded: bool) -> None:
        with request.app.state.sessionmaker() as session:
            accounts.record_login(session=session, policy=policy, username=form.username, succeeded=succeeded,
                                  client=client, now=now)
            session.commit()

    wait, password_hash, version = await run_in_threadpool(before)
    if wait is not None:
        raise TooManyRequests(msg("too many failed logins; try again in {seconds} seconds", seconds=wait), retry_after=wait)
    ok = await request.app.state.login_gate.verify(form.password, password_hash) and version is not None
    await run_in_threadpool(after, ok)
    if not ok:
        raise NotAuthenticated(msg("wrong username or password"), code="auth.wrong_credentials")
    assert version is not None
    return Token(access_token=issue_token(settings, form.username, version),
                 expires_in=settings.token_ttl_minutes * 60)


@router.post("/logout", name="logout", status_code=204, responses=error_responses(401))
def logout(request: Request, user: CurrentUser, session: SessionDep, client: Client, now: Now) -> Response:
    """Revoke the token this request carries (your other sessions stay logged in)."""
    accounts.logout(session=session, user=user, claims=request.state.token_claims, now=now, client=client)
    session.commit()
    return Response(status_code=204)


@router.get("/me", name="me", response_model=Me, responses=error_responses(401))
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, full_name=user.full_name, unit_code=user.unit_code, roles=sorted(user.roles))
