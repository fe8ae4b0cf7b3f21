"""The console's electronic inbox over HTTP: the list, an item's page with its signatures, registering
and refusing through the forms, the API's role check, CSRF and 404s.

Messages come in as the hub delivers them (the API, as the hub user); what the console did is read
back through the API.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import document_body
from tests.console_helpers import csrf_of, main_of, page_csrf, sign_in
from tests.exchange_helpers import SENDER, XML, document_message, pdf_bytes, status_13
from tests.signature_helpers import Authority, one_page_pdf, sign_pdf, trusted_authority

API = "/api/v1"


@pytest.fixture(scope="module")
def authority(settings) -> Authority:
    """A test CA whose root is in the server's trust directory for these tests."""
    with trusted_authority(settings.resolved_trust_dir, "Root CA kiểm thử bàn làm việc") as authority:
        yield authority


def deliver(client: TestClient, as_user, body: bytes) -> dict:
    response = client.post(f"{API}/exchange/messages", content=body, headers={**as_user("hub"), **XML})
    assert response.status_code == 201, response.text
    return response.json()


def api_item(client: TestClient, as_user, item_id: int) -> dict:
    response = client.get(f"{API}/exchange/inbox/{item_id}", headers=as_user("clerk"))
    assert response.status_code == 200, response.text
    return response.json()


