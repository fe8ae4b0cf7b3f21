"""Bad input as clients send it: each answer coded, with the field it is about, in Vietnamese by
default and in English when asked (API.md, Errors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, document_body, login
from tests.workflow_helpers import DOCS, PATHS, act, register

LEAD_VP = {"unit_code": "VP", "role": "lead"}


@dataclass(frozen=True)
class BadInput:
    """One kind of bad request and what its answer must say."""

    name: str
    send: Callable[[TestClient, dict[str, str], dict[str, Any]], Any]
    status: int
    code: str
    vi: str  # a part of the Vietnamese message
    en: str  # the same part in English
    field: str | None = None  # the errors[] item expected, when the problem is about one field
    field_code: str | None = None
    as_user: str | None = "clerk"
    needs: dict[str, Any] = dataclass_field(default_factory=dict)


def _register(**overrides: Any) -> Callable[..., Any]:
    return lambda client, headers, _ctx: client.post(DOCS, json=document_body(**overrides), headers=headers)


def _direct(**body: Any) -> Callable[..., Any]:
    return lambda client, headers, ctx: client.post(
        f"{DOCS}/{ctx['document_id']}/actions", json={"action": "direct", **body}, headers=headers)


FUTURE = (datetime.now(UTC) + timedelta(days=3)).isoformat()

CASES = [
    BadInput("missing field", lambda c, h, _: c.post(DOCS, json={k: v for k, v in document_body().items()
                                                                 if k != "summary"}, headers=h),
             422, "validation.failed", "trường này là bắt buộc", "this field is required", "summary", "missing"),
    BadInput("unknown urgency", _register(urgency="rất gấp"), 422, "validation.failed", "phải là một trong",
             "must be one of", "urgency", "enum"),
    BadInput("a date written dd/mm/yyyy", _register(document_date="12/08/2013"), 422, "validation.failed",
             "phải là ngày (YYYY-MM-DD)", "must be a date (YYYY-MM-DD)", "document_date"),
    BadInput("a symbol with a character symbols never have", _register(symbol="08/BC-BCĐ!"), 422,
             "validation.failed", "có ký tự '!' (U+0021)", "contains '!' (U+0021)", "symbol", "symbol.invalid"),
    BadInput("a blank summary", _register(summary="   "), 422, "validation.failed", "không được để trống",
             "must not be empty", "summary", "text.empty"),
    BadInput("a summary too long", _register(summary="x" * 501), 422, "validation.failed",
             "chỉ được tối đa 500 ký tự", "must be at most 500 characters", "summary", "string_too_long"),
    BadInput("arrival in the future", _register(received_at=FUTURE), 422, "date.future", "không được ở tương lai",
             "must not be in the future", "received_at", "date.future"),
    BadInput("a field the API does not have", _register(colour="red"), 422, "validation.failed",
             "trường này không thuộc yêu cầu", "this field is not part of the request", "colour", "extra_forbidden"),
    BadInput("an unknown register", _register(register_code="nope"), 422, "register.unknown", "không có sổ 'nope'",
             "register 'nope' does not exist", "register_code", "register.unknown"),
    BadInput("a form sent to a JSON operation",
             lambda c, h, _: c.post(DOCS, data={"symbol": "08/BC-BCĐ"}, headers=h), 415, "request.json_expected",
             "thao tác này nhận JSON", "this operation takes JSON"),
    BadInput("JSON sent to the login form",
             lambda c, h, _: c.post("/api/v1/auth/token", json={"username": "clerk", "password": PASSWORD}, headers=h),
             415, "request.form_expected", "thao tác này nhận biểu mẫu", "this operation takes a form",
             as_user=None),
    BadInput("text that is not JSON",
             lambda c, h, _: c.post(DOCS, content=b'{"symbol": ', headers={**h, "Content-Type": "application/json"}),
             400, "request.json_invalid", "không phải JSON hợp lệ", "is not valid JSON"),
    BadInput("an unknown action",
             lambda c, h, ctx: c.post(f"{DOCS}/{ctx['document_id']}/actions", json={"action": "fly"}, headers=h),
             422, "validation.failed", "'fly' không phải là một trong", "'fly' is not one of", "action",
             "union_tag_invalid", as_user="leader", needs={"state": "leadership_review"}),
    BadInput("an impossible deadline inside a direction",
             _direct(assignments=[{**LEAD_VP, "due_date": "2013-13-01"}]), 422, "validation.failed",
             "phải là ngày", "must be a date", "assignments.0.due_date", as_user="leader",
             needs={"state": "leadership_review"}),
    BadInput("a direction with two lead units",
             _direct(assignments=[LEAD_VP, {"unit_code": "VPB", "role": "lead"}]), 422, "validation.failed",
             "phải có đúng một đơn vị chủ trì", "exactly one unit must lead", "assignments", "direction.invalid",
             as_user="leader", needs={"state": "leadership_review"}),
    BadInput("a unit's role that does not exist",
             _direct(assignments=[LEAD_VP, {"unit_code": "VPB", "role": "boss"}]), 422, "validation.failed",
             "phải là một trong", "must be one of", "assignments.1.role", "enum", as_user="leader",
             needs={"state": "leadership_review"}),
    BadInput("a direction to a unit that does not exist", _direct(assignments=[{"unit_code": "XYZ", "role": "lead"}]),
             422, "unit.unknown", "không có đơn vị: XYZ", "unknown unit(s): XYZ", "assignments", "unit.unknown",
             as_user="leader", needs={"state": "leadership_review"}),
    BadInput("an action the user's roles do not allow",
             lambda c, h, ctx: act(c, lambda _u: h, ctx["document_id"], "clerk", "direct"), 403,
             "workflow.role", "vai trò của bạn không cho phép 'direct'", "your roles do not allow 'direct'",
             needs={"state": "leadership_review"}),
    BadInput("an action the document's state does not allow",
             lambda c, h, ctx: act(c, lambda _u: h, ctx["document_id"], "leader", "direct"), 409,
             "workflow.not_now", "khi văn bản đang ở trạng thái 'registered'",
             "while the document is 'registered'", as_user="leader", needs={"state": "registered"}),
    BadInput("If-Match that is not an ETag",
             lambda c, h, ctx: c.post(f"{DOCS}/{ctx['document_id']}/actions", json={"action": "submit"},
                                      headers={**h, "If-Match": "latest"}),
             422, "if_match.invalid", "cần ETag của văn bản", "expected the ETag of the document", "If-Match",
             "if_match.invalid", needs={"state": "registered"}),
    BadInput("a page size over the limit", lambda c, h, _: c.get(DOCS, params={"limit": 100000}, headers=h), 422,
             "validation.failed", "chỉ được tối đa 500", "must be at most 500", "limit", "less_than_equal"),
    BadInput("an id that is not a number", lambda c, h, _: c.get(f"{DOCS}/abc", headers=h), 422,
             "validation.failed", "phải là số nguyên", "must be a whole number", "document_id", "int_parsing"),
    BadInput("a document that does not exist", lambda c, h, _: c.get(f"{DOCS}/999999", headers=h), 404,
             "document.not_found", "không có văn bản đến 999999", "incoming document 999999 does not exist"),
    BadInput("a wrong password",
             lambda c, h, _: c.post("/api/v1/auth/token", data={"username": "clerk", "password": "wrong-password"},
                                    headers=h),
             401, "auth.wrong_credentials", "sai tên đăng nhập hoặc mật khẩu", "wrong username or password",
             as_user=None),
    BadInput("no token", lambda c, h, _: c.get(DOCS, headers=h), 401, "auth.required", "cần mã truy cập",
             "a bearer token is required", as_user=None),
    BadInput("a role the operation needs",
             lambda c, h, _: c.post("/api/v1/units", json={"code": "NEW", "name": "Mới"}, headers=h), 403,
             "auth.role", "thao tác này cần một trong các vai trò", "this needs one of the roles"),
]


@pytest.fixture(scope="module")
def plain_client(app: FastAPI) -> Iterator[TestClient]:
    """A client that names no language, as most do."""
    with TestClient(app, base_url="http://testserver") as client:
        client.default_language = None  # type: ignore[attr-defined]
        yield client


def _context(client: TestClient, case: BadInput) -> dict[str, Any]:
    state = case.needs.get("state")
    if state is None:
        return {}
    as_user = lambda username: login(client, username)  # noqa: E731
    document = register(client, as_user)
    for username, action in PATHS[state]:
        assert act(client, as_user, document["id"], username, action).status_code == 200
    return {"document_id": document["id"]}


def test_there_are_at_least_twenty_kinds() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_coded_and_told_in_vietnamese_then_english(plain_client: TestClient, case: BadInput) -> None:
    context = _context(plain_client, case)
    headers = login(plain_client, case.as_user) if case.as_user else {}

    answers = {}
    for language, extra in (("vi", {}), ("en", {"Accept-Language": "en"})):
        response = case.send(plain_client, {**headers, **extra}, context)
        assert response.status_code == case.status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["content-language"] == language
        body = response.json()
        assert body["code"] == case.code, body
        answers[language] = body

    vi, en = answers["vi"], answers["en"]
    assert case.vi in vi["detail"], vi["detail"]
    assert case.en in en["detail"], en["detail"]
    assert vi["title"] != en["title"], "the title is translated too"
    if case.field is not None:
        [item] = [e for e in vi["errors"] if e["field"] == case.field]
        [item_en] = [e for e in en["errors"] if e["field"] == case.field]
        if case.field_code is not None:
            assert item["code"] == item_en["code"] == case.field_code
        assert case.vi in item["message"] and case.en in item_en["message"], (item, item_en)
