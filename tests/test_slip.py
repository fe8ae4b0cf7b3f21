"""The processing slip (phiếu giải quyết văn bản đến): as data, as a printable page, as a PDF.

The seed's route is walked through the real API (register → submit → propose → direct →
assign → report → complete); each of the office's, the leadership's, the unit leader's and the
specialist's notes must then appear, signed and dated, in its section of all three renderings.
"""

from __future__ import annotations

import io
import re
import unicodedata

from pypdf import PdfReader

from tests.conftest import document_body
from tests.workflow_helpers import AROUND_TODAY, DOCS, act, document_in, events

SEED_ISSUER = "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương"
PROPOSAL = "B/có: A. Hồng - Thủ trưởng"
DIRECTION = "Kết luận: VP chủ trì; VPB phối hợp; TTĐ để biết"
UNIT_DIRECTION = "D 23.8: đ/c Chuyên xử lý"
REPORT = "Đang tổng hợp số liệu"
RESULT = "Đã xử lý, báo cáo lãnh đạo"
SECTION_TITLES = [
    "PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN",
    "Tóm tắt nội dung văn bản",
    "Ý kiến của lãnh đạo Văn phòng",
    "Ý kiến chỉ đạo của lãnh đạo Bộ",
    "Ý kiến chỉ đạo của Lãnh đạo đơn vị",
    "Kết quả xử lý",
]


def _seed_route(client, as_user, after_direction: tuple = ()) -> dict:
    """The seed's document, walked along its slip (with ``after_direction``'s steps after the
    leadership's direction); returns the document as last seen."""
    response = client.post(DOCS, json=document_body(), headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    doc_id = response.json()["id"]
    steps = [
        ("clerk", "submit", {}),
        ("office_leader", "propose", {"comment": PROPOSAL}),
        ("leader", "direct", {"comment": DIRECTION, "due_date": "2099-08-30",
                              "assignments": [{"unit_code": "VP", "role": "lead", "due_date": "2099-08-25"},
                                              {"unit_code": "VPB", "role": "cooperate"},
                                              {"unit_code": "TTĐ", "role": "inform"}]}),
        *after_direction,
        ("unit_leader_vp", "assign", {"comment": UNIT_DIRECTION}),
        ("specialist", "report", {"comment": REPORT}),
        ("specialist", "complete", {"comment": RESULT}),
    ]
    for username, action, extra in steps:
        response = act(client, as_user, doc_id, username, action, **extra)
        assert response.status_code == 200, (action, response.text)
    doc = response.json()
    assert doc["state"] == "resolved"
    return doc


def _get(client, as_user, doc_id: int, suffix: str, username: str = "leader"):
    return client.get(f"{DOCS}/{doc_id}/{suffix}", headers=as_user(username))


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() or "" for page in reader.pages))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def test_json_slip_puts_each_note_in_its_section_signed_and_dated(client, as_user):
    doc = _seed_route(client, as_user)
    slip = _get(client, as_user, doc["id"], "slip").json()
    at = {e["action"]: e["at"] for e in events(client, as_user, doc["id"])}

    assert slip["summary"]["symbol"] == "08/BC-BCĐ" and slip["summary"]["issuer"] == SEED_ISSUER
    assert slip["summary"]["arrival_number"] == doc["arrival_number"]
    assert slip["summary"]["urgency_label"] == "Thường"

    def notes(section: str) -> list[tuple]:
        return [(e["action"], e["text"], e["author_username"], e["author"], e["author_title"], e["at"])
                for e in slip[section]]

    assert notes("office_opinions") == [
        ("propose", PROPOSAL, "office_leader", "Office Leader", "Lãnh đạo Văn phòng", at["propose"])]
    assert notes("leadership_directions") == [
        ("direct", DIRECTION, "leader", "Leader", "Lãnh đạo Bộ", at["direct"])]
    assert [(a["unit_code"], a["role_label"]) for a in slip["leadership_directions"][0]["assignments"]] == [
        ("VP", "chủ trì"), ("VPB", "phối hợp"), ("TTĐ", "để biết")]
    assert slip["leadership_directions"][0]["assignments"][0]["due_date"] == "2099-08-25"
    [unit_direction] = slip["unit_directions"]
    assert unit_direction["text"].startswith(UNIT_DIRECTION) and unit_direction["author_username"] == "unit_leader_vp"
    assert unit_direction["author_title"] == "Lãnh đạo đơn vị" and unit_direction["at"] == at["assign"]
    assert notes("handler_results") == [
        ("report", REPORT, "specialist", "Specialist", "Chuyên viên", at["report"]),
        ("complete", RESULT, "specialist", "Specialist", "Chuyên viên", at["complete"]),
    ]


