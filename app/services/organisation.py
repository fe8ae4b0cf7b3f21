"""Units, users and registers: the organisation documents move through."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, lazyload

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Register, RegisterClerk, Unit, User, UserRole
from app.security import hash_password, password_problem
from app.services import security_log
from app.workflow.vocabulary import Role
from app.i18n import msg

DEFAULT_REGISTER_CODE = "main"


def get_unit(*, session: Session, code: str, field: str = "unit_code") -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationFailed(field, msg("unknown unit '{code}'", code=code), code="unit.unknown")
    return unit


def list_units(*, session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.code, Unit.id)))


def create_unit(*, session: Session, code: str, name: str, parent_code: str | None = None) -> Unit:
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise Conflict(msg("unit '{code}' already exists", code=code), code="unit.exists")
    parent = get_unit(session=session, code=parent_code, field="parent_code") if parent_code else None
    unit = Unit(code=code, name=name, parent=parent)
    session.add(unit)
    session.flush()
    return unit


def get_user(*, session: Session, username: str) -> User | None:
    if "\x00" in username:
        # No username contains NUL (UserIn refuses it), and PostgreSQL cannot even compare such text.
        return None
    return session.scalars(_USER_BY_NAME, {"username": username}).unique().one_or_none()


# Every authenticated request loads its user, every registration its register: the statements
# are built once (building one costs more than the cached compile that runs it), and the
# user's roles are joined in (one statement, not the relationship's second SELECT).
_USER_BY_NAME = select(User).options(joinedload(User.role_rows)).where(User.username == bindparam("username"))
# Its clerks only when asked for (they matter for confidential registers alone).
_REGISTER_BY_CODE = select(Register).options(lazyload(Register.clerk_rows)).where(Register.code == bindparam("code"))


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username, User.id)))


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    roles: Iterable[Role | str],
    full_name: str | None = None,
    unit_code: str | None = None,
    created_by: str | None = None,
    email: str | None = None,
) -> User:
    if get_user(session=session, username=username) is not None:
        raise Conflict(msg("user '{username}' already exists", username=username), code="user.exists")
    if (problem := password_problem(password, username)) is not None:
        raise ValidationFailed("password", problem, code="password.weak")
    role_set = sorted({Role(r).value for r in roles})
    if not role_set:
        raise ValidationFailed("roles", msg("at least one role is required"), code="user.no_role")
    unit = get_unit(session=session, code=unit_code) if unit_code else None
    user = User(
        username=username,
        full_name=full_name or username,
        password_hash=hash_password(password),
        unit=unit,
        role_rows=[UserRole(role=r) for r in role_set],
        email=email,
    )
    session.add(user)
    session.flush()
    security_log.record(session, "user_created", username=user.username, actor=created_by, roles=role_set,
                        unit_code=unit_code)
    return user


def ensure_default_register(*, session: Session) -> Register:
    register = session.scalar(select(Register).where(Register.code == DEFAULT_REGISTER_CODE))
    if register is None:
        register = Register(code=DEFAULT_REGISTER_CODE, name="Sổ đăng ký văn bản đến", confidential=False)
        session.add(register)
        session.flush()
    return register


def get_register(*, session: Session, code: str) -> Register:
    register = session.scalar(_REGISTER_BY_CODE, {"code": code})
    if register is None:
        raise NotFound(msg("register '{code}' does not exist", code=code), code="register.not_found")
    return register


def list_registers(*, session: Session) -> list[Register]:
    return list(session.scalars(select(Register).order_by(Register.code, Register.id)))


def create_register(
    *, session: Session, code: str, name: str, confidential: bool, clerk_usernames: Iterable[str] = ()
) -> Register:
    if session.scalar(select(Register.id).where(Register.code == code)) is not None:
        raise Conflict(msg("register '{code}' already exists", code=code), code="register.exists")
    clerks: list[User] = []
    for username in dict.fromkeys(clerk_usernames):
        user = get_user(session=session, username=username)
        if user is None:
            raise ValidationFailed("clerk_usernames", msg("unknown user '{username}'", username=username),
                                   code="user.unknown")
        if Role.clerk not in user.roles:
            raise ValidationFailed("clerk_usernames", msg("user '{username}' is not a clerk", username=username),
                                   code="user.not_clerk")
        clerks.append(user)
    register = Register(
        code=code,
        name=name,
        confidential=confidential,
        clerk_rows=[RegisterClerk(user_id=user.id) for user in clerks],
    )
    session.add(register)
    session.flush()
    return register


def register_clerk_usernames(*, session: Session, register: Register) -> list[str]:
    ids = [row.user_id for row in register.clerk_rows]
    if not ids:
        return []
    return list(session.scalars(select(User.username).where(User.id.in_(ids)).order_by(User.username)))
