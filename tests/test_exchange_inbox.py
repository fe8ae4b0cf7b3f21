"""The electronic inbox over HTTP: receiving, deduplicating, registering, refusing, changes, statuses."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.db import make_sessionmaker
from app.exchange.parser import parse_message
from app.models import ExchangeOutbox
from tests.conftest import document_body
from tests.exchange_helpers import OUR_ORGAN, SENDER, XML, document_message, pdf_bytes, status_13, zipped

API = "/api/v1"


def receive(client, headers, body: bytes, **extra):
    return client.post(f"{API}/exchange/messages", content=body, headers={**headers, **XML, **extra})


def outbox_codes(engine, item_id: int | None = None) -> list[str]:
    with make_sessionmaker(engine)() as session:
        query = select(ExchangeOutbox).order_by(ExchangeOutbox.id)
        if item_id is not None:
            query = query.where(ExchangeOutbox.message_id == item_id)
        return [row.status_code for row in session.scalars(query)]


def test_a_document_message_becomes_an_inbox_item_with_its_header_and_attachments(client, as_user, engine):
    pdf = pdf_bytes("main")
    annex = pdf_bytes("annex", 3000)
    body = document_message(attachments=[("CV-125.pdf", "application/pdf", pdf),
                                         ("Phu luc.doc", "application/zip", zipped("phu-luc.pdf", annex))])
    response = receive(client, as_user("hub"), body)
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["kind"] == "document" and item["state"] == "received" and item["business_type"] == "new"
    assert item["symbol"] == "125/VPCP-TCCV"
    assert item["document_date"] == "2026-11-20"
    assert item["issuer"] == "Văn phòng Chính phủ" and item["from_organ_id"] == SENDER
    assert item["summary"] == "V/v triển khai kết nối liên thông văn bản điện tử"
    assert item["signer_name"] == "Nguyễn Văn Thành" and item["signer_position"] == "Phó Chủ nhiệm"
    assert item["urgency"] == "urgent" and item["due_date"] == "2026-12-30"
    first, second = item["attachments"]
    assert first["sha256"] == hashlib.sha256(pdf).hexdigest() and first["content_type"] == "application/pdf"
    assert second["sha256"] == hashlib.sha256(annex).hexdigest() and second["unpacked_from"] == "phu-luc.pdf"
    codes = {w["code"] for w in item["warnings"]}
    assert "exchange.not_addressed_to_us" not in codes
    assert "exchange.attachment_type_mismatch" in codes  # a .doc that holds a PDF
    assert outbox_codes(engine, item["id"]) == ["01"]
    raw = client.get(f"{API}/exchange/inbox/{item['id']}/raw", headers=as_user("clerk"))
    assert raw.status_code == 200 and raw.content == body


def test_the_same_message_twice_is_one_item(client, as_user, engine):
    body = document_message()
    first = receive(client, as_user("hub"), body)
    again = receive(client, as_user("hub"), body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert outbox_codes(engine) == ["01"]
    # A corrected copy (other bytes, same DocumentId) supersedes the one still waiting.
    corrected = receive(client, as_user("hub"), document_message(subject="V/v triển khai (bản sửa)"))
    assert corrected.status_code == 201
    states = {i["id"]: i["state"] for i in client.get(f"{API}/exchange/inbox", headers=as_user("clerk")).json()["items"]}
    assert states == {first.json()["id"]: "superseded", corrected.json()["id"]: "received"}


def test_a_message_for_another_agency_is_kept_with_a_warning(client, as_user):
    item = receive(client, as_user("hub"), document_message(to=("000.00.00.H14",))).json()
    assert "exchange.not_addressed_to_us" in {w["code"] for w in item["warnings"]}


def test_only_clerks_and_the_hub_deliver_messages(client, as_user):
    assert receive(client, as_user("specialist"), document_message()).status_code == 403
    assert client.get(f"{API}/exchange/inbox", headers=as_user("hub")).status_code == 403
    assert client.post(f"{API}/exchange/messages", content=document_message()).status_code == 401


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b'<?xml version="1.0"?>\n<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
     b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><MessageHeader><Subject>&x;</Subject>'
     b'</MessageHeader></edXML>', 422, "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
     b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><edXML>&lol3;</edXML>', 422, "DOCTYPE"),
    (b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">\n<MessageHeader>\n<Subject>x</Subjec>\n</edXML>',
     422, "line 3"),
    (b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><Subject>&ext;</Subject></edXML>', 422, "line 1"),
    (b'<document><title>not edXML</title></document>', 422, "not edXML"),
])
def test_hostile_and_broken_messages_are_refused_without_a_trace(client, as_user, body, status, needle):
    started = time.perf_counter()
    response = receive(client, as_user("hub"), body)
    assert response.status_code == status, response.text
    assert time.perf_counter() - started < 2
    assert response.headers["content-type"].startswith("application/problem+json")
    text = response.text
    assert needle in text and "root:" not in text and "/etc/passwd" not in text.replace("file:///etc/passwd", "")
    assert client.get(f"{API}/exchange/inbox", headers=as_user("clerk")).json()["total"] == 0


def test_a_60_mb_message_is_refused_before_it_is_read(client, as_user):
    big = b"<edXML>" + b"A" * (60 * 1024 * 1024) + b"</edXML>"
    started = time.perf_counter()
    response = receive(client, as_user("hub"), big)
    assert response.status_code == 413
    assert time.perf_counter() - started < 5


def test_other_media_types_are_refused(client, as_user):
    response = client.post(f"{API}/exchange/messages", content=b"{}", headers={**as_user("hub"),
                                                                              "Content-Type": "text/plain"})
    assert response.status_code == 415


def test_multipart_upload_is_the_same_message(client, as_user):
    body = document_message()
    response = client.post(f"{API}/exchange/messages", files={"file": ("m.edxml", body, "application/xml")},
                           headers=as_user("clerk"))
    assert response.status_code == 201, response.text
    assert receive(client, as_user("hub"), body).status_code == 200


def _register(client, as_user, item_id, **body):
    return client.post(f"{API}/exchange/inbox/{item_id}/register", json=body, headers=as_user("clerk"))


def test_registering_an_item_numbers_it_and_attaches_its_files(client, as_user, engine):
    pdf = pdf_bytes("x", 500)
    item = receive(client, as_user("hub"), document_message(attachments=[("CV.pdf", "application/pdf", pdf)])).json()
    response = _register(client, as_user, item["id"], summary="Trích yếu do văn thư sửa")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["channel"] == "electronic" and document["arrival_number"] == 1
    assert document["summary"] == "Trích yếu do văn thư sửa" and document["symbol"] == "125/VPCP-TCCV"
    attachments = client.get(f"{API}/incoming-documents/{document['id']}/attachments", headers=as_user("clerk")).json()
    assert [a["sha256"] for a in attachments] == [hashlib.sha256(pdf).hexdigest()]
    download = client.get(f"{API}/incoming-documents/{document['id']}/attachments/{attachments[0]['id']}",
                          headers=as_user("clerk"))
    assert download.content == pdf
    assert outbox_codes(engine, item["id"]) == ["01", "03"]
    again = _register(client, as_user, item["id"])
    assert again.status_code == 409
    shown = client.get(f"{API}/exchange/inbox/{item['id']}", headers=as_user("clerk")).json()
    assert shown["state"] == "registered" and shown["document_id"] == document["id"]


def test_a_probable_duplicate_of_a_registered_paper_copy_is_named(client, as_user):
    paper = client.post(f"{API}/incoming-documents", headers=as_user("clerk"), json=document_body(
        symbol="125/VPCP-TCCV", document_date="2026-11-20", issuer="Văn phòng Chính phủ",
        received_at="2026-11-21T08:00:00+07:00"))
    assert paper.status_code == 201, paper.text
    received = receive(client, as_user("hub"), document_message()).json()
    assert received["duplicate_of"] is None  # the hub's account sees no registered document
    item = client.get(f"{API}/exchange/inbox/{received['id']}", headers=as_user("clerk")).json()
    assert item["duplicate_of"] == paper.json()["id"]
    refused = _register(client, as_user, item["id"])
    assert refused.status_code == 409
    assert _register(client, as_user, item["id"], allow_duplicate=True).status_code == 201


def test_refusing_an_item_tells_the_sender(client, as_user, engine):
    item = receive(client, as_user("hub"), document_message(to=("000.00.00.H14",))).json()
    response = client.post(f"{API}/exchange/inbox/{item['id']}/refuse", json={"reason": "Gửi nhầm cơ quan"},
                           headers=as_user("clerk"))
    assert response.status_code == 200 and response.json()["state"] == "refused"
    assert outbox_codes(engine, item["id"]) == ["01", "02"]
    outbox = client.get(f"{API}/exchange/outbox", headers=as_user("admin")).json()["items"]
    refusal = next(o for o in outbox if o["status_code"] == "02")
    assert refusal["to_organ_id"] == SENDER and "Gửi nhầm cơ quan" in refusal["description"]
    edxml = client.get(f"{API}/exchange/outbox/{refusal['id']}.edxml", headers=as_user("clerk"))
    assert edxml.status_code == 200 and b"<edXML:StatusCode>02</edXML:StatusCode>" in edxml.content


def _act(client, as_user, username, document_id, **body):
    response = client.post(f"{API}/incoming-documents/{document_id}/actions", json=body, headers=as_user(username))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_slip_sends_04_05_06_once_each(client, as_user, engine):
    item = receive(client, as_user("hub"), document_message()).json()
    document = _register(client, as_user, item["id"]).json()
    doc = document["id"]
    _act(client, as_user, "clerk", doc, action="submit")
    _act(client, as_user, "office_leader", doc, action="propose")
    directed = _act(client, as_user, "leader", doc, action="direct", comment="Giao VP chủ trì",
                    assignments=[{"unit_code": "VP", "role": "lead", "due_in_working_days": 5},
                                 {"unit_code": "TTĐ", "role": "cooperate"}])
    lead = next(a for a in directed["assignments"] if a["unit_code"] == "VP")
    other = next(a for a in directed["assignments"] if a["unit_code"] == "TTĐ")
    _act(client, as_user, "unit_leader_vp", doc, action="assign", assignment_id=lead["id"],
         assignee_username="specialist")
    _act(client, as_user, "unit_leader_ttd", doc, action="report", assignment_id=other["id"], comment="Đã xem")
    _act(client, as_user, "specialist", doc, action="complete", assignment_id=lead["id"], comment="Đã xử lý")
    assert outbox_codes(engine, item["id"]) == ["01", "03", "04", "05", "06"]
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(ExchangeOutbox).order_by(ExchangeOutbox.id)).all()
        assert {r.to_organ_id for r in rows} == {SENDER}
        assert all(r.document_id == doc for r in rows[1:])


def _registered(client, as_user, **message):
    item = receive(client, as_user("hub"), document_message(**message)).json()
    return item, _register(client, as_user, item["id"]).json()


def test_an_accepted_revoke_recalls_the_document_through_the_slip(client, as_user, engine):
    original, document = _registered(client, as_user)
    revoke = receive(client, as_user("hub"), document_message(business="1", subject="Thu hồi công văn 125")).json()
    assert revoke["business_type"] == "revoke" and revoke["target_document_id"] == document["id"]
    assert _register(client, as_user, revoke["id"]).status_code == 409
    response = client.post(f"{API}/exchange/inbox/{revoke['id']}/accept", json={}, headers=as_user("clerk"))
    assert response.status_code == 200, response.text
    shown = client.get(f"{API}/incoming-documents/{document['id']}", headers=as_user("clerk")).json()
    assert shown["state"] == "recalled"
    events = client.get(f"{API}/incoming-documents/{document['id']}/events", headers=as_user("clerk")).json()
    assert events[-1]["action"] == "recall"
    assert outbox_codes(engine, revoke["id"]) == ["01", "15"]


def test_a_rejected_recall_request_keeps_the_document(client, as_user, engine):
    original, document = _registered(client, as_user)
    request = receive(client, as_user("hub"), status_13(original["edxml_document_id"]))
    assert request.status_code == 201, request.text
    item = request.json()
    assert item["kind"] == "status" and item["status_code"] == "13" and item["target_document_id"] == document["id"]
    response = client.post(f"{API}/exchange/inbox/{item['id']}/reject", json={"reason": "Đã xử lý xong"},
                           headers=as_user("clerk"))
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    shown = client.get(f"{API}/incoming-documents/{document['id']}", headers=as_user("clerk")).json()
    assert shown["state"] == "registered"
    assert outbox_codes(engine, item["id"]) == ["16"]


def test_an_accepted_update_changes_fields_and_keeps_the_old_values(client, as_user):
    _, document = _registered(client, as_user)
    update = receive(client, as_user("hub"), document_message(
        business="2", subject="V/v triển khai kết nối (cập nhật)", due="2027/01/15")).json()
    response = client.post(f"{API}/exchange/inbox/{update['id']}/accept", json={"comment": "Đồng ý"},
                           headers=as_user("clerk"))
    assert response.status_code == 200, response.text
    shown = client.get(f"{API}/incoming-documents/{document['id']}", headers=as_user("clerk")).json()
    assert shown["summary"] == "V/v triển khai kết nối (cập nhật)" and shown["due_date"] == "2027-01-15"
    events = client.get(f"{API}/incoming-documents/{document['id']}/events", headers=as_user("clerk")).json()
    amend = events[-1]
    assert amend["action"] == "amend"
    assert amend["data"]["changed"]["summary"]["from"] == "V/v triển khai kết nối liên thông văn bản điện tử"


def test_an_accepted_replace_registers_the_new_one_and_recalls_the_old(client, as_user):
    original, document = _registered(client, as_user)
    replace = receive(client, as_user("hub"), document_message(
        business="3", document_id=f"{SENDER},2026/11/25,130/VPCP-TCCV", number="130", date="2026/11/25",
        replaced=(original["edxml_document_id"],))).json()
    assert replace["target_document_id"] == document["id"]
    response = client.post(f"{API}/exchange/inbox/{replace['id']}/accept", json={}, headers=as_user("clerk"))
    assert response.status_code == 200, response.text
    new_id = response.json()["document_id"]
    assert new_id and new_id != document["id"]
    old = client.get(f"{API}/incoming-documents/{document['id']}", headers=as_user("clerk")).json()
    new = client.get(f"{API}/incoming-documents/{new_id}", headers=as_user("clerk")).json()
    assert old["state"] == "recalled" and new["symbol"] == "130/VPCP-TCCV" and new["channel"] == "electronic"


def test_a_change_naming_nothing_registered_says_so(client, as_user):
    item = receive(client, as_user("hub"), document_message(business="1")).json()
    assert "exchange.target_not_found" in {w["code"] for w in item["warnings"]}
    assert client.post(f"{API}/exchange/inbox/{item['id']}/accept", json={},
                       headers=as_user("clerk")).status_code == 409


def test_paper_and_electronic_registrations_share_one_gapless_sequence(client, as_user):
    items = [receive(client, as_user("hub"), document_message(
        document_id=f"{SENDER},2026/11/20,{200 + i}/VPCP", number=str(200 + i), notation="VPCP")).json()
        for i in range(6)]

    def electronic(item):
        return _register(client, as_user, item["id"]).status_code

    def paper(i):
        return client.post(f"{API}/incoming-documents", headers=as_user("clerk"), json=document_body(
            symbol=f"{300 + i}/UBND", received_at="2026-11-21T08:00:00+07:00", document_date="2026-11-20",
        )).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(electronic, item) for item in items] + [pool.submit(paper, i) for i in range(6)]
        assert [f.result() for f in futures] == [201] * 12
    documents = client.get(f"{API}/incoming-documents?limit=50", headers=as_user("clerk")).json()["items"]
    numbers = sorted(d["arrival_number"] for d in documents)
    assert numbers == list(range(1, 13))
    assert {d["channel"] for d in documents} == {"paper", "electronic"}


def test_a_status_message_we_write_parses_back_to_its_fields(client, as_user, settings, tmp_path):
    item = receive(client, as_user("hub"), document_message()).json()
    outbox = client.get(f"{API}/exchange/outbox", headers=as_user("clerk")).json()["items"][0]
    edxml = client.get(f"{API}/exchange/outbox/{outbox['id']}.edxml", headers=as_user("clerk")).content
    import io

    parsed = parse_message(io.BytesIO(edxml), tmp_path, tz=settings.tz)
    assert parsed.kind == "status" and parsed.status_code == "01"
    assert parsed.sender.organ_id == OUR_ORGAN
    assert parsed.response_for.organ_id == SENDER
    assert parsed.response_for.document_id == item["edxml_document_id"]
    assert parsed.response_for.code == "125/VPCP-TCCV"
    assert parsed.description == outbox["description"]
    assert parsed.notices == []


def test_a_document_exported_as_edxml_imports_again_to_the_same_fields_and_bytes(client, as_user, settings,
                                                                                tmp_path):
    pdf, annex = pdf_bytes("main", 2000), pdf_bytes("annex", 70_000)
    paper = client.post(f"{API}/incoming-documents", headers=as_user("clerk"), json=document_body(
        urgency="flash", due_date="2013-09-15", signer_name="Trần Thị Bình", signer_position="Trưởng ban",
        page_count=4)).json()
    for name, data in (("Báo cáo.pdf", pdf), ("Phụ lục.pdf", annex)):
        uploaded = client.post(f"{API}/incoming-documents/{paper['id']}/attachments", headers=as_user("clerk"),
                               files={"file": (name, data, "application/pdf")})
        assert uploaded.status_code == 201
    exported = client.get(f"{API}/incoming-documents/{paper['id']}/edxml", params={"to": ["000.00.00.H14"]},
                          headers=as_user("clerk"))
    assert exported.status_code == 200, exported.text
    import io

    message = parse_message(io.BytesIO(exported.content), tmp_path, tz=settings.tz)
    assert message.kind == "document" and [r.organ_id for r in message.recipients] == ["000.00.00.H14"]
    assert message.symbol == paper["symbol"] and message.document_date.isoformat() == paper["document_date"]
    assert message.sender.name == paper["issuer"] and message.subject == paper["summary"]
    assert (message.signer_name, message.signer_position) == ("Trần Thị Bình", "Trưởng ban")
    assert message.priority == 3 and message.due_date.isoformat() == "2013-09-15" and message.page_count == 4
    assert [(a.filename, a.sha256) for a in message.attachments] == [
        ("Báo cáo.pdf", hashlib.sha256(pdf).hexdigest()), ("Phụ lục.pdf", hashlib.sha256(annex).hexdigest())]
    # A paper document's issuer has no OrganId we know: the one thing the message lacks.
    assert [n.message for n in message.notices] == ["From/OrganId is missing"]
    # Re-imported as another agency would receive it: the same fields on its inbox item.
    item = receive(client, as_user("hub"), exported.content.replace(b"000.00.00.H14", OUR_ORGAN.encode())).json()
    assert (item["symbol"], item["issuer"], item["summary"], item["urgency"]) == (
        paper["symbol"], paper["issuer"], paper["summary"], "flash")
    assert [a["sha256"] for a in item["attachments"]] == [hashlib.sha256(pdf).hexdigest(),
                                                         hashlib.sha256(annex).hexdigest()]
    hidden = client.get(f"{API}/incoming-documents/{paper['id']}/edxml", headers=as_user("unit_leader_ttd"))
    assert hidden.status_code == 404


def test_the_queue_says_what_waits(client, as_user):
    receive(client, as_user("hub"), document_message())
    queue = client.get(f"{API}/exchange/queue", headers=as_user("admin")).json()
    assert queue["pending"] == 1 and queue["failed"] == 0 and queue["endpoint_configured"] is False


def test_the_same_message_in_parallel_is_still_one_item(client, as_user, engine):
    body = document_message(attachments=[("CV.pdf", "application/pdf", pdf_bytes("par", 200_000))])
    headers = as_user("hub")
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: receive(client, headers, body), range(4)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert outbox_codes(engine) == ["01"]


def test_one_item_registered_by_two_clerks_at_once_is_one_document(client, as_user, engine):
    item = receive(client, as_user("hub"), document_message()).json()
    headers = as_user("clerk")
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(
            lambda _: client.post(f"{API}/exchange/inbox/{item['id']}/register", json={}, headers=headers), range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert client.get(f"{API}/incoming-documents", headers=headers).json()["total"] == 1
    assert outbox_codes(engine, item["id"]) == ["01", "03"]


def test_the_inbox_is_searched_without_diacritics(client, as_user):
    receive(client, as_user("hub"), document_message())
    receive(client, as_user("hub"), document_message(document_id="X,2026/11/20,9/UBND", number="9",
                                                     notation="UBND", subject="Báo cáo quý IV"))
    found = client.get(f"{API}/exchange/inbox", params={"q": "bao cao"}, headers=as_user("clerk")).json()
    assert [i["symbol"] for i in found["items"]] == ["9/UBND"]
    by_symbol = client.get(f"{API}/exchange/inbox", params={"q": "vpcp-tccv"}, headers=as_user("clerk")).json()
    assert [i["symbol"] for i in by_symbol["items"]] == ["125/VPCP-TCCV"]


def test_control_characters_in_the_inbox_filters_are_dropped_not_a_500(client, as_user):
    receive(client, as_user("hub"), document_message())
    response = client.get(f"{API}/exchange/inbox", params={"q": "vpcp\x00", "from_organ_id": "000.00.00.G22\x00"},
                          headers=as_user("clerk"))
    assert response.status_code == 200 and response.json()["total"] == 1
