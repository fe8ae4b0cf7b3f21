"""Delegation (ủy quyền): a leader lends their authority to another user for a date range."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import Delegation, User
from app.models.base import utcnow
from app.services.organisation import get_user
from app.workflow.vocabulary import Role

# Roles whose authority may be lent: the ones that direct and decide.
DELEGABLE_ROLES = frozenset({Role.leader, Role.office_leader, Role.unit_leader})


def create_delegation(
    *, session: Session, delegator: User, delegate_username: str, starts_on: date, ends_on: date, note: str | None
) -> Delegation:
    if not delegator.roles & DELEGABLE_ROLES:
        raise Forbidden("only leaders, office leaders and unit leaders may delegate their authority")
    delegate = get_user(session=session, username=delegate_username)
    if delegate is None or not delegate.is_active:
        raise ValidationFailed("delegate_username", f"unknown user '{delegate_username}'")
    if delegate.id == delegator.id:
        raise ValidationFailed("delegate_username", "you cannot delegate to yourself")
    delegation = Delegation(
        delegator_id=delegator.id, delegate_id=delegate.id, starts_on=starts_on, ends_on=ends_on, note=note
    )
    session.add(delegation)
    session.flush()
    return delegation


def list_delegations(*, session: Session, user: User) -> list[Delegation]:
    """Delegations the user gave or received (all of them for an admin)."""
    query = select(Delegation).order_by(Delegation.starts_on.desc(), Delegation.id.desc())
    if Role.admin not in user.roles:
        query = query.where(or_(Delegation.delegator_id == user.id, Delegation.delegate_id == user.id))
    return list(session.scalars(query))


def revoke_delegation(*, session: Session, user: User, delegation_id: int) -> Delegation:
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or (delegation.delegator_id != user.id and Role.admin not in user.roles):
        raise NotFound(f"delegation {delegation_id} does not exist")
    if delegation.revoked_at is None:
        delegation.revoked_at = utcnow()
        session.flush()
    return delegation


def delegators_for(*, session: Session, user: User, today: date) -> list[User]:
    """The users whose authority ``user`` holds today, oldest delegation first.

    Asked on every request that shows a document's actions, and usually empty: the ids come
    first (a plain column query), and users are loaded only when there are some.
    """
    ids = session.scalars(_DELEGATOR_IDS, {"user_id": user.id, "today": today}).all()
    if not ids:
        return []
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True)))}
    return list({i: users[i] for i in ids if i in users}.values())


# Built once: asked on every request that shows a document.
_DELEGATOR_IDS = (
    select(Delegation.delegator_id)
    .where(
        Delegation.delegate_id == bindparam("user_id"),
        Delegation.starts_on <= bindparam("today"),
        Delegation.ends_on >= bindparam("today"),
        Delegation.revoked_at.is_(None),
    )
    .order_by(Delegation.id)
)