def test_html_slip_is_a_self_contained_printable_form(client, as_user):
    doc = _seed_route(client, as_user)
    response = _get(client, as_user, doc["id"], "slip.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<meta charset="utf-8">' in page and "@page" in page and "A4" in page and "@media print" in page

    for words in [*SECTION_TITLES, PROPOSAL, DIRECTION, UNIT_DIRECTION, REPORT, RESULT, SEED_ISSUER,
                  "08/BC-BCĐ", "Thường", "Hà Nội, ngày 15 tháng 8 năm 2013", "CÔNG VĂN ĐẾN", "Ngày 15/08/2013",
                  "Office Leader, Lãnh đạo Văn phòng", "Leader, Lãnh đạo Bộ", "Chuyên viên",
                  "chủ trì", "phối hợp", "để biết", "Văn phòng Ban (VPB)", "25/08/2099", "30/08/2099",
                  "12/08/2013", "Trích yếu", "Thời hạn xử lý", "Số ký hiệu văn bản", "Mức độ khẩn"]:
        assert words in page, words
    assert f"Số: <b>{doc['arrival_number']}</b>" in page
    # Sections in the form's order, each note under its own heading.
    positions = [page.index(words) for words in
                 [SECTION_TITLES[1], SECTION_TITLES[2], PROPOSAL, SECTION_TITLES[3], DIRECTION,
                  SECTION_TITLES[4], UNIT_DIRECTION, SECTION_TITLES[5], REPORT, RESULT]]
    assert positions == sorted(positions)
    # The page loads nothing from anywhere.
    lowered = page.lower()
    for reference in ["<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "https://"]:
        assert reference not in lowered, reference


def test_html_slip_escapes_everything(client, as_user):
    hostile = '<script>alert("x")</script> & <b onmouseover=1>'
    doc = document_in(client, as_user, "office_review", summary=hostile, issuer="A & B <i>")
    response = act(client, as_user, doc["id"], "office_leader", "propose", comment="</div><script>1</script>")
    assert response.status_code == 200, response.text
    page = _get(client, as_user, doc["id"], "slip.html").text
    assert "<script" not in page.lower() and "<b onmouseover" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b onmouseover=1&gt;" in page
    assert "A &amp; B &lt;i&gt;" in page and "&lt;/div&gt;&lt;script&gt;1&lt;/script&gt;" in page
    # The PDF prints the same text as text.
    assert "<script>alert" in _pdf_text(_get(client, as_user, doc["id"], "slip.pdf").content)


def test_pdf_slip_prints_vietnamese(client, as_user):
    doc = _seed_route(client, as_user)
    response = _get(client, as_user, doc["id"], "slip.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'inline; filename="phieu-giai-quyet-{doc["arrival_number"]}.pdf"')
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    assert all(round(float(p.mediabox.width)) == 595 and round(float(p.mediabox.height)) == 842 for p in reader.pages)
    text = _squeeze(_pdf_text(response.content))
    for words in [*SECTION_TITLES, "Ý kiến chỉ đạo", SEED_ISSUER, "B/có: A. Hồng", PROPOSAL, DIRECTION,
                  UNIT_DIRECTION, REPORT, RESULT, "CÔNG VĂN ĐẾN", f"Số: {doc['arrival_number']}", "Ngày 15/08/2013",
                  "Hà Nội, ngày 15 tháng 8 năm 2013", "08/BC-BCĐ", "chủ trì", "phối hợp", "để biết",
                  "Office Leader, Lãnh đạo Văn phòng", "25/08/2099"]:
        assert _squeeze(words) in text, words


def test_pdf_slip_of_a_fresh_document_and_a_long_one(client, as_user):
    fresh = document_in(client, as_user, "registered")
    response = _get(client, as_user, fresh["id"], "slip.pdf", username="clerk")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert _squeeze("PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN") in _squeeze(_pdf_text(response.content))

    long = document_in(client, as_user, "in_progress", summary="Trích yếu rất dài " * 27)
    assert act(client, as_user, long["id"], "unit_leader_vp", "assign").status_code == 200
    for n in range(12):
        comment = f"Báo cáo lần {n}: " + "tiến độ thực hiện đề án ứng dụng CNTT " * 40
        assert act(client, as_user, long["id"], "specialist", "report", comment=comment).status_code == 200
    response = _get(client, as_user, long["id"], "slip.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > 1
    assert "Trang 2/" in _pdf_text(response.content)


def test_slip_renderings_follow_the_json_routes_access_rules(client, as_user):
    registered = document_in(client, as_user, "registered")
    directed = document_in(client, as_user, "leadership_review")
    response = act(client, as_user, directed["id"], "leader", "direct",
                   assignments=[{"unit_code": "VP", "role": "lead"}])
    assert response.status_code == 200, response.text
    for doc_id, username in [(registered["id"], "specialist"), (directed["id"], "unit_leader_ttd"),
                             (999_999, "leader")]:
        for suffix in ("slip", "slip.html", "slip.pdf"):
            assert _get(client, as_user, doc_id, suffix, username=username).status_code == 404, (suffix, username)
    for suffix in ("slip", "slip.html", "slip.pdf"):
        assert client.get(f"{DOCS}/{directed['id']}/{suffix}").status_code == 401
        assert _get(client, as_user, directed["id"], suffix, username="unit_leader_vp").status_code == 200


def test_a_delegated_direction_is_signed_with_the_delegating_leader(client, as_user):
    response = client.post("/api/v1/delegations", json={
        "delegate_username": "office_leader", **AROUND_TODAY},
        headers=as_user("leader"))
    assert response.status_code == 201, response.text
    doc = document_in(client, as_user, "leadership_review")
    assert act(client, as_user, doc["id"], "office_leader", "direct", comment="Giao VP chủ trì").status_code == 200

    [direction] = _get(client, as_user, doc["id"], "slip").json()["leadership_directions"]
    assert (direction["author"], direction["author_title"], direction["on_behalf_of"]) == (
        "Office Leader", "Lãnh đạo Bộ", "Leader")
    signed = "Office Leader, Lãnh đạo Bộ (ủy quyền của Leader)"
    page = _get(client, as_user, doc["id"], "slip.html").text
    assert page.index(signed) > page.index("Ý kiến chỉ đạo của lãnh đạo Bộ") > page.index("Ý kiến của lãnh đạo Văn phòng")
    assert _squeeze(signed) in _squeeze(_pdf_text(_get(client, as_user, doc["id"], "slip.pdf").content))


def test_the_place_on_the_slips_dateline_is_a_setting(settings, client, as_user):
    """``CONGVAN_PLACE_NAME`` heads the dateline of the HTML and PDF slips (default Hà Nội)."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    assert Settings().place_name == "Hà Nội"
    doc = document_in(client, as_user, "registered")
    elsewhere = Settings(**{**settings.model_dump(), "place_name": "Thành phố Đà Nẵng"})
    with TestClient(create_app(elsewhere)) as other:
        page = _get(other, as_user, doc["id"], "slip.html")
        pdf = _get(other, as_user, doc["id"], "slip.pdf")
    assert page.status_code == 200 and pdf.status_code == 200
    assert "Thành phố Đà Nẵng, ngày 15 tháng 8 năm 2013" in page.text and "Hà Nội" not in page.text
    assert _squeeze("Thành phố Đà Nẵng, ngày 15 tháng 8 năm 2013") in _squeeze(_pdf_text(pdf.content))
    assert "Hà Nội, ngày 15 tháng 8 năm 2013" in _get(client, as_user, doc["id"], "slip.html").text


DATE_LIKE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
TIME_LIKE = re.compile(r"\d{1,2}:\d{2}")


def _dates_and_times_are_one_format(text: str) -> None:
    """Every date is dd/mm/yyyy and every time follows a date as ``dd/mm/yyyy HH:MM``."""
    for found in DATE_LIKE.finditer(text):
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", found.group()), (found.group(), text[found.start() - 40:found.end()])
    for found in TIME_LIKE.finditer(text):
        assert re.search(r"\d{2}/\d{2}/\d{4}\s?$", text[:found.start()]), text[found.start() - 40:found.end()]


def test_every_date_on_the_slip_is_written_one_way(client, as_user):
    """The stamp, the document date, deadlines (also those an extension moved, kept as ISO in its
    event) and each note's moment: dd/mm/yyyy, with HH:MM after it where a time is shown, in the
    JSON notes, the HTML and the PDF alike (slip_render.slip_date and slip_datetime)."""
    from datetime import datetime

    doc = _seed_route(client, as_user, after_direction=(
        ("leader", "extend", {"due_date": "2099-09-15", "comment": "Gia hạn"}),))
    slip = _get(client, as_user, doc["id"], "slip").json()
    [extension] = [e for e in slip["leadership_directions"] if e["action"] == "extend"]
    assert extension["text"] == "Gia hạn (gia hạn 30/08/2099 → 15/09/2099)"
    moments = [datetime.fromisoformat(e["at"]).strftime("%d/%m/%Y %H:%M")
               for section in ("office_opinions", "leadership_directions", "unit_directions", "handler_results")
               for e in slip[section]]
    assert len(moments) == 6  # propose, direct, extend, assign, report, complete

    page = _get(client, as_user, doc["id"], "slip.html").text
    body = re.sub(r"<[^>]+>", " ", page[page.index("<body>"):])
    pdf = _pdf_text(_get(client, as_user, doc["id"], "slip.pdf").content)
    for text in (body, pdf):
        for words in ["Ngày 15/08/2013", "12/08/2013", "15/09/2099", "25/08/2099",
                      "gia hạn 30/08/2099 → 15/09/2099", *moments]:
            assert _squeeze(words) in _squeeze(text), words
        _dates_and_times_are_one_format(text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body + pdf)
