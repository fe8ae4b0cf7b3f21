"""Every (state, action, role): allowed ones succeed, the rest get 403 or 409 and change nothing.

The expectations below are written out from API.md's actions table by hand, independently
of ``app.workflow``, so that a mistake in the rules shows up as a difference here.
"""

import pytest

from tests.workflow_helpers import ACTION_BODIES, DOCS, PATHS, act, document_in, events

USERS = ["clerk", "office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"]
ACTIONS = list(ACTION_BODIES)

# state → {(user, action)} that must succeed. In the in_progress states VP leads (assigned to
# the specialist from "in_progress_assigned" on) and TTĐ is informed.
ALLOWED: dict[str, set[tuple[str, str]]] = {
    "registered": {("clerk", "submit"), ("clerk", "recall")},
    "office_review": {("office_leader", "propose"), ("office_leader", "direct"), ("office_leader", "return"),
                      ("leader", "direct"), ("leader", "return"), ("leader", "extend"), ("clerk", "recall")},
    "leadership_review": {("leader", "direct"), ("leader", "return"), ("leader", "extend"), ("clerk", "recall")},
    "in_progress": {("unit_leader_vp", "assign"), ("unit_leader_vp", "report"), ("unit_leader_ttd", "acknowledge"),
                    ("leader", "extend"), ("clerk", "recall")},
    "in_progress_assigned": {("unit_leader_vp", "report"), ("unit_leader_vp", "complete"),
                             ("specialist", "report"), ("specialist", "complete"),
                             ("unit_leader_ttd", "acknowledge"), ("leader", "extend"), ("clerk", "recall")},
    "resolved": {("unit_leader_ttd", "acknowledge"), ("clerk", "archive"), ("clerk", "recall")},
    "archived": set(),
    "returned": {("clerk", "submit"), ("clerk", "recall")},
    "recalled": set(),
}

# Roles that can never take the action get 403 (not 409), whatever the state.
NEVER = {
    "submit": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "archive": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "recall": {"office_leader", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "direct": {"clerk", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
    "extend": {"clerk", "office_leader", "unit_leader_vp", "unit_leader_ttd", "specialist", "auditor", "admin"},
}

EXPECTED_STATE_AFTER = {"submit": "office_review", "propose": "leadership_review", "direct": "in_progress",
                        "return": "returned", "recall": "recalled", "archive": "archived"}


def test_matrix_is_complete():
    assert set(ALLOWED) == set(PATHS)
    assert sorted(ACTIONS) == sorted(
        ["submit", "propose", "direct", "return", "assign", "report", "complete", "acknowledge", "extend", "recall",
         "archive"])


@pytest.mark.parametrize("state", list(PATHS))
def test_every_action_by_every_role(client, as_user, state):
    # Refusals first, all on one document: each must leave it exactly as it was.
    doc = document_in(client, as_user, state)
    before = client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json()
    events_before = events(client, as_user, doc["id"])
    for username in USERS:
        for action in ACTIONS:
            if (username, action) in ALLOWED[state]:
                continue
            response = act(client, as_user, doc["id"], username, action)
            assert response.status_code in (403, 404, 409), (state, username, action, response.status_code, response.text)
            if username in NEVER.get(action, ()):
                assert response.status_code in (403, 404), (state, username, action, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    after = client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json()
    assert after == before
    assert events(client, as_user, doc["id"]) == events_before

    # Each allowed action succeeds on a fresh document in that state, appends one event,
    # and shows up in the caller's allowed_actions beforehand.
    for username, action in sorted(ALLOWED[state]):
        fresh = document_in(client, as_user, state)
        seen = client.get(f"{DOCS}/{fresh['id']}", headers=as_user(username)).json()
        assert action in seen["allowed_actions"], (state, username, action, seen["allowed_actions"])
        count = len(events(client, as_user, fresh["id"]))
        response = act(client, as_user, fresh["id"], username, action)
        assert response.status_code == 200, (state, username, action, response.text)
        result = response.json()
        assert result["version"] == fresh["version"] + 1
        new_events = events(client, as_user, fresh["id"])
        assert len(new_events) == count + 1 and new_events[-1]["action"] == action
        assert new_events[-1]["actor"] == username
        if action in EXPECTED_STATE_AFTER:
            assert result["state"] == EXPECTED_STATE_AFTER[action]


def test_allowed_actions_match_the_matrix(client, as_user):
    """What a client is told it may do is exactly what it may do."""
    for state, allowed in ALLOWED.items():
        doc = document_in(client, as_user, state)
        for username in USERS:
            response = client.get(f"{DOCS}/{doc['id']}", headers=as_user(username))
            if response.status_code == 404:
                assert not {a for u, a in allowed if u == username}
                continue
            assert set(response.json()["allowed_actions"]) == {a for u, a in allowed if u == username}, (
                state, username)
