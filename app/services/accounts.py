"""Accounts: who a token is, on every request, and the lifecycle of a user (issue 11, finding 2).

Every request runs :func:`user_for_token`, one statement that loads the user with unit and roles
only while the user is active, still at the token's version and the token is not revoked. There
is no cache in front of it: a deactivation, a role change, a password change or a revocation
written by any server process is seen by every other one on its next request. (The cache this
replaced saved one statement per request for up to 5 s; bench/README.md gives the cost.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.orm import Session, joinedload

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import RevokedToken, User, UserRole
from app.security import TokenClaims, hash_password, password_problem, verify_password
from app.services import security_log, throttle
from app.services.throttle import LoginPolicy
from app.services.organisation import get_unit, get_user
from app.workflow.vocabulary import Role
from app.i18n import msg

# Built once: it runs on every authenticated request.
_USER_FOR_TOKEN = (
    select(User)
    .options(joinedload(User.role_rows))
    .where(
        User.username == bindparam("username"),
        User.token_version == bindparam("version"),
        User.is_active.is_(True),
        ~exists().where(RevokedToken.token_id == bindparam("token_id")),
    )
)


def user_for_token(*, session: Session, claims: TokenClaims) -> User | None:
    """The token's user if the token still stands (see the module), else None."""
    if "\x00" in claims.username or "\x00" in claims.token_id:
        return None
    return session.scalars(
        _USER_FOR_TOKEN, {"username": claims.username, "version": claims.version, "token_id": claims.token_id}
    ).unique().one_or_none()


def login_attempt(
    *, session: Session, policy: LoginPolicy, username: str, client: str | None, now: datetime
) -> tuple[int | None, User | None]:
    """Before a password is verified: (seconds to wait, None) when throttled, else (None, the
    user or None when there is no such active user; the caller verifies against a dummy hash
    then, so that both take as long)."""
    wait = throttle.retry_after(session=session, policy=policy, username=username, client=client, now=now)
    if wait is not None:
        return wait, None
    user = get_user(session=session, username=username)
    return None, user if user is not None and user.is_active else None


def record_login(
    *, session: Session, policy: LoginPolicy, username: str, succeeded: bool, client: str | None, now: datetime
) -> None:
    """The attempt's entry in the security log (what the throttle counts), and ``login_locked``
    when this failure reaches the limit. The caller commits."""
    security_log.record(session, "login_succeeded" if succeeded else "login_failed", username=username,
                        client=client, at=now)
    if not succeeded:
        session.flush()
        if throttle.reaches_limit(session=session, policy=policy, username=username, now=now):
            security_log.record(session, "login_locked", username=username, client=client, at=now,
                                minutes=int(policy.window.total_seconds() // 60))


def check_password(password: str, username: str, field: str = "password") -> None:
    problem = password_problem(password, username)
    if problem:
        raise ValidationFailed(field, problem, code="password.weak")


def _target(session: Session, username: str) -> User:
    user = get_user(session=session, username=username)
    if user is None:
        raise NotFound(msg("user '{username}' does not exist", username=username), code="user.not_found")
    return user


@dataclass(frozen=True)
class Operator:
    """Who changes an account: a user of the API, or the operator at the console (``congvan
    user``), named ``(cli)`` in the log, a name no user can have."""

    user_id: int | None
    username: str
    is_admin: bool

    @classmethod
    def of(cls, user: User) -> Operator:
        return cls(user.id, user.username, Role.admin in user.roles)


CONSOLE = Operator(None, "(cli)", True)


@dataclass(frozen=True)
class UserChanges:
    full_name: str | None = None
    unit_code: str | None = None
    clear_unit: bool = False
    roles: Iterable[Role | str] | None = None
    active: bool | None = None
    email: str | None = None
    clear_email: bool = False


def update_user(*, session: Session, admin: Operator, username: str, changes: UserChanges, client: str | None) -> User:
    """An admin's change of a user. Takes effect on the user's next request; a deactivation
    also ends every token (a reactivated user logs in again)."""
    user = _target(session, username)
    changed: dict[str, list] = {}
    if changes.full_name is not None and changes.full_name != user.full_name:
        changed["full_name"] = [user.full_name, changes.full_name]
        user.full_name = changes.full_name
    if changes.clear_unit or changes.unit_code is not None:
        unit = get_unit(session=session, code=changes.unit_code) if changes.unit_code else None
        if (unit.id if unit else None) != user.unit_id:
            changed["unit_code"] = [user.unit_code, unit.code if unit else None]
            user.unit = unit
    if changes.roles is not None:
        roles = sorted({Role(r).value for r in changes.roles})
        if not roles:
            raise ValidationFailed("roles", msg("at least one role is required"), code="user.no_role")
        if user.id == admin.user_id and Role.admin.value not in roles:
            raise Conflict(msg("you cannot take the admin role from yourself; ask another admin"), code="user.own_admin_role")
        if roles != sorted(user.roles):
            changed["roles"] = [sorted(user.roles), roles]
            user.role_rows = [UserRole(role=r) for r in roles]
    if (changes.clear_email or changes.email is not None) and changes.email != user.email:
        changed["email"] = [user.email, changes.email]
        user.email = changes.email
    if changes.active is not None and changes.active != user.is_active:
        if user.id == admin.user_id and not changes.active:
            raise Conflict(msg("you cannot deactivate yourself; ask another admin"), code="user.own_deactivation")
        changed["active"] = [user.is_active, changes.active]
        user.is_active = changes.active
        if not changes.active:
            user.token_version += 1
    if changed:
        security_log.record(session, "user_changed", username=user.username, actor=admin.username, client=client,
                            changes=changed)
        session.flush()
    return user


def set_password(
    *, session: Session, actor: Operator, username: str, new_password: str, current_password: str | None,
    client: str | None,
) -> User:
    """A user's own change (with the current password) or an admin's reset. Either ends every
    token of the user, the caller's own included: they log in again with the new password."""
    own = username == actor.username
    if not own and not actor.is_admin:
        raise Forbidden(msg("only an admin may set another user's password"), code="user.password_not_yours")
    user = _target(session, username)
    if own and (current_password is None or not verify_password(current_password, user.password_hash)):
        # An admin changing their own password proves it too: a stolen token must not be enough.
        raise ValidationFailed("current_password", msg("is not your current password"), code="password.wrong_current")
    check_password(new_password, user.username, field="new_password")
    user.password_hash = hash_password(new_password)
    user.token_version += 1
    security_log.record(session, "password_changed" if own else "password_reset", username=user.username,
                        actor=None if own else actor.username, client=client)
    session.flush()
    return user


def revoke_tokens(*, session: Session, admin: Operator, username: str, client: str | None) -> User:
    """End every token the user holds now (an admin's action, e.g. a lost phone)."""
    user = _target(session, username)
    user.token_version += 1
    security_log.record(session, "tokens_revoked", username=user.username, actor=admin.username, client=client)
    session.flush()
    return user


def logout(*, session: Session, user: User, claims: TokenClaims, now: datetime, client: str | None) -> None:
    """End the caller's token (the others stand). Revocations past their token's expiry are swept."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, claims.token_id) is None:
        session.add(RevokedToken(token_id=claims.token_id, user_id=user.id,
                                 expires_at=datetime.fromtimestamp(claims.expires_at, timezone.utc)))
    security_log.record(session, "logout", username=user.username, client=client)
    session.flush()
