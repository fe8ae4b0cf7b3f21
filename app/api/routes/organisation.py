"""Units, users and registers (admin writes; users read units; clerks read registers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from app.api.deps import AdminUser, Client, CurrentUser, SessionDep, require_roles
from app.api.problems import error_responses
from app.models import Register, Unit, User
from app.schemas.organisation import (
    PasswordChange,
    RegisterIn,
    RegisterOut,
    UnitIn,
    UnitOut,
    UserIn,
    UserOut,
    UserPatch,
)
from app.services import accounts
from app.services import organisation as org
from app.workflow.vocabulary import Role

router = APIRouter(tags=["organisation"], responses=error_responses(401, 403))


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(code=unit.code, name=unit.name, parent_code=unit.parent.code if unit.parent else None)


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        unit_code=user.unit_code,
        roles=sorted(user.roles),
        is_active=user.is_active,
        email=user.email,
    )


@router.get("/units", name="units-list", response_model=list[UnitOut])
def list_units(_user: CurrentUser, session: SessionDep) -> list[UnitOut]:
    return [unit_out(u) for u in org.list_units(session=session)]


@router.post("/units", name="units-create", status_code=201, response_model=UnitOut, responses=error_responses(409, 422))
def create_unit(body: UnitIn, _admin: AdminUser, session: SessionDep) -> UnitOut:
    unit = org.create_unit(session=session, code=body.code, name=body.name, parent_code=body.parent_code)
    body = unit_out(unit)
    session.commit()
    return body


@router.get("/users", name="users-list", response_model=list[UserOut])
def list_users(_admin: AdminUser, session: SessionDep) -> list[UserOut]:
    return [user_out(u) for u in org.list_users(session=session)]


@router.post("/users", name="users-create", status_code=201, response_model=UserOut, responses=error_responses(409, 422))
def create_user(body: UserIn, admin: AdminUser, session: SessionDep) -> UserOut:
    user = org.create_user(
        session=session,
        username=body.username,
        password=body.password,
        roles=body.roles,
        full_name=body.full_name,
        unit_code=body.unit_code,
        created_by=admin.username,
        email=body.email,
    )
    body = user_out(user)
    session.commit()
    return body


Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.patch("/users/{username}", name="users-update", response_model=UserOut, responses=error_responses(404, 409, 422))
def update_user(username: Username, body: UserPatch, admin: AdminUser, session: SessionDep, client: Client) -> UserOut:
    """Change a user's name, unit, roles or whether they are active. It holds from the user's next
    request, in every server process; deactivating also ends every token they hold."""
    sent = body.model_fields_set
    changes = accounts.UserChanges(
        full_name=body.full_name, unit_code=body.unit_code, clear_unit="unit_code" in sent and body.unit_code is None,
        roles=body.roles, active=body.active, email=body.email,
        clear_email="email" in sent and body.email is None,
    )
    user = accounts.update_user(session=session, admin=accounts.Operator.of(admin), username=username, changes=changes, client=client)
    out = user_out(user)
    session.commit()
    return out


@router.post("/users/{username}/password", name="users-password", status_code=204,
             responses=error_responses(404, 422))
def set_password(
    username: Username, body: PasswordChange, user: CurrentUser, session: SessionDep, client: Client
) -> Response:
    """Your own password (with ``current_password``), or an admin's reset of anyone's. Every token
    of that user ends, the caller's own included: log in again with the new password."""
    accounts.set_password(session=session, actor=accounts.Operator.of(user), username=username, new_password=body.new_password,
                          current_password=body.current_password, client=client)
    session.commit()
    return Response(status_code=204)


@router.post("/users/{username}/revoke-tokens", name="users-revoke-tokens", status_code=204,
             responses=error_responses(404))
def revoke_tokens(username: Username, admin: AdminUser, session: SessionDep, client: Client) -> Response:
    """End every token the user holds now (a lost phone, a shared password): they log in again."""
    accounts.revoke_tokens(session=session, admin=accounts.Operator.of(admin), username=username, client=client)
    session.commit()
    return Response(status_code=204)


def register_out(session: SessionDep, register: Register) -> RegisterOut:
    return RegisterOut(
        code=register.code,
        name=register.name,
        confidential=register.confidential,
        clerk_usernames=org.register_clerk_usernames(session=session, register=register),
    )


@router.get("/registers", name="registers-list", response_model=list[RegisterOut])
def list_registers(
    user: Annotated[User, Depends(require_roles(Role.admin, Role.clerk))], session: SessionDep
) -> list[RegisterOut]:
    """Admins see every register; a clerk sees the ordinary ones and the confidential ones they work."""
    registers = org.list_registers(session=session)
    if Role.admin not in user.roles:
        registers = [r for r in registers if not r.confidential or any(c.user_id == user.id for c in r.clerk_rows)]
    return [register_out(session, r) for r in registers]


@router.post(
    "/registers", name="registers-create", status_code=201, response_model=RegisterOut, responses=error_responses(409, 422)
)
def create_register(body: RegisterIn, _admin: AdminUser, session: SessionDep) -> RegisterOut:
    register = org.create_register(
        session=session,
        code=body.code,
        name=body.name,
        confidential=body.confidential,
        clerk_usernames=body.clerk_usernames,
    )
    body = register_out(session, register)
    session.commit()
    return body
