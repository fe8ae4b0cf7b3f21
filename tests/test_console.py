"""The web console over HTTP: sessions, CSRF, registering through the form, actions, visibility.

The browser tests (tests/test_console_browser.py) walk the same screens in Chromium; these check
what HTTP decides: cookies and their flags, refusals, statuses and the pages' languages.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.db import make_sessionmaker
from app.services.organisation import list_users
from tests.conftest import PASSWORD, SECRET_REGISTER, document_body
from tests.console_helpers import console_client, csrf_of, main_of, page_csrf, sign_in

FORM = {k: v for k, v in document_body().items() if k != "received_at"}


def register_form(browser: TestClient, **overrides: str) -> object:
    csrf = page_csrf(browser, "/console/documents/new")
    return browser.post("/console/documents/new", data={**FORM, **overrides, "csrf_token": csrf})


def registered_id(answer) -> int:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/console/documents/(\d+)\?registered=1", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def test_pages_need_a_session_and_come_back_after_login(app: FastAPI) -> None:
    browser = console_client(app)
    answer = browser.get("/console/documents?q=da+nang")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Fdocuments%3Fq%3Dda%2Bnang"
    form = browser.get(answer.headers["location"])
    assert 'name="next" value="/console/documents?q=da+nang"' in form.text
    done = browser.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text), "next": "/console/documents?q=da+nang"})
    assert done.status_code == 303 and done.headers["location"] == "/console/documents?q=da+nang"


def test_login_refuses_another_site_as_next(app: FastAPI) -> None:
    browser = console_client(app)
    form = browser.get("/console/login")
    done = browser.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text), "next": "//evil.example/console"})
    assert done.headers["location"] == "/console/"


def test_session_cookie_flags(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    cookie = next(c for c in browser.cookies.jar if c.name == "congvan_session")
    assert cookie.path == "/console" and not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    over_tls = sign_in(app, "clerk", base_url="https://testserver")
    secure = next(c for c in over_tls.cookies.jar if c.name == "congvan_session")
    assert secure.secure


def test_set_cookie_header_says_httponly_lax(app: FastAPI) -> None:
    browser = console_client(app)
    form = browser.get("/console/login")
    answer = browser.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                                 "csrf_token": csrf_of(form.text)})
    header = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("congvan_session="))
    assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/console" in header
    assert "Secure" not in header


def test_login_without_its_csrf_token_is_refused(app: FastAPI) -> None:
    browser = console_client(app)
    browser.get("/console/login")
    answer = browser.post("/console/login", data={"username": "clerk", "password": PASSWORD})
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "congvan_session" not in browser.cookies


def test_wrong_password_in_vietnamese_then_english(app: FastAPI) -> None:
    browser = console_client(app)
    form = browser.get("/console/login")
    answer = browser.post("/console/login", data={"username": "auditor", "password": "wrong password!",
                                                 "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 401
    assert "sai tên đăng nhập hoặc mật khẩu" in answer.text  # Vietnamese for a browser that names no language
    english = console_client(app)
    form = english.get("/console/login", headers={"Accept-Language": "en"})
    answer = english.post("/console/login", headers={"Accept-Language": "en"},
                          data={"username": "auditor", "password": "wrong password!", "csrf_token": csrf_of(form.text)})
    assert "wrong username or password" in answer.text
    assert '<html lang="en">' in answer.text


def test_language_switch_sticks(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    assert "Công việc của tôi" in browser.get("/console/").text
    switched = browser.get("/console/language/en?next=/console/")
    assert switched.status_code == 303
    assert "My work" in browser.get("/console/").text


def test_throttle_is_the_apis(app: FastAPI, client: TestClient) -> None:
    """Failures through the API count for the console's login too (one security log, one rule)."""
    for _ in range(app.state.settings.login_max_failures):
        client.post("/api/v1/auth/token", data={"username": "admin", "password": "not the password"})
    browser = console_client(app)
    form = browser.get("/console/login")
    answer = browser.post("/console/login", data={"username": "admin", "password": PASSWORD,
                                                 "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 429
    assert answer.headers.get("retry-after")


def test_logout_revokes_the_session_token(app: FastAPI) -> None:
    browser = sign_in(app, "specialist")
    token = browser.cookies.get("congvan_session")
    csrf = page_csrf(browser)
    assert browser.post("/console/logout", data={"csrf_token": csrf}).status_code == 303
    replay = console_client(app)
    replay.cookies.set("congvan_session", token, path="/console")
    assert replay.get("/console/").status_code == 303  # to the login form: the token is revoked
    # … and the API refuses it too: the same token
    assert replay.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_logout_needs_its_csrf_token(app: FastAPI) -> None:
    browser = sign_in(app, "specialist")
    assert browser.post("/console/logout", data={}).status_code == 403
    assert browser.get("/console/").status_code == 200


def test_register_through_the_form_then_warned_and_refused_as_duplicate(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    document_id = registered_id(register_form(browser, document_date="12/08/2013"))  # as Vietnamese write it
    shown = browser.get(f"/console/documents/{document_id}?registered=1")
    assert "12/08/2013" in shown.text
    assert 'id="arrival-number">1<' in shown.text
    probe = browser.get("/console/documents/duplicate-check",
                        params={"symbol": FORM["symbol"], "issuer": FORM["issuer"], "document_date": "12/08/2013"})
    assert 'id="duplicate-found"' in probe.text and f"/console/documents/{document_id}" in probe.text
    fresh = browser.get("/console/documents/duplicate-check",
                        params={"symbol": "99/BC-X", "issuer": FORM["issuer"], "document_date": FORM["document_date"]})
    assert "duplicate-found" not in fresh.text
    again = register_form(browser)
    assert again.status_code == 409 and 'id="duplicate-refused"' in again.text
    second = registered_id(register_form(browser, allow_duplicate="true"))
    assert second != document_id


def test_register_form_errors_go_next_to_their_fields(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    answer = register_form(browser, summary="")  # refused by the API's schema
    assert answer.status_code == 422
    assert 'id="summary-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="08/BC-BCĐ"' in answer.text  # what was typed is kept
    future = register_form(browser, document_date="01/01/2999")  # refused by the service
    assert future.status_code == 422 and 'id="document_date-error"' in future.text
    assert 'value="01/01/2999"' in future.text  # as typed, dd/mm/yyyy
    wrong = register_form(browser, document_date="31/02/2013")
    assert wrong.status_code == 422
    assert re.search(r'id="document_date-error">[^<]*dạng dd/mm/yyyy<', wrong.text)
    assert browser.get("/console/documents").text.count("data-document-id=") == 0  # nothing half-written


def test_register_needs_the_clerk_role(app: FastAPI) -> None:
    browser = sign_in(app, "specialist")
    assert browser.get("/console/documents/new").status_code == 403


def test_action_without_csrf_is_refused_and_applies_nothing(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    document_id = registered_id(register_form(browser))
    refused = browser.post(f"/console/documents/{document_id}/actions", data={"action": "submit", "version": "1"})
    assert refused.status_code == 403
    assert 'id="state">Đã vào sổ<' in browser.get(f"/console/documents/{document_id}").text  # nothing applied
    other = sign_in(app, "office_leader")
    stolen = page_csrf(browser)  # the clerk's token does not pass for the office leader
    assert other.post(f"/console/documents/{document_id}/actions",
                      data={"action": "submit", "csrf_token": stolen}).status_code == 403


def test_submit_then_stale_page_is_412(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    document_id = registered_id(register_form(browser))
    page = browser.get(f"/console/documents/{document_id}").text
    csrf = csrf_of(page)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    done = browser.post(f"/console/documents/{document_id}/actions",
                        data={"action": "submit", "version": version, "csrf_token": csrf})
    assert done.status_code == 303
    leader = sign_in(app, "office_leader")
    assert f'data-document-id="{document_id}"' in leader.get("/console/").text
    assert f'data-document-id="{document_id}"' not in browser.get("/console/").text
    # the clerk's old page sends the old version: refused, nothing applied twice
    again = leader.post(f"/console/documents/{document_id}/actions",
                        data={"action": "return", "comment": "thiếu phụ lục", "version": version,
                              "csrf_token": page_csrf(leader)})
    assert again.status_code == 412
    assert "người khác vừa thay đổi văn bản này" in again.text


def test_action_errors_are_shown_on_its_form(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    document_id = registered_id(register_form(browser))
    csrf = page_csrf(browser)
    browser.post(f"/console/documents/{document_id}/actions", data={"action": "submit", "csrf_token": csrf})
    leader = sign_in(app, "office_leader")
    answer = leader.post(f"/console/documents/{document_id}/actions",
                         data={"action": "return", "comment": "", "csrf_token": page_csrf(leader)})
    assert answer.status_code == 422
    assert '<details id="action-return" open>' in answer.text
    assert 'id="comment-error"' in answer.text


def test_confidential_document_is_a_404_page_for_an_unassigned_unit(app: FastAPI) -> None:
    clerk = sign_in(app, "secret_clerk")
    document_id = registered_id(register_form(clerk, register_code=SECRET_REGISTER, confidentiality="confidential",
                                              symbol="12/MT-BQP"))
    outsider = sign_in(app, "unit_leader_ttd")
    hidden = outsider.get(f"/console/documents/{document_id}")
    missing = outsider.get("/console/documents/999999")
    assert hidden.status_code == missing.status_code == 404
    assert "text/html" in hidden.headers["content-type"]
    # the same page as for a document that does not exist, but for the id
    assert re.sub(rf"(?<![\w-]){document_id}\b", "N", main_of(hidden.text)) == \
        re.sub(r"(?<![\w-])999999\b", "N", main_of(missing.text))
    assert outsider.get(f"/console/documents/{document_id}/slip").status_code == 404
    assert "12/MT-BQP" not in outsider.get("/console/documents?q=12/MT").text


def test_pages_say_what_they_may_load(app: FastAPI) -> None:
    browser = sign_in(app, "clerk")
    answer = browser.get("/console/")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-store"
    assert "http://" not in answer.text.replace("http://testserver", "") and "https://" not in answer.text


@pytest.mark.parametrize("path", ["/console/documents/abc", "/console/documents/0"])
def test_bad_ids_are_404_pages(app: FastAPI, path: str) -> None:
    browser = sign_in(app, "clerk")
    answer = browser.get(path)
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]


def test_unknown_console_addresses_are_404_pages(app: FastAPI) -> None:
    browser = console_client(app)
    answer = browser.get("/console/no-such-page")
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert "không có gì ở địa chỉ này" in answer.text
    assert browser.get("/console/static/console.css").status_code == 200
    assert browser.get("/console/static/htmx.min.js").headers["content-type"].startswith(("application/javascript", "text/javascript"))


def act(browser: TestClient, document_id: int, **fields: str):  # noqa: ANN201
    """Send one action's form as the document page has it (its CSRF token and the version shown)."""
    page = browser.get(f"/console/documents/{document_id}").text
    assert f'id="action-{fields["action"]}"' in page, f"{fields['action']} is not offered"
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return browser.post(f"/console/documents/{document_id}/actions",
                        data={**fields, "version": version, "csrf_token": csrf_of(page)})


def unit_row(page: str, code: str) -> int:
    """The row index of a unit in the direction form."""
    return int(re.search(rf'name="assignments\.(\d+)\.unit_code" value="{code}"', page).group(1))


def test_every_kind_of_step_through_the_forms(app: FastAPI, client: TestClient, as_user) -> None:
    clerk = sign_in(app, "clerk")
    document_id = registered_id(register_form(clerk))
    assert act(clerk, document_id, action="submit").status_code == 303
    office = sign_in(app, "office_leader")
    page = office.get(f"/console/documents/{document_id}").text
    vp, ttd = unit_row(page, "VP"), unit_row(page, "TTĐ")
    done = act(office, document_id, action="direct", comment="Văn phòng chủ trì",
               **{f"assignments.{vp}.unit_code": "VP", f"assignments.{vp}.role": "lead",
                  f"assignments.{vp}.due_date": "30/12/2099",
                  f"assignments.{ttd}.unit_code": "TTĐ", f"assignments.{ttd}.role": "inform"})
    assert done.status_code == 303, done.text
    informed = sign_in(app, "unit_leader_ttd")
    assert act(informed, document_id, action="acknowledge").status_code == 303
    unit_leader = sign_in(app, "unit_leader_vp")
    assert act(unit_leader, document_id, action="assign", assignee_username="specialist",
               due_in_working_days="3").status_code == 303
    specialist = sign_in(app, "specialist")
    assert act(specialist, document_id, action="report", comment="Đang dự thảo").status_code == 303
    leader = sign_in(app, "leader")
    assert act(leader, document_id, action="extend", comment="Chờ số liệu", due_date="15/01/2100").status_code == 303
    assert act(specialist, document_id, action="complete", comment="Đã trình dự thảo").status_code == 303
    assert act(clerk, document_id, action="archive", case_file_code="HS-2013-01").status_code == 303

    detail = client.get(f"/api/v1/incoming-documents/{document_id}", headers=as_user("clerk")).json()
    events = client.get(f"/api/v1/incoming-documents/{document_id}/events", headers=as_user("clerk")).json()
    assert detail["state"] == "archived" and detail["due_date"] == "2100-01-15"
    assert [e["action"] for e in events] == ["register", "submit", "direct", "acknowledge", "assign", "report",
                                             "extend", "complete", "archive"]
    named = {a["unit_code"]: (a["role"], a["due_date"]) for a in events[2]["data"]["assignments"]}
    assert named == {"VP": ("lead", "2099-12-30"), "TTĐ": ("inform", None)}  # the date typed dd/mm/yyyy
    assert events[-1]["data"]["case_file_code"] == "HS-2013-01"

    recalled = registered_id(register_form(clerk, symbol="77/CV-UBND"))
    assert act(clerk, recalled, action="recall", comment="Cơ quan gửi thu hồi").status_code == 303
    assert client.get(f"/api/v1/incoming-documents/{recalled}", headers=as_user("clerk")).json()["state"] == "recalled"


def test_a_direction_without_a_lead_is_refused_on_its_form(app: FastAPI) -> None:
    clerk = sign_in(app, "clerk")
    document_id = registered_id(register_form(clerk))
    act(clerk, document_id, action="submit")
    office = sign_in(app, "office_leader")
    page = office.get(f"/console/documents/{document_id}").text
    row = unit_row(page, "VPB")
    answer = act(office, document_id, action="direct",
                 **{f"assignments.{row}.unit_code": "VPB", f"assignments.{row}.role": "cooperate"})
    assert answer.status_code == 422
    assert '<details id="action-direct" open>' in answer.text
    assert "chủ trì" in answer.text  # the rule's own message (app.workflow.requirements), in Vietnamese
    nothing = act(office, document_id, action="direct")  # no unit at all
    assert nothing.status_code == 422


@pytest.mark.parametrize(("username", "offered"), [
    ("clerk", {"/console/documents/new", "/console/inbox", "/console/register-book"}),
    ("leader", {"/console/register-book", "/console/audit"}),
    ("auditor", {"/console/register-book", "/console/audit"}),
    ("specialist", set()),
])
def test_the_menu_offers_the_screens_the_role_checks_let_through(app: FastAPI, username: str, offered: set) -> None:
    browser = sign_in(app, username)
    header = browser.get("/console/").text.split("<main", 1)[0]
    screens = {"/console/documents/new", "/console/inbox", "/console/register-book", "/console/audit"}
    shown = {path for path in screens if f'href="{path}"' in header}
    assert shown == offered
    for path in screens:  # and each one offered opens, each one not offered is a 403 page
        assert browser.get(path).status_code == (200 if path in offered else 403), path


def test_the_forms_offer_whom_the_rules_accept(app: FastAPI, engine) -> None:
    """The propose form lists the active leaders; the assign form the members of the unit whose
    part awaits the unit leader (the assign rule's own list), nobody of another unit."""
    clerk = sign_in(app, "clerk")
    document_id = registered_id(register_form(clerk))
    act(clerk, document_id, action="submit")
    office = sign_in(app, "office_leader")
    page = office.get(f"/console/documents/{document_id}").text
    propose = page[page.index('id="action-propose"'):page.index("</details>", page.index('id="action-propose"'))]
    with make_sessionmaker(engine)() as session:  # every user, whichever tests made them
        users = list_users(session=session)
        leaders = {u.username for u in users if u.is_active and "leader" in u.roles}
        members_of_vp = {u.username for u in users if u.is_active and u.unit is not None and u.unit.code == "VP"}
    assert "leader" in leaders
    assert set(re.findall(r'<option value="(\w+)"', propose)) == leaders
    vp = unit_row(page, "VP")
    act(office, document_id, action="direct", **{f"assignments.{vp}.unit_code": "VP", f"assignments.{vp}.role": "lead"})
    unit_leader = sign_in(app, "unit_leader_vp")
    page = unit_leader.get(f"/console/documents/{document_id}").text
    assign = page[page.index('id="action-assign"'):page.index("</details>", page.index('id="action-assign"'))]
    offered = set(re.findall(r'<option value="(\w+)"', assign))
    assert offered == members_of_vp and {"specialist", "unit_leader_vp"} <= offered
    assert not offered & {"unit_leader_ttd", "leader", "hub"}  # other units, no unit


def test_documents_search_ignores_diacritics_and_pages(app: FastAPI) -> None:
    clerk = sign_in(app, "clerk")
    first = registered_id(register_form(clerk))
    for number in range(2, 28):  # 27 documents: two pages of 25
        registered_id(register_form(clerk, symbol=f"{number}/TB-UBND", summary=f"Thông báo số {number} về Đà Nẵng"))
    found = clerk.get("/console/documents", params={"q": "bao cao so ket"}).text
    assert re.findall(r'data-document-id="(\d+)"', found) == [str(first)]
    da_nang = clerk.get("/console/documents", params={"q": "da nang"}).text
    assert len(re.findall(r'data-document-id="', da_nang)) == 25
    assert 'rel="next"' in da_nang and "1–25 / 26" in da_nang
    second = clerk.get("/console/documents", params={"q": "da nang", "offset": "25"}).text
    assert len(re.findall(r'data-document-id="', second)) == 1 and 'rel="prev"' in second
    bad = clerk.get("/console/documents", params={"received_from": "31/02/2013"})
    assert bad.status_code == 422 and 'id="received_from-error"' in bad.text
