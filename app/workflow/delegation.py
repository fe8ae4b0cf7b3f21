"""What a delegation (ủy quyền) needs and what it lends: the one rule. Pure: no session, no HTTP.

* Only the authority that directs and decides may be lent: leader, office leader, unit leader.
* A delegation names which of the delegator's roles it passes (at least one, each held by the
  delegator), lasts at most a year (it ends before the same day a year after it starts: 1 Jan
  to 31 Dec at most), and goes to another, active user.
* What it lends is what it names *and* the delegator still holds (:func:`lent_roles`): a
  delegator who loses a role stops lending it.
* Whoever registered a document may not decide on it with lent authority
  (:data:`DECIDING_ACTIONS`; :func:`app.workflow.permissions.authorize` applies it): a clerk who
  holds an office leader's delegation could otherwise register, submit and direct their own
  document, the separation of duties the slip exists for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.i18n import Text, msg
from app.workflow.vocabulary import Role

DELEGABLE_ROLES = frozenset({Role.leader.value, Role.office_leader.value, Role.unit_leader.value})
DECIDING_ACTIONS = frozenset({"propose", "direct", "return", "extend"})


def may_delegate(roles: Iterable[str]) -> bool:
    """Whether someone holding ``roles`` may lend authority at all (otherwise: 403)."""
    return bool(frozenset(roles) & DELEGABLE_ROLES)


def delegation_problems(
    *, delegator_roles: Iterable[str], roles: Iterable[str], starts_on: date, ends_on: date
) -> list[tuple[str, str, Text]]:
    """What is wrong with a delegation asked for by someone who :func:`may_delegate`, as (field,
    code, message) triples (none: it may be made)."""
    held, asked = frozenset(delegator_roles), frozenset(roles)
    problems: list[tuple[str, str, Text]] = []
    if not asked:
        problems.append(("roles", "delegation.no_role", msg("name at least one role to lend")))
    elif not_lendable := sorted(asked - (held & DELEGABLE_ROLES)):
        problems.append(("roles", "delegation.role_not_lendable",
                         msg("you cannot lend a role you do not hold or that cannot be lent: {roles}",
                             roles=", ".join(not_lendable))))
    if ends_on < starts_on:
        problems.append(("ends_on", "delegation.ends_before_start", msg("must not be before starts_on")))
    elif ends_on >= a_year_after(starts_on):
        problems.append(("ends_on", "delegation.too_long", msg("a delegation lasts at most a year: it must end before {day}",
                                                                  day=a_year_after(starts_on).isoformat())))
    return problems


def a_year_after(day: date) -> date:
    """The same day a year later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)


def lent_roles(named: Iterable[str], delegator_roles: Iterable[str]) -> frozenset[str]:
    """The roles a delegation lends today: named by it, still held by the delegator, lendable."""
    return frozenset(named) & frozenset(delegator_roles) & DELEGABLE_ROLES


def barred_by_registration(action: str, lent_to: int | None, registered_by: int | None) -> bool:
    """Whether lent authority may not take ``action`` because its holder registered the document."""
    return lent_to is not None and lent_to == registered_by and action in DECIDING_ACTIONS
