"""Delegation (ủy quyền): a leader lends some of their authority to another user for a date range.

What a delegation needs and what it lends is the rule of :mod:`app.workflow.delegation`; this
module stores delegations, logs them (the security log) and finds whom a user stands in for today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound, ValidationFailed
from app.models import Delegation, User
from app.models.base import utcnow
from app.services import security_log
from app.services.organisation import get_user
from app.workflow.delegation import DELEGABLE_ROLES, delegation_problems, lent_roles, may_delegate
from app.workflow.vocabulary import Role
from app.i18n import msg


@dataclass(frozen=True)
class Standing:
    """A delegator as lent to someone today: their id, name and unit, with only the roles lent
    (:func:`app.workflow.delegation.lent_roles`). Read where a delegator's user was (visibility,
    the acting identity, the event's ``on_behalf_of``)."""

    id: int
    username: str
    full_name: str
    unit_id: int | None
    roles: frozenset[str]
    lent_to: int  # the delegate's user id


def create_delegation(
    *, session: Session, delegator: User, delegate_username: str, starts_on: date, ends_on: date, note: str | None,
    roles: Iterable[str] | None = None, client: str | None = None,
) -> Delegation:
    """``roles`` not given: every role of the delegator's that may be lent."""
    if not may_delegate(delegator.roles):
        raise Forbidden(msg("only leaders, office leaders and unit leaders may delegate their authority"),
                        code="delegation.not_allowed")
    named = sorted(set(roles) if roles is not None else delegator.roles & DELEGABLE_ROLES)
    problems = delegation_problems(delegator_roles=delegator.roles, roles=named, starts_on=starts_on, ends_on=ends_on)
    if problems:
        field, code, message = problems[0]
        raise ValidationFailed(field, message, code=code)
    delegate = get_user(session=session, username=delegate_username)
    if delegate is None or not delegate.is_active:
        raise ValidationFailed("delegate_username", msg("unknown user '{username}'", username=delegate_username),
                               code="user.unknown")
    if delegate.id == delegator.id:
        raise ValidationFailed("delegate_username", msg("you cannot delegate to yourself"), code="delegation.to_self")
    delegation = Delegation(
        delegator_id=delegator.id, delegate_id=delegate.id, starts_on=starts_on, ends_on=ends_on, note=note,
        roles=named,
    )
    session.add(delegation)
    session.flush()
    security_log.record(session, "delegation_created", username=delegate.username, actor=delegator.username,
                        client=client, delegation_id=delegation.id, roles=named, starts_on=starts_on.isoformat(),
                        ends_on=ends_on.isoformat())
    return delegation


def list_delegations(*, session: Session, user: User) -> list[Delegation]:
    """Delegations the user gave or received (all of them for an admin)."""
    query = select(Delegation).order_by(Delegation.starts_on.desc(), Delegation.id.desc())
    if Role.admin not in user.roles:
        query = query.where(or_(Delegation.delegator_id == user.id, Delegation.delegate_id == user.id))
    return list(session.scalars(query))


def revoke_delegation(*, session: Session, user: User, delegation_id: int, client: str | None = None) -> Delegation:
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or (delegation.delegator_id != user.id and Role.admin not in user.roles):
        raise NotFound(msg("delegation {id} does not exist", id=delegation_id), code="delegation.not_found")
    if delegation.revoked_at is None:
        delegation.revoked_at = utcnow()
        security_log.record(session, "delegation_revoked", username=delegation.delegate.username,
                            actor=user.username, client=client, delegation_id=delegation.id)
        session.flush()
    return delegation


def delegators_for(*, session: Session, user: User, today: date) -> list[Standing]:
    """Whom ``user`` stands in for today, with what each lends, oldest delegation first.

    Asked on every request that shows a document's actions, and usually empty: the delegations
    come first (a plain column query), and users are loaded only when there are some."""
    rows = session.execute(_DELEGATIONS_OF, {"user_id": user.id, "today": today}).all()
    if not rows:
        return []
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({r.delegator_id for r in rows}), User.is_active.is_(True)))}
    named: dict[int, set[str]] = {}
    for row in rows:
        if row.delegator_id in users:
            named.setdefault(row.delegator_id, set()).update(row.roles or [])
    standings = []
    for delegator_id, roles in named.items():
        delegator = users[delegator_id]
        lent = lent_roles(roles, delegator.roles)
        if lent:
            standings.append(Standing(delegator.id, delegator.username, delegator.full_name, delegator.unit_id, lent,
                                      lent_to=user.id))
    return standings


# Built once: asked on every request that shows a document.
_DELEGATIONS_OF = (
    select(Delegation.delegator_id, Delegation.roles)
    .where(
        Delegation.delegate_id == bindparam("user_id"),
        Delegation.starts_on <= bindparam("today"),
        Delegation.ends_on >= bindparam("today"),
        Delegation.revoked_at.is_(None),
    )
    .order_by(Delegation.id)
)
