"""Every (scenario, user, action) of the hand-written matrix through the pure rules: milliseconds.

``allowed_actions`` must list exactly the matrix's actions for each user; every other action
must be refused by ``authorize`` (``NotPermitted`` for roles that can never take it). The
completeness checks fail as soon as the machine gains an action (or a state) that has no
permission row or no matrix row.
"""

import pytest

from app.workflow.machine import ASSIGNMENT_MACHINE, DOCUMENT_MACHINE, UNIT_ACTIONS, USER_ACTIONS, InvalidTransition
from app.workflow.permissions import ACTION_ROLES, Actor, AssignmentView, NotPermitted, allowed_actions, authorize
from app.workflow.vocabulary import AssignmentState, DocumentState
from tests.conftest import STAFF, UNITS
from tests.workflow.matrix import ACTIONS, ALLOWED, NEVER, REFUSALS, SCENARIOS, SUCCESSES, USERS
from tests.workflow_helpers import ACTION_BODIES, PATHS

# Fired by the workflow itself, never requested by a person: resolve when the lead assignment is
# done, amend when the clerk accepts a sender's update (app.services.exchange).
INTERNAL_ACTIONS = {"resolve", "amend"}

USER_IDS = {username: n for n, username in enumerate(STAFF, start=1)}
UNIT_IDS = {code: n for n, code in enumerate(UNITS, start=1)}


def actor(username: str) -> Actor:
    """The user as the service builds it: roles as the database's strings, the unit's id."""
    unit, roles = STAFF[username]
    return Actor(user_id=USER_IDS[username], roles=frozenset(str(r) for r in roles), unit_id=UNIT_IDS[unit])


def scenario(name: str) -> tuple[str, list[AssignmentView]]:
    state, assignments = SCENARIOS[name]
    views = [
        AssignmentView(id=n, unit_id=UNIT_IDS[unit], role=role, state=a_state,
                       assignee_id=USER_IDS[assignee] if assignee else None)
        for n, (unit, role, a_state, assignee) in enumerate(assignments, start=1)
    ]
    return state, views


# --- completeness: the machine, the permission rows and the matrix name the same things ------------


def test_every_action_of_the_machine_has_a_permission_row_and_a_matrix_row():
    triggers = set(DOCUMENT_MACHINE.events) - INTERNAL_ACTIONS
    assert INTERNAL_ACTIONS <= set(DOCUMENT_MACHINE.events)
    rows = {"USER_ACTIONS": USER_ACTIONS, "ACTION_ROLES (a permission row)": ACTION_ROLES,
            "the matrix's ACTIONS": ACTIONS, "ACTION_BODIES (an HTTP body)": ACTION_BODIES}
    for where, names in rows.items():
        missing = sorted(triggers - set(names))
        assert not missing, f"actions of DOCUMENT_MACHINE missing from {where}: {missing}"
    # ...and nothing is permitted or tabled that the machine cannot do.
    assert set(USER_ACTIONS) == set(ACTION_ROLES) == set(ACTIONS) == set(ACTION_BODIES) == triggers
    assert len(USER_ACTIONS) == len(set(USER_ACTIONS)) and len(ACTIONS) == len(set(ACTIONS))
    assert set(ASSIGNMENT_MACHINE.events) <= set(USER_ACTIONS)
    assert UNIT_ACTIONS <= set(ASSIGNMENT_MACHINE.events)


def test_every_state_is_in_the_matrix():
    assert set(ALLOWED) == set(SCENARIOS) == set(PATHS)
    covered = {state for state, _ in SCENARIOS.values()}
    assert covered == set(DocumentState), f"states without a matrix row: {set(DocumentState) - covered}"
    assert set(DOCUMENT_MACHINE.states) == set(DocumentState)
    assignment_states = {a[2] for _, assignments in SCENARIOS.values() for a in assignments}
    assert assignment_states == set(AssignmentState)


def test_the_matrix_is_consistent():
    for name, allowed in ALLOWED.items():
        for username, action in allowed:
            assert username in USERS and action in ACTIONS, (name, username, action)
            assert username not in NEVER.get(action, ()), (name, username, action)
    assert set(NEVER) <= set(ACTIONS) and all(users <= set(USERS) for users in NEVER.values())
    assert set(USERS) <= set(STAFF)
    for name, username, action in REFUSALS:
        assert (username, action) not in ALLOWED[name]
    for name, username, action in SUCCESSES:
        assert (username, action) in ALLOWED[name]


def test_each_path_takes_a_step_the_matrix_allows():
    """PATHS (how the HTTP tests reach each scenario) walks from scenario to scenario by allowed steps."""
    by_path = {tuple(path): name for name, path in PATHS.items()}
    for name, path in PATHS.items():
        if not path:
            continue
        before = by_path.get(tuple(path[:-1]))
        assert before is not None, f"{name}: its path minus the last step is no scenario's path"
        assert path[-1] in ALLOWED[before], (name, before, path[-1])


# --- the matrix itself --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_allowed_actions_are_the_matrix(name):
    state, views = scenario(name)
    got = {username: allowed_actions([actor(username)], state, views) for username in USERS}
    expected = {username: [a for a in USER_ACTIONS if (username, a) in ALLOWED[name]] for username in USERS}
    assert got == expected


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_other_action_is_refused(name):
    """authorize agrees with the matrix cell by cell: 403 for roles that never may, else 403 or 409."""
    state, views = scenario(name)
    wrong = []
    for username in USERS:
        for action in ACTIONS:
            try:
                authorize(action, actor(username), state, views)
                outcome = "allowed"
            except NotPermitted:
                outcome = "403"
            except InvalidTransition:
                outcome = "409"
            if (username, action) in ALLOWED[name]:
                expected = {"allowed"}
            elif username in NEVER.get(action, ()):
                expected = {"403"}
            else:
                expected = {"403", "409"}
            if outcome not in expected:
                wrong.append((username, action, outcome))
    assert wrong == []


def test_pinned_refusals_and_successes():
    for (name, username, action), status in REFUSALS.items():
        state, views = scenario(name)
        expected = NotPermitted if status == 403 else InvalidTransition
        with pytest.raises(expected):
            authorize(action, actor(username), state, views)
    for name, username, action in SUCCESSES:
        state, views = scenario(name)
        authorize(action, actor(username), state, views)


def test_a_delegate_may_do_what_either_identity_may():
    """allowed_actions over several identities (a user and the leader they stand in for) is the union."""
    state, views = scenario("office_review")
    union = allowed_actions([actor("clerk"), actor("leader")], state, views)
    assert union == [a for a in USER_ACTIONS if {("clerk", a), ("leader", a)} & ALLOWED["office_review"]]