def item_form(browser: TestClient, item_id: int) -> dict[str, str]:
    """The register form's fields as the page prefilled them, and its CSRF token."""
    html = browser.get(f"/console/inbox/{item_id}").text
    form = html[html.index('id="register-form"'):html.index("</form>", html.index('id="register-form"'))]
    fields = dict(re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*? value="([^"]*)"', form))
    fields.update(re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', form))
    fields["csrf_token"] = csrf_of(html)
    return fields


def test_a_clerk_registers_a_signed_message_and_lands_on_its_document(app: FastAPI, client, as_user, authority):
    signed = sign_pdf(one_page_pdf("CV dien tu"), authority.leaf("Bùi Văn Giang"), authority)
    item = deliver(client, as_user, document_message(attachments=[("CV-125.pdf", "application/pdf", signed)]))
    browser = sign_in(app, "clerk")

    listed = browser.get("/console/inbox")
    assert listed.status_code == 200
    assert f'data-inbox-id="{item["id"]}"' in listed.text
    assert "125/VPCP-TCCV" in listed.text and "Văn phòng Chính phủ" in listed.text
    assert f'href="/console/inbox/{item["id"]}"' in listed.text

    shown = browser.get(f"/console/inbox/{item['id']}")
    assert shown.status_code == 200
    main = main_of(shown.text)
    assert 'id="symbol">125/VPCP-TCCV<' in main
    assert 'id="document-date">20/11/2026<' in main and 'id="due-date">30/12/2026<' in main
    assert "V/v triển khai kết nối liên thông văn bản điện tử" in main
    assert SENDER in main and "Khẩn" in main  # priority 1: urgent
    assert "CV-125.pdf" in main
    assert 'data-signature-status="valid"' in main and "Chữ ký hợp lệ" in main  # the document page's label
    assert "Bùi Văn Giang" in main
    assert 'id="signature-warnings"' not in main  # validly signed: nothing to warn of

    fields = item_form(browser, item["id"])
    assert fields["symbol"] == "125/VPCP-TCCV" and fields["document_date"] == "20/11/2026"
    fields["summary"] = "Triển khai kết nối liên thông (văn thư sửa)"
    answer = browser.post(f"/console/inbox/{item['id']}/register", data=fields)
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    found = re.fullmatch(r"/console/documents/(\d+)", location.path)
    assert found and parse_qs(location.query) == {"registered": ["1"]}  # no warning
    document_id = int(found.group(1))

    landed = browser.get(answer.headers["location"])
    assert landed.status_code == 200
    assert 'id="registered"' in landed.text and 'id="arrival-number">1<' in landed.text
    assert "Triển khai kết nối liên thông (văn thư sửa)" in landed.text
    assert "CV-125.pdf" in landed.text and 'data-signature-status="valid"' in landed.text

    # the service's effect, through the API
    document = client.get(f"{API}/incoming-documents/{document_id}", headers=as_user("clerk")).json()
    assert document["channel"] == "electronic" and document["arrival_number"] == 1
    assert document["summary"] == "Triển khai kết nối liên thông (văn thư sửa)"
    after = api_item(client, as_user, item["id"])
    assert after["state"] == "registered" and after["document_id"] == document_id
    # no longer waiting; the item's page says where it went and offers no form
    assert f'data-inbox-id="{item["id"]}"' not in browser.get("/console/inbox").text
    decided = browser.get(f"/console/inbox/{item['id']}").text
    assert f'href="/console/documents/{document_id}" id="registered-document"' in decided
    assert 'id="register-form"' not in decided and 'id="refuse-form"' not in decided
    assert f'data-inbox-id="{item["id"]}"' in browser.get("/console/inbox?state=registered").text


def test_an_unsigned_main_pdf_is_warned_of_before_and_after_registering(app: FastAPI, client, as_user):
    item = deliver(client, as_user, document_message(attachments=[("CV.pdf", "application/pdf",
                                                                   one_page_pdf("unsigned"))]))
    browser = sign_in(app, "clerk")
    shown = browser.get(f"/console/inbox/{item['id']}").text
    assert 'data-signature-status="unsigned"' in shown and "Không có chữ ký số" in shown
    assert 'id="signature-warnings"' in shown and 'data-code="signature.main_unsigned"' in shown
    answer = browser.post(f"/console/inbox/{item['id']}/register", data=item_form(browser, item["id"]))
    assert answer.status_code == 303, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query == {"registered": ["1"], "warning": ["signature.main_unsigned"]}  # as the API's warnings say
    landed = browser.get(answer.headers["location"]).text  # the document page says it too
    assert 'data-warning="signature.main_unsigned"' in landed
    assert "Tệp chính của văn bản không có chữ ký số." in landed
    decided = browser.get(f"/console/inbox/{item['id']}").text  # and the item's page still says it
    assert 'data-code="signature.main_unsigned"' in decided and 'id="registered-document"' in decided


def test_the_register_form_shows_errors_next_to_fields_and_keeps_what_was_typed(app: FastAPI, client, as_user):
    item = deliver(client, as_user, document_message())
    browser = sign_in(app, "clerk")
    fields = item_form(browser, item["id"])
    answer = browser.post(f"/console/inbox/{item['id']}/register", data={**fields, "page_count": "0",
                                                                           "summary": "Trích yếu đã sửa"})
    assert answer.status_code == 422
    assert 'id="page_count-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert "Trích yếu đã sửa" in answer.text
    future = browser.post(f"/console/inbox/{item['id']}/register", data={**fields, "document_date": "2999-01-01"})
    assert future.status_code == 422 and 'id="document_date-error"' in future.text  # the service's refusal
    assert api_item(client, as_user, item["id"])["state"] == "received"


def test_a_probable_duplicate_is_named_refused_then_registered_again(app: FastAPI, client, as_user):
    paper = client.post(f"{API}/incoming-documents", headers=as_user("clerk"), json=document_body(
        symbol="125/VPCP-TCCV", document_date="2026-11-20", issuer="Văn phòng Chính phủ",
        received_at="2026-11-21T08:00:00+07:00"))
    assert paper.status_code == 201, paper.text
    item = deliver(client, as_user, document_message())
    browser = sign_in(app, "clerk")
    shown = browser.get(f"/console/inbox/{item['id']}").text
    assert 'id="duplicate-found"' in shown and f"/console/documents/{paper.json()['id']}" in shown
    fields = item_form(browser, item["id"])
    refused = browser.post(f"/console/inbox/{item['id']}/register", data=fields)
    assert refused.status_code == 409 and 'id="duplicate-refused"' in refused.text
    again = browser.post(f"/console/inbox/{item['id']}/register", data={**fields, "allow_duplicate": "true"})
    assert again.status_code == 303
    assert api_item(client, as_user, item["id"])["state"] == "registered"


def test_refusing_returns_it_to_the_sender(app: FastAPI, client, as_user):
    item = deliver(client, as_user, document_message(to=("000.00.00.H14",)))
    browser = sign_in(app, "clerk")
    shown = browser.get(f"/console/inbox/{item['id']}").text
    assert 'data-code="exchange.not_addressed_to_us"' in shown
    empty = browser.post(f"/console/inbox/{item['id']}/refuse", data={"reason": " ", "csrf_token": csrf_of(shown)})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    assert '<details id="refuse" open>' in empty.text
    answer = browser.post(f"/console/inbox/{item['id']}/refuse",
                          data={"reason": "Gửi nhầm cơ quan", "csrf_token": csrf_of(shown)})
    assert answer.status_code == 303 and answer.headers["location"] == f"/console/inbox/{item['id']}?refused=1"
    page = browser.get(answer.headers["location"]).text
    assert 'id="refused"' in page and 'data-state="refused"' in page
    assert 'id="decision-reason">Gửi nhầm cơ quan<' in page
    after = api_item(client, as_user, item["id"])
    assert after["state"] == "refused" and after["decision_reason"] == "Gửi nhầm cơ quan"
    outbox = client.get(f"{API}/exchange/outbox", headers=as_user("admin")).json()["items"]
    assert any(o["status_code"] == "02" and o["inbox_id"] == item["id"] and "Gửi nhầm cơ quan" in o["description"]
               for o in outbox)
    # decided already: the service's refusal, shown on the form
    twice = browser.post(f"/console/inbox/{item['id']}/refuse", data={"reason": "Lần nữa", "csrf_token": csrf_of(shown)})
    assert twice.status_code == 409 and 'role="alert"' in twice.text
    assert api_item(client, as_user, item["id"])["decision_reason"] == "Gửi nhầm cơ quan"


def test_the_inbox_is_for_clerks(app: FastAPI, client, as_user):
    item = deliver(client, as_user, document_message())
    specialist = sign_in(app, "specialist")
    assert specialist.get("/console/inbox").status_code == 403
    assert specialist.get(f"/console/inbox/{item['id']}").status_code == 403
    assert "text/html" in specialist.get("/console/inbox").headers["content-type"]
    csrf = page_csrf(specialist)
    assert specialist.post(f"/console/inbox/{item['id']}/register", data={"csrf_token": csrf}).status_code == 403
    assert specialist.post(f"/console/inbox/{item['id']}/refuse",
                           data={"reason": "không phải việc của tôi", "csrf_token": csrf}).status_code == 403
    assert 'href="/console/inbox"' not in specialist.get("/console/").text  # not in their menu either
    assert api_item(client, as_user, item["id"])["state"] == "received"


def test_forms_without_their_csrf_token_are_refused_and_decide_nothing(app: FastAPI, client, as_user):
    item = deliver(client, as_user, document_message())
    browser = sign_in(app, "clerk")
    fields = item_form(browser, item["id"])
    del fields["csrf_token"]
    assert browser.post(f"/console/inbox/{item['id']}/register", data=fields).status_code == 403
    assert browser.post(f"/console/inbox/{item['id']}/refuse", data={"reason": "x"}).status_code == 403
    other = sign_in(app, "secret_clerk")  # another session's token does not pass
    assert other.post(f"/console/inbox/{item['id']}/refuse",
                      data={"reason": "x", "csrf_token": page_csrf(browser)}).status_code == 403
    assert api_item(client, as_user, item["id"])["state"] == "received"


def test_an_item_that_is_not_there_is_a_404_page(app: FastAPI, client, as_user):
    browser = sign_in(app, "clerk")
    missing = browser.get("/console/inbox/999999")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert client.get(f"{API}/exchange/inbox/999999", headers=as_user("clerk")).status_code == 404  # as the API
    assert browser.get("/console/inbox/abc").status_code == 404
    assert browser.get("/console/inbox/0").status_code == 404
    csrf = page_csrf(browser)
    assert browser.post("/console/inbox/999999/refuse", data={"reason": "x", "csrf_token": csrf}).status_code == 404
    assert browser.post("/console/inbox/999999/register", data={"csrf_token": csrf}).status_code == 404


def test_the_inbox_is_searched_and_paged_by_state(app: FastAPI, client, as_user):
    first = deliver(client, as_user, document_message())
    second = deliver(client, as_user, document_message(
        document_id=f"{SENDER},2026/11/21,7/VPCP", number="7", notation="VPCP", subject="V/v báo cáo tài chính",
        attachments=[("BC.pdf", "application/pdf", pdf_bytes("bc"))]))
    browser = sign_in(app, "clerk")
    listed = browser.get("/console/inbox").text
    assert listed.index(f'data-inbox-id="{second["id"]}"') < listed.index(f'data-inbox-id="{first["id"]}"')
    found = browser.get("/console/inbox", params={"q": "bao cao tai chinh"}).text  # without diacritics
    assert f'data-inbox-id="{second["id"]}"' in found and f'data-inbox-id="{first["id"]}"' not in found
    assert 'id="inbox-empty"' in browser.get("/console/inbox?state=refused").text


def test_a_revocation_and_a_recall_request_are_shown_and_registering_them_is_the_services_refusal(
        app: FastAPI, client, as_user):
    original = deliver(client, as_user, document_message())
    registered = client.post(f"{API}/exchange/inbox/{original['id']}/register", json={}, headers=as_user("clerk"))
    assert registered.status_code == 201, registered.text
    document_id = registered.json()["id"]
    revoke = deliver(client, as_user, document_message(business="1", subject="Thu hồi công văn 125"))
    recall = deliver(client, as_user, status_13(original["edxml_document_id"]))
    browser = sign_in(app, "clerk")
    listed = browser.get("/console/inbox").text
    assert f'data-inbox-id="{revoke["id"]}"' in listed and f'data-inbox-id="{recall["id"]}"' in listed
    assert '<span class="notice-tag">Thu hồi</span>' in listed
    assert '<span class="notice-tag">Đề nghị thu hồi</span>' in listed
    shown = browser.get(f"/console/inbox/{recall['id']}")
    assert shown.status_code == 200 and "Gửi nhầm, đề nghị trả lại" in shown.text  # the sender's reason
    assert f'href="/console/documents/{document_id}"' in shown.text  # the document it names
    page = browser.get(f"/console/inbox/{revoke['id']}").text
    assert 'id="register-form"' not in page and 'id="accept-form"' in page  # not offered …
    answer = browser.post(f"/console/inbox/{revoke['id']}/register", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 409 and 'role="alert"' in answer.text  # … and refused by the service if sent
    assert api_item(client, as_user, revoke["id"])["state"] == "received"
    english = browser.get(f"/console/inbox/{revoke['id']}", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text and "Revocation" in english.text


def test_a_revocation_is_accepted_and_an_update_rejected_through_their_forms(app: FastAPI, client, as_user):
    """A change of a registered document offers accept and reject (never register); the forms call
    the API's accept and reject: the revocation recalls the document, the rejection keeps it."""
    original = deliver(client, as_user, document_message())
    browser = sign_in(app, "clerk")
    fields = item_form(browser, original["id"])
    registered = browser.post(f"/console/inbox/{original['id']}/register", data=fields)
    document_id = int(re.search(r"/console/documents/(\d+)", registered.headers["location"]).group(1))

    update = deliver(client, as_user, document_message(business="2", subject="V/v kết nối (cập nhật)", due="2027/01/15"))
    page = browser.get(f"/console/inbox/{update['id']}").text
    assert 'id="accept-form"' in page and 'id="reject-form"' in page and 'id="register-form"' not in page
    empty = browser.post(f"/console/inbox/{update['id']}/reject", data={"reason": "", "csrf_token": csrf_of(page)})
    assert empty.status_code == 422 and '<details id="reject" open>' in empty.text
    rejected = browser.post(f"/console/inbox/{update['id']}/reject",
                            data={"reason": "Đã xử lý theo bản cũ", "csrf_token": csrf_of(page)})
    assert rejected.status_code == 303
    assert 'id="decided"' in browser.get(rejected.headers["location"]).text
    assert api_item(client, as_user, update["id"])["state"] == "rejected"

    revoke = deliver(client, as_user, document_message(business="1", subject="Thu hồi công văn 125"))
    page = browser.get(f"/console/inbox/{revoke['id']}").text
    assert browser.post(f"/console/inbox/{revoke['id']}/accept", data={"comment": ""}).status_code == 403  # no CSRF
    accepted = browser.post(f"/console/inbox/{revoke['id']}/accept",
                            data={"comment": "Theo đề nghị", "csrf_token": csrf_of(page)})
    assert accepted.status_code == 303
    assert api_item(client, as_user, revoke["id"])["state"] == "accepted"
    recalled = client.get(f"{API}/incoming-documents/{document_id}", headers=as_user("clerk")).json()
    assert recalled["state"] == "recalled"
    # a new document offers register and refuse, never accept
    fresh = deliver(client, as_user, document_message(document_id=f"{SENDER},2026/11/26,140/VPCP-TCCV",
                                                      number="140", date="2026/11/26"))
    page = browser.get(f"/console/inbox/{fresh['id']}").text
    assert 'id="register-form"' in page and 'id="refuse-form"' in page and 'id="accept-form"' not in page
    wrong = browser.post(f"/console/inbox/{fresh['id']}/accept", data={"csrf_token": csrf_of(page)})
    assert wrong.status_code == 409 and 'role="alert"' in wrong.text  # the service's refusal, shown on the page
