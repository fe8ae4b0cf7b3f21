"""Logging in and out, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from app.api.deps import Client, CurrentUser, Now, SessionDep, SettingsDep
from app.api.problems import error_responses
from app.schemas.organisation import LoginForm, Me, Token
from app.services import accounts
from app.services.login import log_in

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", name="token", response_model=Token, responses=error_responses(401, 422, 429, 503))
async def login(
    request: Request, form: Annotated[LoginForm, Form()], settings: SettingsDep, client: Client,
    now: Now,
) -> Token:
    """OAuth2 password login: a bearer token for the API.

    After ``CONGVAN_LOGIN_MAX_FAILURES`` wrong passwords for a username within
    ``CONGVAN_LOGIN_WINDOW_MINUTES`` (or too many from one address), 429 with Retry-After: the same
    for a username that does not exist. Every attempt is in the security log."""
    state = request.app.state
    token = await log_in(settings=settings, read_sessions=state.read_sessionmaker, write_sessions=state.sessionmaker,
                         gate=state.login_gate, username=form.username, password=form.password, client=client,
                         now=now)
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.post("/logout", name="logout", status_code=204, responses=error_responses(401))
def logout(request: Request, user: CurrentUser, session: SessionDep, client: Client, now: Now) -> Response:
    """Revoke the token this request carries (your other sessions stay logged in)."""
    accounts.logout(session=session, user=user, claims=request.state.token_claims, now=now, client=client)
    session.commit()
    return Response(status_code=204)


@router.get("/me", name="me", response_model=Me, responses=error_responses(401))
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, full_name=user.full_name, unit_code=user.unit_code, roles=sorted(user.roles))
