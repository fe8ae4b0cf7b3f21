"""Walking a document along the slip through the real API, for the workflow tests."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from tests.conftest import document_body

DOCS = "/api/v1/incoming-documents"
_serial = itertools.count(1)

# A delegation's dates around today, within the year a delegation may last.
AROUND_TODAY = {"starts_on": (date.today() - timedelta(days=30)).isoformat(),
                "ends_on": (date.today() + timedelta(days=300)).isoformat()}

# A valid request body for each action, as the seed's slip would have it.
ACTION_BODIES: dict[str, dict] = {
    "submit": {"action": "submit"},
    "propose": {"action": "propose", "comment": "B/có: A. Hồng - Thủ trưởng", "to_username": "leader"},
    "direct": {"action": "direct", "comment": "Giao VP chủ trì, TTĐ để biết",
               "assignments": [{"unit_code": "VP", "role": "lead"}, {"unit_code": "TTĐ", "role": "inform"}]},
    "return": {"action": "return", "comment": "Thiếu phụ lục, đề nghị bổ sung"},
    "assign": {"action": "assign", "assignee_username": "specialist", "comment": "Đ/c Chuyên xử lý"},
    "report": {"action": "report", "comment": "Đang tổng hợp số liệu"},
    "complete": {"action": "complete", "comment": "Đã xử lý, báo cáo lãnh đạo"},
    "acknowledge": {"action": "acknowledge"},
    "extend": {"action": "extend", "due_date": "2099-12-31", "comment": "Gia hạn để lấy ý kiến"},
    "recall": {"action": "recall", "comment": "Cơ quan gửi thu hồi văn bản"},
    "archive": {"action": "archive", "case_file_code": "HS-2013-01"},
}

# How to reach each state from registration: (user, action) steps.
PATHS: dict[str, list[tuple[str, str]]] = {
    "registered": [],
    "office_review": [("clerk", "submit")],
    "leadership_review": [("clerk", "submit"), ("office_leader", "propose")],
    "in_progress": [("clerk", "submit"), ("office_leader", "propose"), ("leader", "direct")],
    "in_progress_assigned": [("clerk", "submit"), ("office_leader", "propose"), ("leader", "direct"),
                             ("unit_leader_vp", "assign")],
    "resolved": [("clerk", "submit"), ("office_leader", "propose"), ("leader", "direct"),
                 ("unit_leader_vp", "assign"), ("specialist", "complete")],
    "archived": [("clerk", "submit"), ("office_leader", "propose"), ("leader", "direct"),
                 ("unit_leader_vp", "assign"), ("specialist", "complete"), ("clerk", "archive")],
    "returned": [("clerk", "submit"), ("office_leader", "return")],
    "recalled": [("clerk", "recall")],
}


def register(client, as_user, clerk: str = "clerk", **overrides) -> dict:
    n = next(_serial)
    body = document_body(symbol=f"{n}/BC-WF", **overrides)
    response = client.post(DOCS, json=body, headers=as_user(clerk))
    assert response.status_code == 201, response.text
    return response.json()


def act(client, as_user, doc_id: int, username: str, action: str, **extra):
    return client.post(f"{DOCS}/{doc_id}/actions", json={**ACTION_BODIES[action], **extra}, headers=as_user(username))


def document_in(client, as_user, state: str, **overrides) -> dict:
    doc = register(client, as_user, **overrides)
    for username, action in PATHS[state]:
        response = act(client, as_user, doc["id"], username, action)
        assert response.status_code == 200, (state, username, action, response.text)
        doc = response.json()
    return doc


def events(client, as_user, doc_id: int, username: str = "leader") -> list[dict]:
    response = client.get(f"{DOCS}/{doc_id}/events", headers=as_user(username))
    assert response.status_code == 200, response.text
    return response.json()
