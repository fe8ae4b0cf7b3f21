"""A thin HTTP sample of the role × state × action matrix: the rules are wired to the API.

The whole matrix, every (state, user, action), is checked against the pure rules in
tests/workflow/test_permissions_matrix.py in milliseconds. Here a few cells of the same
hand-written table (tests/workflow/matrix.py) go through the real API: a refusal is 403 or 409
as pinned, problem+json, and changes nothing; a success is 200 and appends one event;
``allowed_actions`` in the detail is the table's, for every user, in three scenarios; and each
document reached through PATHS is the scenario (state, assignments) the pure test builds.
"""

from collections import defaultdict

import pytest

from tests.workflow.matrix import ALLOWED, REFUSALS, SCENARIOS, SUCCESSES, USERS
from tests.workflow_helpers import DOCS, act, document_in, events

# Scenarios whose detail is read by every user: the office leader's state-dependent rights, the
# unit rules with an assignee, and a resolved document whose informed unit has not acknowledged.
DETAIL_SCENARIOS = ["office_review", "in_progress_assigned", "resolved"]


def assert_is_scenario(detail: dict, name: str) -> None:
    """The document is the scenario the pure test assumes: its state and its assignments."""
    assignments = tuple((a["unit_code"], a["role"], a["state"], a["assignee"]) for a in detail["assignments"])
    assert (detail["state"], assignments) == SCENARIOS[name], name


def _refusals_by_scenario() -> dict[str, list[tuple[str, str, int]]]:
    grouped: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (name, username, action), status in REFUSALS.items():
        grouped[name].append((username, action, status))
    return dict(grouped)


@pytest.mark.parametrize("name", sorted(_refusals_by_scenario()))
def test_refusals_are_403_or_409_and_change_nothing(client, as_user, name):
    doc = document_in(client, as_user, name)
    before = client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json()
    assert_is_scenario(before, name)
    events_before = events(client, as_user, doc["id"])
    for username, action, status in _refusals_by_scenario()[name]:
        response = act(client, as_user, doc["id"], username, action)
        assert response.status_code == status, (name, username, action, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    assert client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json() == before
    assert events(client, as_user, doc["id"]) == events_before


@pytest.mark.parametrize(("name", "username", "action"), sorted(SUCCESSES))
def test_a_success_is_200_and_appends_one_event(client, as_user, name, username, action):
    doc = document_in(client, as_user, name)
    seen = client.get(f"{DOCS}/{doc['id']}", headers=as_user(username)).json()
    assert_is_scenario(seen, name)
    assert action in seen["allowed_actions"]
    events_before = events(client, as_user, doc["id"])
    response = act(client, as_user, doc["id"], username, action)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["version"] == doc["version"] + 1
    assert result["state"] == SUCCESSES[(name, username, action)]
    new_events = events(client, as_user, doc["id"])
    assert new_events[:-1] == events_before
    assert (new_events[-1]["action"], new_events[-1]["actor"]) == (action, username)


@pytest.mark.parametrize("name", DETAIL_SCENARIOS)
def test_allowed_actions_in_the_detail_are_the_matrix(client, as_user, name):
    """What a client is told it may do is the table's, and the document is the scenario the pure test assumes."""
    doc = document_in(client, as_user, name)
    assert_is_scenario(client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json(), name)
    for username in USERS:
        expected = {a for u, a in ALLOWED[name] if u == username}
        response = client.get(f"{DOCS}/{doc['id']}", headers=as_user(username))
        if response.status_code == 404:  # may not see it, so may do nothing with it
            assert not expected, (name, username)
            continue
        assert set(response.json()["allowed_actions"]) == expected, (name, username)
