"""Auth, units, users and registers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.schemas.common import Code, Email, Schema, text
from app.workflow.vocabulary import Role

Name = text(255)


class LoginForm(BaseModel):
    """The OAuth2 password form (RFC 6749 4.3) of ``POST /auth/token``, as
    ``application/x-www-form-urlencoded``: the fields of FastAPI's ``OAuth2PasswordRequestForm``
    under a name a generated client can show. Other fields a client adds are ignored."""

    grant_type: Annotated[str, StringConstraints(pattern="^password$")] | None = Field(
        default=None, description='"password" when given (OAuth2 clients send it)')
    username: str
    password: str = Field(json_schema_extra={"format": "password"})
    scope: str = Field(default="", description="Unused: what a user may do follows from their roles")
    client_id: str | None = None
    client_secret: str | None = Field(default=None, json_schema_extra={"format": "password"})


class Token(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class Me(Schema):
    username: str
    full_name: str
    unit_code: str | None
    roles: list[Role]


class UnitIn(Schema):
    code: Code
    name: Name
    parent_code: Code | None = None


class UnitOut(Schema):
    code: str
    name: str
    parent_code: str | None


class UserIn(Schema):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.\-@]+$")]
    full_name: Name
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)] = Field(
        json_schema_extra={"writeOnly": True}
    )
    unit_code: Code | None = None
    roles: list[Role] = Field(min_length=1)
    email: Email | None = Field(default=None, description="Where the daily digest goes; none: no digest")


class UserPatch(Schema):
    """An admin's change of a user: only the fields sent change (``unit_code: null`` clears it)."""

    full_name: Name | None = None
    unit_code: Code | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)
    email: Email | None = Field(default=None, description="The digest's address (null clears it)")
    active: bool | None = Field(default=None, description="false: the user can no longer log in, and every "
                                "token they hold is refused from the next request on")


class PasswordChange(Schema):
    current_password: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="Required when you change your own password", json_schema_extra={"writeOnly": True})
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=256)] = Field(
        json_schema_extra={"writeOnly": True})


class UserOut(Schema):
    username: str
    full_name: str
    unit_code: str | None
    roles: list[Role]
    is_active: bool
    email: str | None = None


class RegisterIn(Schema):
    code: Code
    name: Name
    confidential: bool = False
    clerk_usernames: list[str] = Field(
        default_factory=list, description="Clerks cleared for a confidential register (ignored semantics for others)"
    )


class RegisterOut(Schema):
    code: str
    name: str
    confidential: bool
    clerk_usernames: list[str]
