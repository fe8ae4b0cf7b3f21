"""One rule for deadlines, overdue and the work list (API.md, wave 2), through the real API.

Each test is a case users met when the rule had several owners: the README's walk through the seed
slip counted a late document as on time, a cooperating unit's lateness vanished when the lead
finished, and a confidential document in office review was on nobody's work list.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import make_sessionmaker
from app.services.demo import load_demo
from tests.conftest import SECRET_REGISTER, login
from tests.workflow_helpers import DOCS, act, register

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR_2013 = {"from": "2013-01-01", "to": "2013-12-31"}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture
def seed(engine, staff, demo_dir):
    """The README's demo: the seed document 08/BC-BCĐ walked to the specialist (VP leads, due
    30/08/2013; VPB cooperates, due 30/08/2013; TTĐ is informed, no date of its own)."""
    with make_sessionmaker(engine)() as session:
        result = load_demo(session=session, data_dir=demo_dir, tz=HCM, now=datetime.now(UTC))
        session.commit()
    return result


def audit(client, as_user, path, **params):
    response = client.get(f"/api/v1/audit/{path}", params=params, headers=as_user("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def overdue_ids(client, headers) -> set[int]:
    response = client.get(DOCS, params={"overdue": True}, headers=headers)
    assert response.status_code == 200, response.text
    return {d["id"] for d in response.json()["items"]}


def test_the_readme_walk_counts_the_seed_as_late_and_vpb_stays_overdue(client, as_user, seed):
    doc_id = seed.document_id
    leader = as_user("leader")
    today = datetime.now(HCM).date().isoformat()

    # Before the specialist finishes: the document has no date of its own, its lead's (30/08/2013) is its deadline.
    before = client.get(f"{DOCS}/{doc_id}", headers=leader).json()
    assert before["due_date"] is None and before["overdue"] is True
    assert doc_id in overdue_ids(client, leader)

    specialist = login(client, "chuyenvien", seed.credentials["chuyenvien"])
    done = client.post(f"{DOCS}/{doc_id}/actions", headers=specialist,
                       json={"action": "complete", "comment": "Đã tổng hợp, báo cáo Lãnh đạo Bộ"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "resolved"

    rows = {r["key"]: r for r in audit(client, as_user, "processing-times", group_by="unit", **YEAR_2013)["rows"]}
    vp = rows["VP"]
    assert (vp["resolved"], vp["on_time"], vp["overdue"], vp["without_deadline"], vp["on_time_rate"]) == (1, 0, 1, 0, 0.0)

    # VPB's cooperating part is still open and past 30/08/2013: overdue in the detail, the filter, the slip
    # and the overdue list; the resolved document is overdue through it.
    detail = client.get(f"{DOCS}/{doc_id}", headers=leader).json()
    flags = {a["unit_code"]: a["overdue"] for a in detail["assignments"]}
    assert flags == {"VP": False, "VPB": True, "TTĐ": True}  # TTĐ never acknowledged; it shares the lead's date
    assert detail["overdue"] is True
    assert doc_id in overdue_ids(client, leader)
    slip = client.get(f"{DOCS}/{doc_id}/slip", headers=leader).json()["summary"]
    assert (slip["overdue"], slip["deadline"], slip["overdue_units"]) == (True, "2013-08-30", ["VPB", "TTĐ"])
    html = client.get(f"{DOCS}/{doc_id}/slip.html", headers=leader).text
    assert "QUÁ HẠN (VPB, TTĐ)" in html
    listed = audit(client, as_user, "overdue", as_of=today, **YEAR_2013)["rows"]
    assert {(r["kind"], r["unit_code"]) for r in listed} == {("assignment", "VPB"), ("assignment", "TTĐ")}

    # As of 3 September 2013 the document itself was open and late, with each of its units.
    then = audit(client, as_user, "overdue", as_of="2013-09-03", **YEAR_2013)["rows"]
    assert {(r["kind"], r["unit_code"], r["due_date"]) for r in then} == {
        ("document", "VP", "2013-08-30"), ("assignment", "VP", "2013-08-30"),
        ("assignment", "VPB", "2013-08-30"), ("assignment", "TTĐ", "2013-08-30")}
    assert {r["working_days_overdue"] for r in then} == {1}  # Mon 2 Sep 2013 was National Day's holiday

    # TTĐ acknowledges: its part is done. The sender's recall then takes the rest off every list.
    ttd = login(client, "truongttd", seed.credentials["truongttd"])
    assert client.post(f"{DOCS}/{doc_id}/actions", headers=ttd, json={"action": "acknowledge"}).status_code == 200
    assert {a["unit_code"] for a in client.get(f"{DOCS}/{doc_id}", headers=leader).json()["assignments"]
            if a["overdue"]} == {"VPB"}
    clerk = login(client, "vanthu", seed.credentials["vanthu"])
    recalled = client.post(f"{DOCS}/{doc_id}/actions", headers=clerk, json={"action": "recall", "comment": "Thu hồi"})
    assert recalled.status_code == 200, recalled.text
    after = client.get(f"{DOCS}/{doc_id}", headers=leader).json()
    assert after["overdue"] is False and not any(a["overdue"] for a in after["assignments"])
    assert doc_id not in overdue_ids(client, leader)
    assert audit(client, as_user, "overdue", as_of=today, **YEAR_2013)["rows"] == []


def test_a_cooperating_unit_finishes_its_part_after_the_lead_resolved_the_document(client, as_user):
    doc = register(client, as_user)
    assert act(client, as_user, doc["id"], "clerk", "submit").status_code == 200
    assert act(client, as_user, doc["id"], "leader", "direct", assignments=[
        {"unit_code": "VP", "role": "lead"}, {"unit_code": "TTĐ", "role": "cooperate"}]).status_code == 200
    assert act(client, as_user, doc["id"], "unit_leader_vp", "assign").status_code == 200
    assert act(client, as_user, doc["id"], "specialist", "complete").status_code == 200

    def work(username):
        response = client.get(DOCS, params={"awaiting_me": True}, headers=as_user(username))
        return {d["id"] for d in response.json()["items"]}

    assert doc["id"] in work("unit_leader_ttd") and doc["id"] in work("clerk")  # hand over; archive
    handed = act(client, as_user, doc["id"], "unit_leader_ttd", "assign", assignee_username="unit_leader_ttd")
    assert handed.status_code == 200, handed.text
    assert handed.json()["state"] == "resolved"
    assert act(client, as_user, doc["id"], "unit_leader_ttd", "complete").status_code == 200
    assert doc["id"] not in work("unit_leader_ttd")


def test_a_confidential_document_in_office_review_is_on_the_leaders_work_list(client, as_user):
    doc = register(client, as_user, clerk="secret_clerk", register_code=SECRET_REGISTER, confidentiality="confidential")
    assert act(client, as_user, doc["id"], "secret_clerk", "submit").status_code == 200

    def work(username):
        response = client.get(DOCS, params={"awaiting_me": True}, headers=as_user(username))
        assert response.status_code == 200
        return {d["id"] for d in response.json()["items"]}

    seen = client.get(f"{DOCS}/{doc['id']}", headers=as_user("leader")).json()
    assert set(seen["allowed_actions"]) == {"direct", "return", "extend"}
    assert doc["id"] in work("leader")
    assert doc["id"] not in work("office_leader")  # who cannot see it
    assert client.get(f"{DOCS}/{doc['id']}", headers=as_user("office_leader")).status_code == 404

    # A normal document in office review is the office's turn, not the leader's.
    normal = register(client, as_user)
    assert act(client, as_user, normal["id"], "clerk", "submit").status_code == 200
    assert normal["id"] in work("office_leader") and normal["id"] not in work("leader")


def test_leadership_review_waits_on_the_leader_it_was_proposed_to(client, as_user):
    named = register(client, as_user)
    unnamed = register(client, as_user)
    for doc, extra in ((named, {"to_username": "leader"}), (unnamed, {"to_username": None})):
        assert act(client, as_user, doc["id"], "clerk", "submit").status_code == 200
        assert act(client, as_user, doc["id"], "office_leader", "propose", **extra).status_code == 200
    response = client.get(DOCS, params={"awaiting_me": True}, headers=as_user("leader"))
    assert {d["id"] for d in response.json()["items"]} == {named["id"], unnamed["id"]}


def test_a_resolved_document_with_no_deadline_counts_as_without_deadline(client, as_user):
    doc = register(client, as_user, received_at=None)
    for username, action in (("clerk", "submit"), ("leader", "direct"), ("unit_leader_vp", "assign"),
                             ("specialist", "complete")):
        assert act(client, as_user, doc["id"], username, action).status_code == 200
    year = datetime.now(HCM).year
    rows = audit(client, as_user, "processing-times", group_by="urgency", **{"from": f"{year}-01-01"})["rows"]
    [normal] = [r for r in rows if r["key"] == "normal"]
    assert (normal["resolved"], normal["on_time"], normal["overdue"], normal["without_deadline"],
            normal["on_time_rate"]) == (1, 0, 0, 1, None)


def test_an_extension_moves_the_stored_marks_and_a_write_that_forgets_them_is_caught(
        client, as_user, engine, monkeypatch):
    """The ``overdue`` filter reads the stored marks (app.services.deadline_marks): a past deadline
    makes the document overdue, an extension takes it off the list at once. With the recompute
    switched off, the comparison every database test ends with (tests/marks.py) reports the stale row."""
    from app.services import deadline_marks
    from tests.marks import mark_differences

    doc = register(client, as_user, due_date="2020-01-15")
    assert doc["id"] in overdue_ids(client, as_user("leader"))
    assert act(client, as_user, doc["id"], "clerk", "submit").status_code == 200
    assert act(client, as_user, doc["id"], "leader", "extend", due_date="2099-01-01").status_code == 200
    assert doc["id"] not in overdue_ids(client, as_user("leader"))

    monkeypatch.setattr(deadline_marks, "refresh", lambda session, document: session.flush())
    assert act(client, as_user, doc["id"], "leader", "extend", due_date="2099-06-01").status_code == 200
    with make_sessionmaker(engine)() as session:
        assert [p for p in mark_differences(session) if f"document {doc['id']} " in p]
        monkeypatch.undo()
        deadline_marks.refresh_many(session, [doc["id"]])
        session.commit()
        assert mark_differences(session) == []
