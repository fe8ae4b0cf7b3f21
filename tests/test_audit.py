"""Audit figures against hand-computed expectations on a small, fully timed fixture.

The fixture sits around the 2026 Hùng Kings holiday: Friday 24 April, the weekend, Monday 27
(observed holiday), Tuesday 28, Wednesday 29, Thursday 30 April and Friday 1 May (holidays),
the weekend, Monday 4 May. All times are Asia/Ho_Chi_Minh. Every expected number below was worked
out by hand from these times (the arithmetic is in the comments), not by running the code.
"""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from app.db import make_sessionmaker
from app.schemas.documents import DocumentCreate
from app.schemas.workflow import ActionRequest
from app.services import organisation as org
from app.services.documents import register_document
from app.services.workflow import apply_action

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = ZoneInfo("UTC")
ACTION = TypeAdapter(ActionRequest)
PERIOD = {"from": "2026-04-01", "to": "2026-05-31"}


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HCM)


@pytest.fixture
def fixture_documents(engine, staff):
    """Twelve documents; returns their ids by name."""
    ids = {}
    with make_sessionmaker(engine)() as session:
        user = {name: org.get_user(session=session, username=name) for name in
                ("clerk", "leader", "unit_leader_vp", "unit_leader_ttd", "specialist")}

        def register(name, received, registered, urgency="normal", due=None):
            body = DocumentCreate(symbol=f"{len(ids) + 1}/BC-AUD", document_date="2026-04-20", issuer="Sở Nội vụ",
                                  summary=f"Văn bản {name}", urgency=urgency, due_date=due, received_at=received)
            doc = register_document(session=session, actor=user["clerk"], data=body, now=registered.astimezone(UTC),
                                    tz=HCM).document
            ids[name] = doc.id
            return doc.id

        def act(doc_id, username, at, **body):
            apply_action(session=session, user=user[username], document_id=doc_id,
                         request=ACTION.validate_python(body), now=at.astimezone(UTC), tz=HCM)

        # D1: normal, due 28/4, resolved on the due date.
        d1 = register("D1", t(4, 24, 9), t(4, 24, 10), due="2026-04-28")
        act(d1, "clerk", t(4, 24, 11), action="submit")
        act(d1, "leader", t(4, 24, 15), action="direct", assignments=[{"unit_code": "VP", "role": "lead"}])
        act(d1, "unit_leader_vp", t(4, 28, 9), action="assign", assignee_username="specialist")
        act(d1, "specialist", t(4, 28, 15), action="complete", comment="Xong")
        # D2: urgent, arrived Friday 16:00, registered only on Tuesday 08:00; TTĐ leads, never finishes;
        # on 5 May its deadline is extended from 29/4 to 15/5.
        d2 = register("D2", t(4, 24, 16), t(4, 28, 8), urgency="urgent", due="2026-04-29")
        act(d2, "clerk", t(4, 28, 9), action="submit")
        act(d2, "leader", t(4, 28, 10), action="direct", assignments=[{"unit_code": "TTĐ", "role": "lead"}])
        act(d2, "leader", t(5, 5, 9), action="extend", due_date="2026-05-15", comment="Gia hạn")
        # D3: normal, arrived Thursday, registered Tuesday; due 30/4, resolved late on 4 May.
        d3 = register("D3", t(4, 23, 10), t(4, 28, 8, 30), due="2026-04-30")
        act(d3, "clerk", t(4, 28, 9), action="submit")
        act(d3, "leader", t(4, 29, 9), action="direct", assignments=[{"unit_code": "VP", "role": "lead"}])
        act(d3, "unit_leader_vp", t(4, 29, 10), action="assign", assignee_username="specialist")
        act(d3, "specialist", t(5, 4, 10), action="complete", comment="Xong muộn")
        # D4: recalled by the sender an hour after it was submitted.
        d4 = register("D4", t(5, 4, 8), t(5, 4, 8, 10))
        act(d4, "clerk", t(5, 4, 9), action="submit")
        act(d4, "clerk", t(5, 4, 10), action="recall", comment="Thu hồi")
        # D5–D12: registered five minutes after arrival on Tuesday 5 May, never submitted.
        for i in range(8):
            register(f"D{5 + i}", t(5, 5, 8, i), t(5, 5, 8, i + 5))
        session.commit()
    return ids


