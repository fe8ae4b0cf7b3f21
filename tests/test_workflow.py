"""The seed's slip end to end, and the workflow's rules one by one."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, text

from app.db import make_sessionmaker
from app.models import Assignment
from app.services import organisation as org
from app.workflow.vocabulary import Role
from tests.conftest import PASSWORD
from tests.workflow_helpers import AROUND_TODAY, DOCS, act, document_in, events, register


def test_seed_route_end_to_end(client, as_user):
    """register → submit → propose → direct (VP lead, VPB cooperate, TTĐ inform) → assign → report →
    complete → resolved → archive, with every opinion signed and dated in the events."""
    doc = register(client, as_user)
    doc_id = doc["id"]
    assert act(client, as_user, doc_id, "clerk", "submit").json()["state"] == "office_review"
    proposed = act(client, as_user, doc_id, "office_leader", "propose").json()
    assert proposed["state"] == "leadership_review"
    directed = act(client, as_user, doc_id, "leader", "direct", comment="Kết luận: VP chủ trì; VPB phối hợp; TTĐ để biết",
                   due_date="2099-08-30",
                   assignments=[{"unit_code": "VP", "role": "lead", "due_date": "2099-08-25"},
                                {"unit_code": "VPB", "role": "cooperate"},
                                {"unit_code": "TTĐ", "role": "inform"}])
    assert directed.status_code == 200, directed.text
    directed = directed.json()
    assert directed["state"] == "in_progress" and directed["due_date"] == "2099-08-30"
    assert [(a["unit_code"], a["role"], a["state"], a["due_date"]) for a in directed["assignments"]] == [
        ("VP", "lead", "pending", "2099-08-25"), ("VPB", "cooperate", "pending", "2099-08-30"),
        ("TTĐ", "inform", "pending", "2099-08-30")]
    assigned = act(client, as_user, doc_id, "unit_leader_vp", "assign", comment="D 23.8: đ/c Chuyên xử lý").json()
    assert assigned["assignments"][0]["assignee"] == "specialist"
    assert assigned["assignments"][0]["state"] == "in_progress"
    assert act(client, as_user, doc_id, "specialist", "report").json()["state"] == "in_progress"
    assert act(client, as_user, doc_id, "unit_leader_ttd", "acknowledge").status_code == 200
    completed = act(client, as_user, doc_id, "specialist", "complete").json()
    assert completed["state"] == "resolved"
    assert completed["assignments"][1]["state"] == "pending"  # VPB may still finish its part
    archived = act(client, as_user, doc_id, "clerk", "archive").json()
    assert archived["state"] == "archived"

    log = events(client, as_user, doc_id)
    assert [(e["seq"], e["action"], e["actor"], e["from_state"], e["to_state"]) for e in log] == [
        (1, "register", "clerk", None, "registered"),
        (2, "submit", "clerk", "registered", "office_review"),
        (3, "propose", "office_leader", "office_review", "leadership_review"),
        (4, "direct", "leader", "leadership_review", "in_progress"),
        (5, "assign", "unit_leader_vp", "in_progress", "in_progress"),
        (6, "report", "specialist", "in_progress", "in_progress"),
        (7, "acknowledge", "unit_leader_ttd", "in_progress", "in_progress"),
        (8, "complete", "specialist", "in_progress", "resolved"),
        (9, "archive", "clerk", "resolved", "archived"),
    ]
    assert log[2]["comment"] == "B/có: A. Hồng - Thủ trưởng" and log[2]["data"]["to_username"] == "leader"
    assert [a["unit_code"] for a in log[3]["data"]["assignments"]] == ["VP", "VPB", "TTĐ"]
    assert log[4]["data"]["assignee_username"] == "specialist"
    assert all(e["at"].endswith("+07:00") for e in log)


def test_unknown_action_and_bad_direction_data_are_422_and_change_nothing(client, as_user):
    doc = document_in(client, as_user, "leadership_review")
    cases = [
        {"action": "dance"},
        {"action": "direct", "assignments": []},
        {"action": "direct", "assignments": [{"unit_code": "VP", "role": "cooperate"}]},
        {"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead"}, {"unit_code": "TTĐ", "role": "lead"}]},
        {"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead"}, {"unit_code": "VP", "role": "inform"}]},
        {"action": "direct", "assignments": [{"unit_code": "NOPE", "role": "lead"}]},
        {"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead", "due_date": "2000-01-01"}]},
        {"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead", "due_date": "2099-01-01",
                                              "due_in_working_days": 3}]},
        {"action": "return"},
        {"action": "return", "comment": "   "},
    ]
    for body in cases:
        response = client.post(f"{DOCS}/{doc['id']}/actions", json=body, headers=as_user("leader"))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"], body
    after = client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json()
    assert after["state"] == "leadership_review" and after["version"] == doc["version"] and after["assignments"] == []


def test_specific_refusal_codes(client, as_user):
    doc = document_in(client, as_user, "registered")
    assert act(client, as_user, doc["id"], "specialist", "submit").status_code == 404  # cannot even see it
    assert act(client, as_user, doc["id"], "auditor", "submit").status_code == 403
    assert act(client, as_user, doc["id"], "leader", "direct").status_code == 409  # not yet submitted
    assert act(client, as_user, doc["id"], "clerk", "submit").status_code == 200
    assert act(client, as_user, doc["id"], "clerk", "submit").status_code == 409  # already submitted


def test_if_match_stale_version_gets_412(client, as_user):
    doc = document_in(client, as_user, "office_review")
    stale = {**as_user("office_leader"), "If-Match": '"1"'}
    response = client.post(f"{DOCS}/{doc['id']}/actions", json={"action": "propose"}, headers=stale)
    assert response.status_code == 412
    fresh = {**as_user("office_leader"), "If-Match": f'"{doc["version"]}"'}
    response = client.post(f"{DOCS}/{doc['id']}/actions", json={"action": "propose"}, headers=fresh)
    assert response.status_code == 200 and response.headers["etag"] == f'"{doc["version"] + 1}"'
    bad = client.post(f"{DOCS}/{doc['id']}/actions", json={"action": "direct"}, headers={**fresh, "If-Match": "abc"})
    assert bad.status_code == 422


@pytest.fixture(scope="module")
def second_leader(engine, staff):
    with make_sessionmaker(engine)() as session:
        if org.get_user(session=session, username="leader2") is None:
            org.create_user(session=session, username="leader2", password=PASSWORD, roles=[Role.leader],
                            unit_code="LDB", full_name="Leader Two")
            session.commit()
    return "leader2"


def test_two_leaders_directing_at_once_one_wins(live_servers, client, as_user, engine, second_leader):
    urls = [s.base_url for s in live_servers]
    for _attempt in range(3):
        doc = document_in(client, as_user, "leadership_review")
        tokens = []
        for username in ("leader", second_leader):
            r = httpx.post(f"{urls[0]}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            tokens.append({"Authorization": f"Bearer {r.json()['access_token']}",
                           "If-Match": f'"{doc["version"]}"'})
        bodies = [
            {"action": "direct", "assignments": [{"unit_code": "VP", "role": "lead"}]},
            {"action": "direct", "assignments": [{"unit_code": "TTĐ", "role": "lead"}, {"unit_code": "VPB",
                                                                                     "role": "inform"}]},
        ]

        def send(i, doc=doc, bodies=bodies, tokens=tokens):
            return httpx.post(f"{urls[i]}{DOCS}/{doc['id']}/actions", json=bodies[i], headers=tokens[i], timeout=30)

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(send, [0, 1]))
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200 and codes[1] in (409, 412), [r.text for r in responses]
        with make_sessionmaker(engine)() as session:
            units = session.scalars(select(Assignment.unit_id).where(Assignment.document_id == doc["id"])).all()
        winner = next(r for r in responses if r.status_code == 200).json()
        assert len(units) == len(winner["assignments"])
        assert [e["action"] for e in events(client, as_user, doc["id"])].count("direct") == 1


def test_delegate_acts_on_behalf_of_the_leader(client, as_user):
    response = client.post("/api/v1/delegations", json={
        "delegate_username": "office_leader", **AROUND_TODAY, "note": "Ủy quyền khi đi công tác"},
        headers=as_user("leader"))
    assert response.status_code == 201, response.text
    delegation = response.json()
    doc = document_in(client, as_user, "leadership_review")
    # Only leaders direct from leadership review; the office leader now holds the leader's authority.
    seen = client.get(f"{DOCS}/{doc['id']}", headers=as_user("office_leader")).json()
    assert "direct" in seen["allowed_actions"]
    directed = act(client, as_user, doc["id"], "office_leader", "direct")
    assert directed.status_code == 200, directed.text
    last = events(client, as_user, doc["id"])[-1]
    assert (last["actor"], last["on_behalf_of"]) == ("office_leader", "leader")
    # Revoked: the authority is gone.
    assert client.delete(f"/api/v1/delegations/{delegation['id']}", headers=as_user("leader")).json()["revoked"]
    other = document_in(client, as_user, "leadership_review")
    assert act(client, as_user, other["id"], "office_leader", "direct").status_code == 403


def test_only_leaders_delegate_and_not_to_themselves(client, as_user):
    body = {"delegate_username": "clerk", "starts_on": "2026-01-01", "ends_on": "2026-01-31"}
    assert client.post("/api/v1/delegations", json=body, headers=as_user("specialist")).status_code == 403
    body["delegate_username"] = "leader"
    assert client.post("/api/v1/delegations", json=body, headers=as_user("leader")).status_code == 422
    body.update(delegate_username="clerk", ends_on="2025-12-31")
    assert client.post("/api/v1/delegations", json=body, headers=as_user("leader")).status_code == 422


def test_returned_document_goes_back_to_the_clerk_and_is_resubmitted(client, as_user):
    doc = document_in(client, as_user, "returned")
    assert doc["allowed_actions"] == []  # the office leader who returned it has nothing more to do
    clerk_view = client.get(f"{DOCS}/{doc['id']}", headers=as_user("clerk")).json()
    assert clerk_view["allowed_actions"] == ["submit", "recall"]
    assert events(client, as_user, doc["id"])[-1]["comment"] == "Thiếu phụ lục, đề nghị bổ sung"
    resubmitted = act(client, as_user, doc["id"], "clerk", "submit").json()
    assert resubmitted["state"] == "office_review"


def test_recalled_document_keeps_its_record_but_leaves_work_lists(client, as_user):
    doc = document_in(client, as_user, "in_progress", due_date="2013-08-20")
    assert doc["overdue"] is True
    recalled = act(client, as_user, doc["id"], "clerk", "recall").json()
    assert recalled["state"] == "recalled" and recalled["overdue"] is False
    assert recalled["allowed_actions"] == []
    overdue = client.get(DOCS, params={"overdue": True}, headers=as_user("clerk")).json()
    assert doc["id"] not in [d["id"] for d in overdue["items"]]
    assert [e["action"] for e in events(client, as_user, doc["id"])][-1] == "recall"
    assert client.get(f"{DOCS}/{doc['id']}", headers=as_user("auditor")).status_code == 200


def test_extend_keeps_the_original_due_date_in_the_history(client, as_user):
    doc = document_in(client, as_user, "in_progress")
    vp = doc["assignments"][0]
    first = act(client, as_user, doc["id"], "leader", "extend", due_date="2099-01-10", comment="Gia hạn lần 1",
                assignment_id=vp["id"])
    assert first.status_code == 200, first.text
    second = act(client, as_user, doc["id"], "leader", "extend", due_date="2099-02-10", comment="Gia hạn lần 2",
                 assignment_id=vp["id"])
    assert second.json()["assignments"][0]["due_date"] == "2099-02-10"
    earlier = act(client, as_user, doc["id"], "leader", "extend", due_date="2099-01-01", comment="Lùi lại",
                  assignment_id=vp["id"])
    assert earlier.status_code == 422
    history = [e["data"] for e in events(client, as_user, doc["id"]) if e["action"] == "extend"]
    assert [(h["from_due_date"], h["to_due_date"]) for h in history] == [
        (None, "2099-01-10"), ("2099-01-10", "2099-02-10")]


def test_assign_needs_a_member_of_the_unit(client, as_user):
    doc = document_in(client, as_user, "in_progress")
    response = act(client, as_user, doc["id"], "unit_leader_vp", "assign", assignee_username="unit_leader_ttd")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assignee_username"


def test_confidential_document_invisible_to_unassigned_unit_leader(client, as_user):
    doc = register(client, as_user, clerk="secret_clerk", confidentiality="secret", register_code="mat")
    assert act(client, as_user, doc["id"], "secret_clerk", "submit").status_code == 200
    assert act(client, as_user, doc["id"], "office_leader", "propose").status_code == 404  # no clearance
    directed = act(client, as_user, doc["id"], "leader", "direct",
                   assignments=[{"unit_code": "VP", "role": "lead"}])
    assert directed.status_code == 200
    assert client.get(f"{DOCS}/{doc['id']}", headers=as_user("unit_leader_ttd")).status_code == 404
    assert act(client, as_user, doc["id"], "unit_leader_ttd", "report").status_code == 404
    assert client.get(f"{DOCS}/{doc['id']}/events", headers=as_user("unit_leader_ttd")).status_code == 404
    assert act(client, as_user, doc["id"], "unit_leader_vp", "assign").status_code == 200


def test_events_are_append_only_on_postgresql(client, as_user, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    doc = document_in(client, as_user, "office_review")
    with engine.connect() as conn:
        for statement in ("UPDATE document_events SET comment = 'rewritten' WHERE document_id = :id",
                          "DELETE FROM document_events WHERE document_id = :id"):
            with pytest.raises(Exception, match="append-only"):
                with conn.begin():
                    conn.execute(text(statement), {"id": doc["id"]})
    assert len(events(client, as_user, doc["id"])) == 2
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_work_list_shows_whose_move_it_is(client, as_user):
    """`awaiting_me=true` is each person's work list; recalled documents leave every one of them."""
    registered = document_in(client, as_user, "registered")
    in_review = document_in(client, as_user, "office_review")
    directed = document_in(client, as_user, "in_progress")
    assigned = document_in(client, as_user, "in_progress_assigned")

    def work(username):
        response = client.get(DOCS, params={"awaiting_me": True}, headers=as_user(username))
        assert response.status_code == 200
        return {d["id"] for d in response.json()["items"]}

    assert work("clerk") == {registered["id"]}
    assert work("office_leader") == {in_review["id"]}
    # Once VP's part is handed over it is the specialist's turn, not the unit leader's (API.md).
    assert work("unit_leader_vp") == {directed["id"]}
    assert work("unit_leader_ttd") == {directed["id"], assigned["id"]}  # to acknowledge
    assert work("specialist") == {assigned["id"]}
    for doc in (registered, in_review, directed, assigned):
        assert act(client, as_user, doc["id"], "clerk", "recall").status_code == 200
    for username in ("clerk", "office_leader", "unit_leader_vp", "unit_leader_ttd", "specialist"):
        assert work(username) == set()


