"""Logging in and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.problems import error_responses
from app.errors import NotAuthenticated
from app.schemas.organisation import Me, Token
from app.security import issue_token
from app.services.organisation import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", name="token", response_model=Token, responses=error_responses(401, 422))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    """OAuth2 password login: a bearer token for the API."""
    user = authenticate(session=session, username=form.username, password=form.password)
    if user is None:
        raise NotAuthenticated("wrong username or password")
    return Token(access_token=issue_token(settings, user.username), expires_in=settings.token_ttl_minutes * 60)


@router.get("/me", name="me", response_model=Me, responses=error_responses(401))
def me(user: CurrentUser) -> Me:
    return Me(username=user.username, full_name=user.full_name, unit_code=user.unit_code, roles=sorted(user.roles))
