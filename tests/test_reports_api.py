"""Reports and appendices over real HTTP: import, totals, queries, comparison, access, garbage."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Appendix, ProjectRecord
from tests.conftest import SECRET_REGISTER, document_body
from tests.reports_helpers import as_csv, as_xlsx, replace_line, sample

API = "/api/v1"
TY = 10**9
ISSUER = "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương"


def new_report(client, headers, **overrides: Any) -> dict[str, Any]:
    body = {"symbol": "08/BC-BCĐ", "title": "Báo cáo sơ kết 02 năm thực hiện Kế hoạch ứng dụng CNTT",
            "issuer": ISSUER, "report_date": "2013-08-12", **overrides}
    response = client.post(f"{API}/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def upload(client, headers, report_id: int, content: bytes | str, *, filename: str = "phu-luc-I.txt",
           number: str = "I", **form: Any):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"{API}/reports/{report_id}/appendices/import",
        files={"file": (filename, data, "application/octet-stream")},
        data={"number": number, **form},
        headers=headers,
    )


def imported(client, headers, report_id: int, content: bytes | str, **kwargs: Any) -> dict[str, Any]:
    response = upload(client, headers, report_id, content, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def clerk(as_user):
    return as_user("clerk")


@pytest.fixture
def seed_report(client, clerk):
    """The seed report with Phụ lục I imported from the seed text."""
    report = new_report(client, clerk)
    result = imported(client, clerk, report["id"], sample("phu-luc-I"))
    return {**report, "import": result}


def test_seed_phu_luc_I_imports_55_projects_in_7_groups_with_exact_totals(client, clerk, seed_report):
    result = seed_report["import"]
    assert result["kind"] == "projects" and result["rows_imported"] == 55
    groups = result["groups"]
    assert [g["rows"] for g in groups] == [9, 6, 14, 8, 1, 5, 12]
    assert [g["declared_total_vnd"] for g in groups] == [
        29_800_000_000, 38_300_000_000, 121_350_000_000, 28_734_000_000, None, 19_287_000_000, 5_510_000_000]
    assert [g["computed_total_vnd"] for g in groups] == [
        29_800_000_000, 38_300_000_000, 121_350_000_000, 28_734_000_000, 3_000_000_000, 19_287_000_000,
        5_510_000_000]
    assert [g["matches"] for g in groups] == [True, True, True, True, None, True, True]
    assert result["warnings"] == []

    report = client.get(f"{API}/reports/{seed_report['id']}", headers=as_reader(client)).json()
    [appendix] = report["appendices"]
    assert (appendix["number"], appendix["kind"], appendix["rows_imported"]) == ("I", "projects", 55)
    detail = client.get(f"{API}/reports/{seed_report['id']}/appendices/{appendix['id']}", headers=clerk).json()
    assert detail["money_unit"] == "triệu đồng, tỷ đồng" and len(detail["sha256"]) == 64
    stopped = detail["groups"][4]
    assert [(r["code"], r["status"], r["budget_vnd"]) for r in stopped["rows"]] == [("III.1", "stopped", 3 * TY)]
    first = detail["groups"][0]["rows"][0]
    assert first["row_type"] == "project" and first["line"] == 10
    assert first["source_text"] == "I.1\tNâng cấp CSDL CBCC\tSở Nội vụ\t1\t\t\t\t\t\tChưa thực hiện\t"
    small = next(r for g in detail["groups"] for r in g["rows"] if r["code"] == "I.11")
    assert small["budget_vnd"] == 40_000_000 and small["budget_basis"] == "approved"  # 0,04 tỷ


def as_reader(client):
    from tests.conftest import login

    return login(client, "auditor")


def test_phu_luc_II_is_a_generic_table_of_31_agencies(client, clerk, seed_report):
    result = imported(client, clerk, seed_report["id"], sample("phu-luc-II"), filename="phu-luc-II.txt", number="II")
    assert result["kind"] == "table" and result["rows_imported"] == 31
    assert [(g["title"], g["rows"]) for g in result["groups"]] == [
        ("I. Cơ quan chuyên môn trực thuộc UBND tỉnh", 18), ("II. UBND cấp huyện", 7), ("III. Cơ quan khác", 6)]
    detail = client.get(f"{API}/reports/{seed_report['id']}/appendices/{result['appendix_id']}", headers=clerk).json()
    assert detail["title"] == "TÌNH HÌNH TRIỂN KHAI PHẦN MỀM QUẢN LÝ VĂN BẢN"
    assert detail["headers"] == ["STT", "Tên cơ quan", "Tình hình Triển khai QLVB"]
    twelfth = detail["groups"][0]["rows"][11]
    assert twelfth["row_type"] == "table"
    assert twelfth["cells"] == ["12", "Sở Thông tin và Truyền thông", "Phần mềm Bioportal của Công ty Lạc Việt"]
    # A table is not a project list: /projects does not show its rows.
    assert client.get(f"{API}/projects", params={"report_id": seed_report["id"]}, headers=clerk).json()["total"] == 55


def test_the_indicator_table_is_imported_as_indicators(client, clerk, seed_report):
    result = imported(client, clerk, seed_report["id"], sample("chi-tieu"), filename="chi-tieu.txt", number="CT")
    assert result["kind"] == "indicators" and result["rows_imported"] == 13
    detail = client.get(f"{API}/reports/{seed_report['id']}/appendices/{result['appendix_id']}", headers=clerk).json()
    row = detail["groups"][0]["rows"][0]
    assert (row["row_type"], row["baseline_value"], row["current_value"], row["target_value"], row["unit"],
            row["target_year"]) == ("indicator", "59", "83", "100", "%", 2015)


def _records(client, headers, report_id):
    items = client.get(f"{API}/projects", params={"report_id": report_id, "limit": 500}, headers=headers).json()
    keep = ("code", "name", "owner", "budget_vnd", "budget_basis", "planned_years", "status", "status_text",
            "notes", "group", "appendix_number")
    return [{k: item[k] for k in keep} for item in items["items"]]


@pytest.mark.parametrize("form", ["csv", "csv;bom", "xlsx"])
def test_the_same_appendix_as_csv_or_xlsx_gives_the_same_records(client, clerk, seed_report, form):
    text = sample("phu-luc-I")
    content, filename = {
        "csv": (as_csv(text), "phu-luc-I.csv"),
        "csv;bom": (as_csv(text, delimiter=";", bom=True), "phu-luc-I.csv"),
        "xlsx": (as_xlsx(text), "phu-luc-I.xlsx"),
    }[form]
    other = new_report(client, clerk, report_date="2013-08-13")
    result = imported(client, clerk, other["id"], content, filename=filename)
    assert result["groups"] == seed_report["import"]["groups"] and result["warnings"] == []
    assert _records(client, clerk, other["id"]) == _records(client, clerk, seed_report["id"])


def test_a_declared_total_off_by_one_row_is_imported_with_the_mismatch_reported(client, clerk):
    report = new_report(client, clerk)
    short = replace_line(sample("phu-luc-I"), "II.4\tỨng dụng CNTT tại Sở Nội vụ", None)
    result = imported(client, clerk, report["id"], short)
    assert result["rows_imported"] == 54
    completed = result["groups"][3]
    assert (completed["declared_total_vnd"], completed["computed_total_vnd"], completed["matches"]) == (
        28_734_000_000, 25_966_000_000, False)
    assert [g["matches"] for g in result["groups"]] == [True, True, True, False, None, True, True]
    assert any(w["line"] == 59 and "declares a total of 28.734.000.000 đồng" in w["message"]
               for w in result["warnings"])


def test_status_and_owner_filters_find_the_projects_under_way_of_so_tt_tt(client, clerk, seed_report):
    found = client.get(f"{API}/projects", params={"status": "in_progress", "owner": "so tt"}, headers=clerk).json()
    assert [p["code"] for p in found["items"]] == ["I.5", "I.6", "I.7", "I.8", "I.11", "I.12"]
    assert {p["owner"] for p in found["items"]} == {"Sở TT & TT"}
    assert found["total"] == 6 and found["limit"] == 50 and found["offset"] == 0
    assert client.get(f"{API}/projects", params={"owner": "SỞ TT&TT"}, headers=clerk).json()["total"] == 11
    by_words = client.get(f"{API}/projects", params={"q": "chữ ký số", "status": "preparing"}, headers=clerk)
    assert [p["code"] for p in by_words.json()["items"]] == ["II.6"]
    by_abbreviation = client.get(f"{API}/projects", params={"q": "vhttdl"}, headers=clerk).json()["items"]
    assert [p["code"] for p in by_abbreviation] == ["II.4"]
    page = client.get(f"{API}/projects", params={"limit": 20, "offset": 40}, headers=clerk).json()
    assert page["total"] == 55 and len(page["items"]) == 15
    assert client.get(f"{API}/projects", params={"limit": 501}, headers=clerk).status_code == 422
    assert client.get(f"{API}/projects", params={"status": "done"}, headers=clerk).status_code == 422


def test_summary_gives_budget_and_counts_by_status_and_by_group(client, clerk, seed_report):
    summary = client.get(f"{API}/reports/{seed_report['id']}/summary", headers=clerk).json()
    assert summary["projects"] == 55 and summary["projects_without_budget"] == 0
    assert summary["budget_vnd"] == 29_800_000_000 + 38_300_000_000 + 121_350_000_000 + 28_734_000_000 + \
        3_000_000_000 + 19_287_000_000 + 5_510_000_000
    by_status = {s["status"]: (s["projects"], s["budget_vnd"]) for s in summary["by_status"]}
    assert by_status == {
        "not_started": (9, 29_800_000_000),
        "preparing": (11, 38_300_000_000 + 6_900_000_000 + 800_000_000 + 262_000_000 + 250_000_000 + 80_000_000),
        "in_progress": (23, 121_350_000_000 + 2_517_000_000 + 5_055_000_000 + 187_000_000 + 350_000_000
                        + 173_000_000 + 342_000_000 + 1_100_000_000 + 562_000_000 + 336_000_000),
        "completed": (11, 28_734_000_000 + 4_015_000_000 + 900_000_000 + 968_000_000),
        "stopped": (1, 3_000_000_000),
    }
    assert [(g["projects"], g["matches"]) for g in summary["by_group"]] == [
        (9, True), (6, True), (14, True), (8, True), (1, None), (5, True), (12, True)]


def test_two_reports_of_the_same_issuer_are_compared(client, clerk, seed_report):
    later_text = sample("phu-luc-I")
    later_text = replace_line(later_text, "I.2\tỨng dụng CNTT tại Ban QL KCN",
                              "I.2\tỨng dụng CNTT tại Ban QL KCN Bình Dương giai đoạn 2\tBQL KCN Bình Dương\t3"
                              "\t\t\t\t\t\t"
                              "Đang lập dự án\t")
    later_text = replace_line(later_text, "I.8\tCSDL Đơn, thư", None)
    later_text = replace_line(later_text, "III.1\tXây dựng CSDL Tài chính",
                              "III.1\tXây dựng CSDL Tài chính\tSở Tài chính\t3\t\t\t\t\tNgưng thực hiện\t\n"
                              "III.2\tỨng dụng chữ ký số chuyên dùng\tSở TT & TT\t1,5\t\t\t\t\tĐang thực hiện\t")
    later = new_report(client, clerk, symbol="12/BC-BCĐ", report_date="2014-01-10")
    imported(client, clerk, later["id"], later_text)

    result = client.get(f"{API}/reports/{seed_report['id']}/compare/{later['id']}", headers=clerk).json()
    assert (result["matched"], result["unchanged"]) == (54, 53)
    [change] = result["changed"]
    assert change["before"]["code"] == change["after"]["code"] == "I.2"
    assert (change["before"]["status"], change["after"]["status"]) == ("not_started", "preparing")
    assert change["status_changed"] and change["budget_changed"] and change["budget_change_vnd"] == 500_000_000
    assert [p["code"] for p in result["removed"]] == ["I.8"]
    assert [(p["code"], p["budget_vnd"]) for p in result["added"]] == [("III.2", 1_500_000_000)]

    other_issuer = new_report(client, clerk, issuer="Sở Thông tin và Truyền thông tỉnh Bình Dương")
    refused = client.get(f"{API}/reports/{seed_report['id']}/compare/{other_issuer['id']}", headers=clerk)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "other_id"


def test_a_project_that_moved_group_is_matched_by_name(client, clerk, seed_report):
    moved = replace_line(sample("phu-luc-I"), "II.3\tNâng cấp trang tin",
                         "II.3\tKhông còn dự án này\tSở X\t2\t\t\t\t\t\tĐang lập dự án\t")
    moved = replace_line(moved, "I.14\tỨng dụng CNTT tại Ban Quản lý",
                         "I.14\tỨng dụng CNTT tại Ban Quản lý khu công nghiệp Việt Nam - Singapore\tBan QLKN VSIP\t2,35"
                         "\t\t\t\tĐang thực hiện\t\nI.15\tNâng cấp trang tin điện tử tỉnh thành Cổng Thông tin điện tử"
                         "\tSở TT & TT\t2\t\t\t\tĐang thực hiện\t")
    later = new_report(client, clerk, report_date="2014-01-10")
    imported(client, clerk, later["id"], moved)
    result = client.get(f"{API}/reports/{seed_report['id']}/compare/{later['id']}", headers=clerk).json()
    portal = next(c for c in result["changed"] if c["name"].startswith("Nâng cấp trang tin"))
    assert (portal["matched_by"], portal["before"]["code"], portal["after"]["code"]) == ("name", "II.3", "I.15")
    assert (portal["before"]["status"], portal["after"]["status"]) == ("preparing", "in_progress")


# --- the link to the workflow and who sees what ---------------------------------------------------


def test_a_report_links_to_its_document_and_the_document_lists_it(client, clerk, as_user):
    document = client.post(f"{API}/incoming-documents", json=document_body(), headers=clerk).json()
    assert document["report_ids"] == []
    report = new_report(client, clerk, incoming_document_id=document["id"])
    assert report["incoming_document_id"] == document["id"]
    detail = client.get(f"{API}/incoming-documents/{document['id']}", headers=as_user("leader")).json()
    assert detail["report_ids"] == [report["id"]]
    listed = client.get(f"{API}/incoming-documents", headers=clerk).json()["items"]
    assert [d["report_ids"] for d in listed] == [[report["id"]]]
    by_document = client.get(f"{API}/reports", params={"incoming_document_id": document["id"]}, headers=clerk)
    assert [r["id"] for r in by_document.json()["items"]] == [report["id"]]


def test_a_report_of_a_document_you_cannot_see_does_not_exist_for_you(client, as_user):
    secret_clerk = as_user("secret_clerk")
    secret = client.post(f"{API}/incoming-documents", headers=secret_clerk, json=document_body(
        register_code=SECRET_REGISTER, confidentiality="confidential", symbol="09/BC-BCĐ")).json()
    report = new_report(client, secret_clerk, incoming_document_id=secret["id"])
    imported(client, secret_clerk, report["id"], sample("phu-luc-I"))

    clerk, specialist = as_user("clerk"), as_user("specialist")
    for headers in (clerk, as_user("auditor"), specialist):
        assert client.get(f"{API}/reports/{report['id']}", headers=headers).status_code == 404
        assert client.get(f"{API}/reports/{report['id']}/summary", headers=headers).status_code == 404
        assert client.get(f"{API}/reports", headers=headers).json()["total"] == 0
        assert client.get(f"{API}/projects", headers=headers).json()["total"] == 0
    assert upload(client, clerk, report["id"], sample("phu-luc-II"), number="II").status_code == 404
    assert client.get(f"{API}/projects", headers=as_user("leader")).json()["total"] == 55
    # Linking to it is refused as if it did not exist.
    refused = client.post(f"{API}/reports", headers=clerk, json={
        "symbol": "10/BC-BCĐ", "title": "x", "issuer": ISSUER, "report_date": "2013-08-12",
        "incoming_document_id": secret["id"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "incoming_document_id"


def test_only_clerks_write_and_unlinked_reports_are_read_by_readers_of_normal_documents(client, clerk, as_user):
    report = new_report(client, clerk)
    for role in ("specialist", "leader", "admin", "auditor"):
        headers = as_user(role)
        assert client.post(f"{API}/reports", json={"symbol": "1/BC-X", "title": "t", "issuer": "i",
                                                   "report_date": "2013-01-01"}, headers=headers).status_code == 403
        assert upload(client, headers, report["id"], sample("phu-luc-I")).status_code == 403
    assert client.get(f"{API}/reports/{report['id']}", headers=as_user("auditor")).status_code == 200
    assert client.get(f"{API}/reports/{report['id']}", headers=as_user("office_leader")).status_code == 200
    assert client.get(f"{API}/reports/{report['id']}", headers=as_user("specialist")).status_code == 404
    assert client.get(f"{API}/reports/{report['id']}", headers=as_user("admin")).status_code == 404
    assert client.get(f"{API}/reports").status_code == 401


def test_duplicates_are_conflicts_and_replace_swaps_an_appendix_whole(client, clerk, seed_report, engine):
    again = client.post(f"{API}/reports", headers=clerk, json={
        "symbol": "08/bc-bcđ", "title": "again", "issuer": ISSUER.upper(), "report_date": "2013-08-12"})
    assert again.status_code == 409 and again.json()["duplicate_of"] == seed_report["id"]
    twice = upload(client, clerk, seed_report["id"], sample("phu-luc-I"))
    assert twice.status_code == 409 and "replace=true" in twice.json()["detail"]
    # A garbage replacement changes nothing.
    assert upload(client, clerk, seed_report["id"], b"\x00\x01", replace="true").status_code == 422
    assert client.get(f"{API}/projects", headers=clerk).json()["total"] == 55
    shorter = replace_line(sample("phu-luc-I"), "III.1\tXây dựng CSDL Tài chính", None)
    replaced = imported(client, clerk, seed_report["id"], shorter, replace="true")
    assert replaced["rows_imported"] == 54
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Appendix)) == 1
        assert conn.scalar(select(func.count()).select_from(ProjectRecord)) == 54


# --- garbage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "status", "words"),
    [
        (os.urandom(64 * 1024), "bang.txt", 422, "binary"),
        (b"", "bang.txt", 422, "empty"),
        ("TT\tDự án\tKinh phí (tỷ đồng)\tTình trạng\n1\tA\t2\tĐang thực hiện\n".encode("utf-16"), "a.txt", 422,
         "UTF-16"),
        ("TT;Dự án;Kinh phí\n".encode("utf-8").replace(b"\xe1\xbb\xb1", b"\xf1"), "a.csv", 422, "not UTF-8"),
        (b"PK\x03\x04not really a zip", "a.xlsx", 422, "damaged"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a.pdf", 422, "PDF"),
        ("Kính gửi Bộ Thông tin và Truyền thông\n".encode(), "a.txt", 422, "no table found"),
        ("TT\tDự án\tKinh phí (tỷ đồng)\tTình trạng\nGhi chú: không có dự án\n".encode(), "a.txt", 422, "no rows"),
    ],
)
def test_garbage_is_a_clear_4xx_and_imports_nothing(client, clerk, engine, content, filename, status, words):
    report = new_report(client, clerk)
    response = upload(client, clerk, report["id"], content, filename=filename)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert words in problem["detail"] and problem["errors"][0]["field"] == "file"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Appendix)) == 0
    assert client.get(f"{API}/reports/{report['id']}", headers=clerk).json()["appendices"] == []


def test_a_20_megabyte_text_is_refused_before_it_is_read(client, clerk):
    report = new_report(client, clerk)
    big = upload(client, clerk, report["id"], b"TT\tD\xe1\xbb\xb1 \xc3\xa1n\n" * (20 * 1024 * 1024 // 12))
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    assert "appendix files are limited to 5 MB" in big.json()["detail"]


def test_formula_cells_and_negative_budgets_are_warnings(client, clerk):
    report = new_report(client, clerk)
    text = replace_line(sample("phu-luc-I"), "I.2\tỨng dụng CNTT tại Ban QL KCN",
                        "I.2\tỨng dụng CNTT tại Ban QL KCN Bình Dương giai đoạn 2\tBQL\t-2,5"
                        "\t\t\t\t\t\tChưa thực hiện\t")
    xlsx = as_xlsx(text, overrides={(12, 4): "=D10*10"})
    result = imported(client, clerk, report["id"], xlsx, filename="phu-luc-I.xlsx")
    assert result["rows_imported"] == 55 and result["groups"][0]["matches"] is False
    lines = {(w["line"], w["message"]) for w in result["warnings"]}
    assert (11, "budget -2,5 is negative; not read") in lines
    assert any(line == 12 and "formula (=D10*10) without a saved value" in m for line, m in lines)
    projects = client.get(f"{API}/projects", params={"q": "I.2 ban ql kcn"}, headers=clerk).json()["items"]
    assert [(p["code"], p["budget_vnd"]) for p in projects] == [("I.2", None)]


@pytest.mark.parametrize("number", ["", "I II", "x" * 41, "I/2"])
def test_a_bad_appendix_number_is_422(client, clerk, number):
    report = new_report(client, clerk)
    response = upload(client, clerk, report["id"], sample("phu-luc-I"), number=number)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "number"


def test_demo_records_the_seed_report_with_its_appendices_once(tmp_path):
    import subprocess
    import sys

    from sqlalchemy import create_engine

    from app.models import IncomingDocument, Report

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGVAN_")}
    env["CONGVAN_DATA_DIR"] = str(tmp_path / "var")
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "app.cli", "demo"], env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'congvan.db'}")
    with engine.connect() as conn:
        [(report_id, document_id)] = conn.execute(select(Report.id, Report.incoming_document_id)).all()
        assert conn.scalar(select(IncomingDocument.symbol).where(IncomingDocument.id == document_id)) == "08/BC-BCĐ"
        assert conn.scalars(select(Appendix.number).order_by(Appendix.id)).all() == ["I", "II", "CT"]
        assert conn.scalar(select(func.count()).select_from(ProjectRecord)) == 55
    engine.dispose()


def test_amounts_that_add_up_past_a_bigint_are_refused_not_a_500(client, clerk):
    report = new_report(client, clerk)
    rows = "".join(f"{n}\tDự án {n}\tSở X\t1.000.000\tĐang thực hiện\n" for n in range(1, 9301))
    response = upload(client, clerk, report["id"], "TT\tDự án\tChủ đầu tư\tKinh phí (tỷ đồng)\tTình trạng\n" + rows)
    assert response.status_code == 422 and "more than can be stored" in response.json()["detail"]