def _delegate(client, as_user, delegator: str, delegate: str, **body):
    return client.post("/api/v1/delegations", json={"delegate_username": delegate, **AROUND_TODAY, **body},
                       headers=as_user(delegator))


def test_a_delegation_names_the_roles_it_lends_and_lasts_at_most_a_year(client, as_user, engine):
    lent = _delegate(client, as_user, "office_leader", "unit_leader_vp")
    assert lent.status_code == 201 and lent.json()["roles"] == ["office_leader"]
    for body, field in [({"roles": ["leader"]}, "roles"),  # not held
                        ({"roles": ["clerk"]}, "roles"),
                        ({"starts_on": "2026-01-01", "ends_on": "2027-01-01"}, "ends_on"),  # 367 days
                        ({"starts_on": "2026-01-02", "ends_on": "2026-01-01"}, "ends_on")]:
        refused = _delegate(client, as_user, "office_leader", "unit_leader_vp", **body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (body, refused.text)
    assert _delegate(client, as_user, "office_leader", "unit_leader_vp", starts_on="2028-01-01",
                     ends_on="2028-12-31").status_code == 201  # 366 days, a leap year
    # Not to a deactivated user.
    with make_sessionmaker(engine)() as session:
        org.create_user(session=session, username="gone_clerk", password=PASSWORD, roles=[Role.clerk], unit_code="VP")
        session.commit()
    admin = as_user("admin")
    assert client.patch("/api/v1/users/gone_clerk", json={"active": False}, headers=admin).status_code == 200
    assert _delegate(client, as_user, "leader", "gone_clerk").status_code == 422


def test_lent_authority_is_only_what_was_lent(client, as_user, engine):
    """A leader who is also a unit leader lends only the unit leader's part: the delegate may not direct."""
    with make_sessionmaker(engine)() as session:
        org.create_user(session=session, username="two_hats", password=PASSWORD,
                        roles=[Role.leader, Role.unit_leader], unit_code="VP")
        session.commit()
    assert _delegate(client, as_user, "two_hats", "auditor", roles=["unit_leader"]).status_code == 201
    doc = document_in(client, as_user, "leadership_review")
    seen = client.get(f"{DOCS}/{doc['id']}", headers=as_user("auditor")).json()
    assert seen["allowed_actions"] == []
    assert act(client, as_user, doc["id"], "auditor", "direct").status_code == 403
    # Lent whole, the same delegation would let the auditor direct as the leader.
    assert _delegate(client, as_user, "two_hats", "auditor").json()["roles"] == ["leader", "unit_leader"]
    assert "direct" in client.get(f"{DOCS}/{doc['id']}", headers=as_user("auditor")).json()["allowed_actions"]


def test_whoever_registered_a_document_cannot_direct_it_by_delegation(client, as_user):
    """The finding: a clerk holding an office leader's delegation submitted, then directed, their own document."""
    assert _delegate(client, as_user, "office_leader", "clerk").status_code == 201
    own = register(client, as_user)  # registered by the clerk
    assert act(client, as_user, own["id"], "clerk", "submit").status_code == 200
    seen = client.get(f"{DOCS}/{own['id']}", headers=as_user("clerk")).json()
    assert not {"propose", "direct", "return"} & set(seen["allowed_actions"])
    refused = act(client, as_user, own["id"], "clerk", "direct")
    assert refused.status_code == 403
    work = client.get(DOCS, params={"awaiting_me": True}, headers=as_user("clerk")).json()
    assert own["id"] not in {d["id"] for d in work["items"]}
    # Someone else's registration the clerk may decide on with the office leader's authority.
    other = register(client, as_user, clerk="secret_clerk")
    assert act(client, as_user, other["id"], "secret_clerk", "submit").status_code == 200
    assert other["id"] in {d["id"] for d in client.get(DOCS, params={"awaiting_me": True},
                                                         headers=as_user("clerk")).json()["items"]}
    directed = act(client, as_user, other["id"], "clerk", "direct")
    assert directed.status_code == 200, directed.text
    assert (events(client, as_user, other["id"])[-1]["on_behalf_of"]) == "office_leader"