def get(client, as_user, path, **params):
    response = client.get(f"/api/v1/audit/{path}", params={**PERIOD, **params}, headers=as_user("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def test_processing_times_by_urgency(client, as_user, fixture_documents):
    rows = {r["key"]: r for r in get(client, as_user, "processing-times", group_by="urgency")["rows"]}
    # normal: D1, D3, D4, D5–D12 = 11 documents; resolved D1 (24/4 09:00 → 28/4 15:00 = 102 h) and
    # D3 (23/4 10:00 → 4/5 10:00 = 264 h). D1 on time, D3 late.
    # Working days: D1 = Fri 15/24 + Tue 15/24 = 1.25; D3 = Thu 14/24 + Fri 1 + Tue 1 + Wed 1 + Mon 10/24 = 4.0.
    assert rows["normal"] == {
        "key": "normal", "documents": 11, "resolved": 2, "on_time": 1, "overdue": 1, "without_deadline": 0,
        "on_time_rate": 0.5,
        "median_hours": 183.0, "p90_hours": 247.8, "median_working_days": round(2.625, 2),
    }
    # urgent: D2, open, past its deadline (29/4, extended only later to 15/5 — today it is 15/5, still past).
    assert rows["urgent"] == {
        "key": "urgent", "documents": 1, "resolved": 0, "on_time": 0, "overdue": 1, "without_deadline": 0,
        "on_time_rate": None,
        "median_hours": None, "p90_hours": None, "median_working_days": None,
    }


def test_processing_times_by_unit_and_month(client, as_user, fixture_documents):
    by_unit = {r["key"]: (r["documents"], r["resolved"], r["overdue"])
               for r in get(client, as_user, "processing-times", group_by="unit")["rows"]}
    assert by_unit == {"VP": (2, 2, 1), "TTĐ": (1, 0, 1), "(chưa giao)": (9, 0, 0)}
    by_month = {r["key"]: r["documents"] for r in get(client, as_user, "processing-times", group_by="month")["rows"]}
    assert by_month == {"2026-04": 3, "2026-05": 9}


def test_stage_durations(client, as_user, fixture_documents):
    rows = {r["stage"]: r for r in get(client, as_user, "stage-durations")["rows"]}
    # registered stays: D1 1 h, D2 1 h, D3 0.5 h, D4 50 min → median (0.8333+1)/2, p90 1, mean 3.3333/4.
    assert (rows["registered"]["count"], rows["registered"]["median_hours"], rows["registered"]["p90_hours"],
            rows["registered"]["mean_hours"]) == (4, 0.92, 1.0, 0.83)
    # office review: D1 4 h, D2 1 h, D3 24 h, D4 1 h (until recalled) → sorted 1, 1, 4, 24.
    assert (rows["office_review"]["count"], rows["office_review"]["median_hours"], rows["office_review"]["p90_hours"],
            rows["office_review"]["mean_hours"]) == (4, 2.5, 18.0, 7.5)
    # in progress (ended): D1 24/4 15:00 → 28/4 15:00 = 96 h (1.0 working day);
    # D3 29/4 09:00 → 4/5 10:00 = 121 h (Wed 15/24 + Mon 10/24 = 1.0417 working days).
    assert rows["in_progress"] == {"stage": "in_progress", "count": 2, "median_hours": 108.5, "p90_hours": 118.5,
                                   "mean_hours": 108.5, "median_working_days": 1.02}
    assert "resolved" not in rows  # no resolved stay has ended


def test_overdue_as_of_dates(client, as_user, fixture_documents):
    d2 = fixture_documents["D2"]
    on_4_may = get(client, as_user, "overdue", as_of="2026-05-04")["rows"]
    # D2 open, its deadline then 29/4 (the extension came on 5/5); after 29/4 the first working day is 4/5.
    assert [(r["kind"], r["document_id"], r["unit_code"], r["due_date"], r["working_days_overdue"]) for r in on_4_may] == [
        ("assignment", d2, "TTĐ", "2026-04-29", 1), ("document", d2, "TTĐ", "2026-04-29", 1)]
    # On 30/4 (a holiday) D2 is overdue by 0 working days; D3's deadline is that very day: not yet overdue.
    on_30_april = get(client, as_user, "overdue", as_of="2026-04-30")["rows"]
    assert {(r["document_id"], r["working_days_overdue"]) for r in on_30_april} == {(d2, 0)}
    # Today (November): D2's document deadline is 15/5 now, its assignment's still 29/4.
    today = {(r["kind"], r["due_date"]) for r in get(client, as_user, "overdue")["rows"]}
    assert today == {("document", "2026-05-15"), ("assignment", "2026-04-29")}


def test_compliance(client, as_user, fixture_documents):
    rows = {(r["measure"], r["urgency_class"]): (r["eligible"], r["compliant"])
            for r in get(client, as_user, "compliance")["rows"]}
    # Registration, normal: 11 registered; D3 (Thu → Tue = 2 working days later) was late.
    # Registration, urgent: D2 took Fri 16:00–24:00 + Tue 00:00–08:00 = 16 working hours > 4.
    # Presentation, normal: D1, D3, D4 submitted within the hour; D5–D12 never submitted and their
    # window has passed: 11 eligible, 3 compliant. Urgent: D2 submitted 1 hour after registration.
    assert rows == {("registration", "normal"): (11, 10), ("registration", "urgent"): (1, 0),
                    ("presentation", "normal"): (11, 3), ("presentation", "urgent"): (1, 1)}


def test_document_as_of_replays_the_events(client, as_user, fixture_documents):
    d1 = fixture_documents["D1"]
    response = client.get(f"/api/v1/audit/documents/{d1}", params={"as_of": "2026-04-25T00:00:00+07:00"},
                          headers=as_user("auditor"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["events_applied"], body["due_date"]) == ("in_progress", 3, "2026-04-28")
    assert [(a["unit_code"], a["state"], a["assignee"]) for a in body["assignments"]] == [("VP", "pending", None)]
    later = client.get(f"/api/v1/audit/documents/{d1}", params={"as_of": "2026-04-28T16:00:00+07:00"},
                       headers=as_user("auditor")).json()
    assert later["state"] == "resolved"
    assert [(a["state"], a["assignee"]) for a in later["assignments"]] == [("done", "specialist")]
    d2 = fixture_documents["D2"]
    before_extension = client.get(f"/api/v1/audit/documents/{d2}", params={"as_of": "2026-05-04T12:00:00+07:00"},
                                  headers=as_user("auditor")).json()
    assert before_extension["due_date"] == "2026-04-29"


def test_csv_has_bom_and_quotes(client, as_user, fixture_documents, engine):
    from app.models import IncomingDocument

    with make_sessionmaker(engine)() as session:
        doc = session.get(IncomingDocument, fixture_documents["D1"])
        doc.issuer = 'Sở "Nội vụ", tỉnh Bình Dương\nPhòng Văn thư'
        session.commit()
    response = client.get("/api/v1/audit/processing-times", params={**PERIOD, "group_by": "issuer", "format": "csv"},
                          headers=as_user("auditor"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["key", "documents", "resolved"]
    by_key = {r[0]: r[1] for r in rows[1:]}
    assert by_key == {'Sở "Nội vụ", tỉnh Bình Dương\nPhòng Văn thư': "1", "Sở Nội vụ": "11"}
    assert b'"S\xe1\xbb\x9f ""N\xe1\xbb\x99i v\xe1\xbb\xa5"", t\xe1\xbb\x89nh' in response.content


@pytest.mark.parametrize("username,status", [("auditor", 200), ("leader", 200), ("admin", 200),
                                             ("specialist", 403), ("clerk", 403), ("unit_leader_vp", 403)])
def test_who_may_audit(client, as_user, username, status):
    for path in ("processing-times", "stage-durations", "overdue", "compliance"):
        assert client.get(f"/api/v1/audit/{path}", headers=as_user(username)).status_code == status


def test_audit_is_read_only(client, as_user):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, "/api/v1/audit/processing-times", headers=as_user("auditor"))
        assert response.status_code == 405


def test_register_book_csv_and_xlsx(client, as_user, fixture_documents):
    from openpyxl import load_workbook

    params = {**PERIOD, "format": "csv"}
    response = client.get("/api/v1/audit/register-book", params=params, headers=as_user("clerk"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản",
                       "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"]
    assert len(rows) == 13
    # Lines follow the arrival numbers, given in registration order: D1 (registered 24/4 10:00) took 1.
    d1 = rows[1]
    assert d1[:4] == ["2026-04-24", "1", "Sở Nội vụ", "1/BC-AUD"]
    assert d1[5] == "Báo cáo: Văn bản D1" and d1[6] == "Văn phòng" and d1[7] == "2026-04-24"  # the unit's name
    recalled = next(r for r in rows if r[5].endswith("D4"))
    assert recalled[6] == "" and "Đã thu hồi" in recalled[9]

    xlsx = client.get("/api/v1/audit/register-book", params=PERIOD, headers=as_user("auditor"))
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A2"].value == "Ngày đến" and sheet["B3"].value == 1
    assert sheet["F3"].value == "Báo cáo: Văn bản D1" and sheet["F3"].alignment.wrap_text
    assert sheet["A3"].value.date().isoformat() == "2026-04-24" and sheet["A3"].number_format == "DD/MM/YYYY"
    assert sheet.freeze_panes == "A3"
    # Print setup: A4 landscape, the header row (row 2) on every page, one page wide and any number high.
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)  # 9
    assert sheet.print_title_rows == "$2:$2" and sheet.print_title_cols is None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is 1 when absent (ECMA-376 CT_PageSetup's default), as XlsxWriter writes it; 0 pages high: any.
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.max_row == 2 + 12
    assert client.get("/api/v1/audit/register-book", headers=as_user("specialist")).status_code == 403


def test_register_book_cells_for_every_kind_of_line(client, as_user):
    """The cells the book composes, written out by hand: receiving units by name, lead first, then
    cooperating, then informed (by code within a role), an unknown type as "Công văn", the
    clerk's notes with the case file, a returned document's note. PostgreSQL composes them in
    SQL and SQLite in Python; both must print these exact lines."""
    from tests.conftest import document_body
    from tests.workflow_helpers import DOCS, act

    def register(**overrides):
        response = client.post(DOCS, json=document_body(**overrides), headers=as_user("clerk"))
        assert response.status_code == 201, response.text
        return response.json()

    direction_day_before = datetime.now(HCM).date().isoformat()
    ISSUER = "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương"  # noqa: N806
    directed = register(symbol="7/XYZ-ABC", notes='Bản chụp, "gấp"\nxem lại',
                        summary='V/v "Nóng", cần   xử lý; =1+1 ngay')
    doc_id = directed["id"]
    for username, action, extra in [
        ("clerk", "submit", {}),
        ("office_leader", "propose", {}),
        ("leader", "direct", {"assignments": [{"unit_code": "VPB", "role": "inform"},
                                               {"unit_code": "TTĐ", "role": "cooperate"},
                                               {"unit_code": "VP", "role": "lead"},
                                               {"unit_code": "LDB", "role": "cooperate"}]}),
        ("unit_leader_vp", "assign", {}),
        ("specialist", "complete", {}),
        ("clerk", "archive", {"case_file_code": "HS-01"}),
    ]:
        assert act(client, as_user, doc_id, username, action, **extra).status_code == 200
    # The direction was given today: the local day before and after the actions (the same day
    # unless the test ran across midnight).
    today = max(direction_day_before, datetime.now(HCM).date().isoformat())
    if today != direction_day_before:
        pytest.skip("ran across local midnight: the direction's day is ambiguous")
    returned = register(symbol="8/TB-ABC", notes='=HYPERLINK("http://x")')
    assert act(client, as_user, returned["id"], "clerk", "submit").status_code == 200
    assert act(client, as_user, returned["id"], "office_leader", "return").status_code == 200

    response = client.get("/api/v1/audit/register-book", params={"format": "csv", "from": "2013-08-01"},
                          headers=as_user("auditor"))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert '"Bản chụp, ""gấp""\nxem lại; Hồ sơ HS-01"\r\n' in text  # quoted, quotes doubled, CRLF
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    by_symbol = {row[3]: row for row in rows}
    assert by_symbol["7/XYZ-ABC"] == [
        "2013-08-15", str(directed["arrival_number"]), ISSUER, "7/XYZ-ABC", "2013-08-12",
        f"Công văn: {directed['summary']}", "Văn phòng; Lãnh đạo Bộ; Trung tâm Thông tin; Văn phòng Ban", today, "", 'Bản chụp, "gấp"\nxem lại; Hồ sơ HS-01',
    ]
    # The line's bytes are exactly what Python's csv module writes for these cells (PostgreSQL
    # writes the book's CSV itself).
    expected_line = io.StringIO()
    csv.writer(expected_line, lineterminator="\r\n").writerow(by_symbol["7/XYZ-ABC"])
    csv.writer(expected_line, lineterminator="\r\n").writerow(by_symbol["8/TB-ABC"])
    assert expected_line.getvalue() in text
    # In the XLSX the same notes are plain text (a string cell, never a formula) with no apostrophe.
    from openpyxl import load_workbook

    xlsx = client.get("/api/v1/audit/register-book", params={"from": "2013-08-01"}, headers=as_user("auditor"))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    receivers = next(row[6].value for row in sheet.iter_rows(min_row=3) if row[3].value == "7/XYZ-ABC")
    assert receivers == "Văn phòng; Lãnh đạo Bộ; Trung tâm Thông tin; Văn phòng Ban"  # names, not codes
    notes = next(row[9] for row in sheet.iter_rows(min_row=3) if row[3].value == "8/TB-ABC")
    assert notes.data_type == "s" and notes.value == '=HYPERLINK("http://x"); Trả lại văn thư'
    assert by_symbol["8/TB-ABC"] == [
        "2013-08-15", str(returned["arrival_number"]), ISSUER, "8/TB-ABC", "2013-08-12",
        f"Thông báo: {returned['summary']}", "", "", "", "'=HYPERLINK(\"http://x\"); Trả lại văn thư",
    ]


@pytest.mark.parametrize("path", ["processing-times", "stage-durations", "overdue", "compliance", "register-book"])
def test_each_csv_is_an_operation_of_its_own_and_the_old_format_parameter_still_answers_it(
        client, as_user, fixture_documents, path):
    """``/audit/X.csv`` is the CSV operation a generated client calls; ``/audit/X?format=csv``, the
    first form, is kept (out of the OpenAPI document) and gives the same bytes."""
    headers = as_user("auditor")
    own = client.get(f"/api/v1/audit/{path}.csv", params=PERIOD, headers=headers)
    old = client.get(f"/api/v1/audit/{path}", params={**PERIOD, "format": "csv"}, headers=headers)
    assert own.status_code == old.status_code == 200
    assert own.headers["content-type"] == old.headers["content-type"] == "text/csv; charset=utf-8"
    assert own.headers["content-disposition"] == old.headers["content-disposition"]
    assert own.content == old.content and own.content.startswith("\ufeff".encode())
    assert len(list(csv.reader(io.StringIO(own.content.decode("utf-8-sig"))))) > 1
    assert client.get(f"/api/v1/audit/{path}.csv", headers=as_user("specialist")).status_code == 403


def test_the_register_book_xlsx_operation_answers_the_workbook(client, as_user, fixture_documents):
    from openpyxl import load_workbook

    own = client.get("/api/v1/audit/register-book.xlsx", params=PERIOD, headers=as_user("clerk"))
    old = client.get("/api/v1/audit/register-book", params=PERIOD, headers=as_user("clerk"))
    assert own.status_code == old.status_code == 200
    assert own.headers["content-type"] == old.headers["content-type"].split(";")[0] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert own.headers["content-disposition"].endswith('.xlsx"')
    assert load_workbook(io.BytesIO(own.content)).active.max_row == 2 + 12


def test_security_events_csv_operation(client, as_user):
    from tests.conftest import PASSWORD

    assert client.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD}).status_code == 200
    response = client.get("/api/v1/audit/security-events.csv", params={"kind": "login_succeeded"},
                          headers=as_user("auditor"))
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["id", "at", "kind", "username", "actor", "client", "data"]
    assert rows[1:] and {r[2] for r in rows[1:]} == {"login_succeeded"}
    reversed_period = client.get("/api/v1/audit/security-events.csv", params={"from": "2026-02-02", "to": "2026-02-01"},
                                 headers=as_user("auditor"))
    assert reversed_period.status_code == 422 and reversed_period.json()["code"] == "period.reversed"
