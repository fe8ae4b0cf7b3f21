"""The web console in a real Chromium: a document's whole journey, screen by screen.

A clerk registers a paper document through the form and sees its arrival number; the form warns
of a duplicate before it is sent; the office leader proposes it, the leader directs it (VP lead
in 5 working days, VPB cooperating), VP's unit leader assigns it, the specialist completes it. At
every step the document is on the next person's work list and off the previous one's, and the
document page's slip shows the step. The slip prints (Chromium's PDF has the slip's sections). A
user of an unassigned unit gets a 404 page for a confidential document; a form without its CSRF
token is refused. Pages load nothing but the app, at 1366×768 and at 390 px.

``CONGVAN_SCREENSHOTS=1`` also writes the README's screenshots (docs/screenshots/).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from tests.browser import Visit, launched, visiting
from tests.conftest import PASSWORD, SECRET_REGISTER, LiveServer, start_server

pytestmark = pytest.mark.browser

HOST = "congvan.agency.test"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched(HOST) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def server(settings: Settings, staff: dict[str, str]) -> Iterator[LiveServer]:
    # the server is the agency the test messages are addressed to, as the in-process app is
    previous = os.environ.get("CONGVAN_ORGAN_ID")
    os.environ["CONGVAN_ORGAN_ID"] = settings.organ_id
    try:
        live = start_server(settings)
    finally:
        if previous is None:
            os.environ.pop("CONGVAN_ORGAN_ID")
        else:
            os.environ["CONGVAN_ORGAN_ID"] = previous
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


@pytest.fixture(scope="module")
def base_url(server: LiveServer) -> str:
    return f"http://{HOST}:{urlsplit(server.base_url).port}"


@contextmanager
def signed_in(browser: Any, base_url: str, username: str, viewport: dict[str, int] = DESKTOP) -> Iterator[Visit]:
    with visiting(browser, base_url, viewport=viewport, locale="vi-VN") as visit:
        page = visit.page
        page.goto(f"{base_url}/console/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(f"{base_url}/console/")
        yield visit
        visit.assert_self_contained()


def screenshot(page: Any, name: str) -> None:
    if os.environ.get("CONGVAN_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def on_work_list(visit: Visit, base_url: str, document_id: int) -> bool:
    visit.page.goto(f"{base_url}/console/")
    return visit.page.locator(f'#work-list tr[data-document-id="{document_id}"]').count() == 1


def take(visit: Visit, base_url: str, document_id: int, action: str, fill: dict[str, str] | None = None,
         select: dict[str, str] | None = None) -> None:
    """Open the document, open the action's form, fill it, send it: back on the document page."""
    page = visit.page
    page.goto(f"{base_url}/console/documents/{document_id}")
    details = page.locator(f"#action-{action}")
    details.locator("summary").click()
    form = details.locator("form")
    for name, value in (select or {}).items():
        form.locator(f'[name="{name}"]').select_option(value)
    for name, value in (fill or {}).items():
        form.locator(f'[name="{name}"]').fill(value)
    form.locator('button[type="submit"]').click()
    page.wait_for_url(f"{base_url}/console/documents/{document_id}")
    assert page.locator(".error").count() == 0, page.locator(".error").all_inner_texts()


def slip_text(visit: Visit, section: str) -> str:
    return visit.page.locator(f"#slip-{section}").inner_text()


def register_paper(visit: Visit, base_url: str, **values: str) -> int:
    page = visit.page
    page.goto(f"{base_url}/console/documents/new")
    for name, value in values.items():
        field = page.locator(f'#register-form [name="{name}"]')
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_role("button", name="Vào sổ và lấy số đến").click()
    page.wait_for_url(re.compile(r".*/console/documents/\d+\?registered=1$"))
    return int(re.search(r"/documents/(\d+)", page.url).group(1))


SEED = {"symbol": "08/BC-BCĐ", "document_date": "12/08/2013",
        "issuer": "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương",
        "summary": "Báo cáo sơ kết 02 năm thực hiện Quyết định số 721/QĐ-UBND",
        "urgency": "urgent"}


def test_a_document_travels_the_slip_through_the_console(browser: Any, base_url: str) -> None:
    with signed_in(browser, base_url, "clerk") as clerk:
        screenshot(clerk.page, "work-list-empty")
        document_id = register_paper(clerk, base_url, **SEED)
        page = clerk.page
        assert page.locator("#registered").is_visible()
        number = page.locator("#arrival-number").inner_text()
        assert re.fullmatch(r"\d+", number)
        assert number in page.locator("#registered").inner_text()
        screenshot(page, "document-registered")

        # the same document again: warned while the form is being filled, before it is sent
        page.goto(f"{base_url}/console/documents/new")
        for name in ("symbol", "issuer", "document_date"):
            page.locator(f'#register-form [name="{name}"]').fill(SEED[name])
        page.locator('#register-form [name="summary"]').focus()  # leaving the date field fires its change
        warning = page.locator("#duplicate-found")
        warning.wait_for()
        assert f"{number}/" in warning.inner_text()
        assert warning.locator("a").get_attribute("href") == f"/console/documents/{document_id}"
        screenshot(page, "register-duplicate-warning")

        assert on_work_list(clerk, base_url, document_id)
        take(clerk, base_url, document_id, "submit")
        assert not on_work_list(clerk, base_url, document_id)

    with signed_in(browser, base_url, "office_leader") as office:
        assert on_work_list(office, base_url, document_id)
        screenshot(office.page, "work-list")
        take(office, base_url, document_id, "propose", select={"to_username": "leader"},
             fill={"comment": "Kính trình Lãnh đạo Bộ cho ý kiến"})
        assert "Kính trình Lãnh đạo Bộ cho ý kiến" in slip_text(office, "office_opinions")
        assert not on_work_list(office, base_url, document_id)

    with signed_in(browser, base_url, "leader") as leader:
        assert on_work_list(leader, base_url, document_id)
        page = leader.page
        page.goto(f"{base_url}/console/documents/{document_id}")
        page.locator("#action-direct summary").click()
        form = page.locator("#action-direct form")
        form.locator('select[data-unit="VP"]').select_option("lead")
        form.locator('input[data-unit="VP"]').fill("5")
        form.locator('select[data-unit="VPB"]').select_option("cooperate")
        form.locator('[name="comment"]').fill("Giao Văn phòng chủ trì, Văn phòng Ban phối hợp")
        screenshot(page, "direct-form")
        form.locator('button[type="submit"]').click()
        page.wait_for_url(f"{base_url}/console/documents/{document_id}")
        direction = slip_text(leader, "leadership_directions")
        assert "Giao Văn phòng chủ trì" in direction
        assert "Văn phòng: chủ trì" in direction and "Văn phòng Ban: phối hợp" in direction
        assert not on_work_list(leader, base_url, document_id)

    with signed_in(browser, base_url, "unit_leader_vp") as unit_leader:
        assert on_work_list(unit_leader, base_url, document_id)
        take(unit_leader, base_url, document_id, "assign", select={"assignee_username": "specialist"},
             fill={"comment": "Đề nghị đồng chí nghiên cứu, tham mưu"})
        assert "Đề nghị đồng chí nghiên cứu" in slip_text(unit_leader, "unit_directions")
        assert not on_work_list(unit_leader, base_url, document_id)

    with signed_in(browser, base_url, "specialist", viewport=PHONE) as specialist:
        assert on_work_list(specialist, base_url, document_id)
        fits(specialist.page, PHONE["width"])
        screenshot(specialist.page, "work-list-phone")
        take(specialist, base_url, document_id, "complete", fill={"comment": "Đã tham mưu văn bản trả lời"})
        fits(specialist.page, PHONE["width"])
        assert "Đã tham mưu văn bản trả lời" in slip_text(specialist, "handler_results")
        assert not on_work_list(specialist, base_url, document_id)
        screenshot(specialist.page, "document-phone")

    with signed_in(browser, base_url, "clerk") as clerk:
        assert on_work_list(clerk, base_url, document_id)  # resolved: the clerk files it
        page = clerk.page
        page.goto(f"{base_url}/console/documents/{document_id}")
        assert page.locator("#state").inner_text() == "Đã giải quyết"
        screenshot(page, "document-slip")
        fits(page, DESKTOP["width"])


def fits(page: Any, width: int) -> None:
    """Nothing sticks out sideways: the page scrolls only down."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_slip_prints_with_its_sections(browser: Any, base_url: str) -> None:
    from pypdf import PdfReader

    with signed_in(browser, base_url, "clerk") as clerk:
        document_id = register_paper(clerk, base_url, **{**SEED, "symbol": "21/BC-UBND"})
        page = clerk.page
        page.goto(f"{base_url}/console/documents/{document_id}/slip")
        # the slip's numbered sections, as the page shows them ("1. Tóm tắt …", …, "5. Kết quả xử lý:")
        sections = [line.strip() for line in page.locator("body").inner_text().splitlines()
                    if re.match(r"\s*[1-5]\.\s", line)]
        assert len(sections) >= 5, sections
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", print_background=True)
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 1
        # the PDF's text layer spaces out combined Vietnamese letters: compare without spaces
        printed = re.sub(r"\s+", "", " ".join((p.extract_text() or "") for p in reader.pages)).casefold()
        for wanted in ["PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN", "21/BC-UBND", *sections]:
            assert re.sub(r"\s+", "", wanted).casefold() in printed, (wanted, printed[:300])


def test_confidential_is_a_404_page_and_a_form_without_csrf_is_refused(browser: Any, base_url: str) -> None:
    with signed_in(browser, base_url, "secret_clerk") as clerk:
        document_id = register_paper(clerk, base_url, register_code=SECRET_REGISTER, confidentiality="confidential",
                                     symbol="12/MT-BQP", document_date="02/09/2013", issuer="Bộ Quốc phòng",
                                     summary="Về công tác bảo vệ bí mật nhà nước")
        page = clerk.page
        page.goto(f"{base_url}/console/documents/{document_id}")
        # a form whose CSRF token is gone (as a page of another site would send it): refused
        page.locator("#action-submit summary").click()
        page.locator('#action-submit input[name="csrf_token"]').evaluate("el => el.remove()")
        with page.expect_response(lambda r: r.url.endswith("/actions")) as answer:
            page.locator('#action-submit button[type="submit"]').click()
        assert answer.value.status == 403
        page.goto(f"{base_url}/console/documents/{document_id}")
        assert page.locator("#state").inner_text() == "Đã vào sổ"  # nothing applied

    with signed_in(browser, base_url, "unit_leader_ttd") as outsider:
        response = outsider.page.goto(f"{base_url}/console/documents/{document_id}")
        assert response is not None and response.status == 404
        assert "12/MT-BQP" not in outsider.page.content()
        assert outsider.page.locator("h1").inner_text()  # a page for a person, not JSON
        screenshot(outsider.page, "not-found")


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


def test_keyboard_only_and_every_field_labelled(browser: Any, base_url: str) -> None:
    """Logging in with the keyboard alone (Tab, typing, Enter); the first Tab reaches the skip link;
    every field of the register form and of the leader's direction form has a label."""
    with visiting(browser, base_url, viewport=DESKTOP) as visit:
        page = visit.page
        page.goto(f"{base_url}/console/login")
        assert page.evaluate("document.activeElement.id") == "username"  # the form takes the focus
        page.keyboard.type("clerk")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base_url}/console/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.goto(f"{base_url}/console/documents/new")
        assert page.evaluate(UNLABELLED) == []
        visit.assert_self_contained()
    with signed_in(browser, base_url, "clerk") as clerk:
        document_id = register_paper(clerk, base_url, **{**SEED, "symbol": "33/TB-VP"})
        take(clerk, base_url, document_id, "submit")
    with signed_in(browser, base_url, "leader") as leader:
        page = leader.page
        page.goto(f"{base_url}/console/documents/{document_id}")
        for summary in page.locator(".actions summary").all():
            summary.click()
        assert page.locator("#action-direct").count() == 1
        assert page.evaluate(UNLABELLED) == []


# --- The clerk's electronic inbox and the auditor's charts ------------------------------------


@pytest.fixture(scope="module")
def authority(settings: Settings) -> Iterator[Any]:
    """A CA whose root the server trusts, for a validly signed PDF."""
    from tests.signature_helpers import trusted_authority

    with trusted_authority(settings.resolved_trust_dir, "Root CA kiểm thử trình duyệt") as authority:
        yield authority


def test_a_clerk_registers_an_electronic_document_from_the_inbox(browser: Any, base_url: str, server: LiveServer,
                                                                  authority) -> None:
    import httpx

    from tests.exchange_helpers import XML, document_message
    from tests.signature_helpers import one_page_pdf, sign_pdf

    # pyHanko signs through asyncio.run, and Playwright's loop runs on this thread: sign on another
    with ThreadPoolExecutor(1) as pool:
        signed = pool.submit(sign_pdf, one_page_pdf("Cong van dien tu"), authority.leaf("Bùi Văn Giang"),
                             authority).result()
    # the hub delivers it to the running server, as the national hub would
    with httpx.Client(base_url=server.base_url, timeout=30) as hub:
        token = hub.post("/api/v1/auth/token", data={"username": "hub", "password": PASSWORD}).json()["access_token"]
        delivered = hub.post("/api/v1/exchange/messages", headers={"Authorization": f"Bearer {token}", **XML},
                             content=document_message(attachments=[("CV-125.pdf", "application/pdf", signed)]))
    assert delivered.status_code == 201, delivered.text
    item_id = delivered.json()["id"]
    with signed_in(browser, base_url, "clerk") as clerk:
        page = clerk.page
        page.goto(f"{base_url}/console/inbox")
        page.locator(f'a[href="/console/inbox/{item_id}"]').first.click()
        page.wait_for_url(f"{base_url}/console/inbox/{item_id}")
        status = page.locator('[data-signature-status]').first
        assert status.get_attribute("data-signature-status") == "valid"
        assert status.inner_text() == "Chữ ký hợp lệ"
        screenshot(page, "inbox-item")
        page.locator('#register-form button[type="submit"]').click()
        page.wait_for_url(re.compile(r".*/console/documents/\d+\?registered=1$"))
        assert page.locator("#registered").is_visible()
        assert re.fullmatch(r"\d+", page.locator("#arrival-number").inner_text())
        landed = page.locator("#attachments [data-signature-status]").first
        assert landed.get_attribute("data-signature-status") == "valid"
        assert "Bùi Văn Giang" in page.locator("#attachments").inner_text()


STAFF_FOR_DEMO = {"vanthu": "clerk", "chanhvp": "office_leader", "anhhong": "leader", "truongvp": "unit_leader_vp",
                  "chuyenvien": "specialist"}


@pytest.fixture
def seed_year(engine, staff) -> int:
    """The seed document of 2013 walked along its paper slip (app.services.demo's route, dated as on
    the paper), by the test staff, then completed by the specialist on 28/08/2013."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pydantic import TypeAdapter

    from app.db import make_sessionmaker
    from app.schemas.workflow import ActionRequest
    from app.services import organisation as org
    from app.services.demo import SEED_DOCUMENT, SEED_ROUTE
    from app.services.documents import register_document
    from app.services.workflow import apply_action

    hcm, utc = ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("UTC")
    adapter: TypeAdapter = TypeAdapter(ActionRequest)
    route = [*SEED_ROUTE, ("chuyenvien", datetime(2013, 8, 28, 16, tzinfo=hcm),
                           {"action": "complete", "comment": "Đã tổng hợp báo cáo"})]
    with make_sessionmaker(engine)() as session:
        user = {name: org.get_user(session=session, username=name) for name in STAFF_FOR_DEMO.values()}
        document = register_document(session=session, actor=user["clerk"], data=SEED_DOCUMENT,
                                     now=datetime(2013, 8, 15, 8, 40, tzinfo=hcm).astimezone(utc), tz=hcm).document
        for username, at, body in route:
            if body.get("to_username"):
                body = {**body, "to_username": STAFF_FOR_DEMO[body["to_username"]]}
            if body.get("assignee_username"):
                body = {**body, "assignee_username": STAFF_FOR_DEMO[body["assignee_username"]]}
            apply_action(session=session, user=user[STAFF_FOR_DEMO[username]], document_id=document.id,
                         request=adapter.validate_python(body), now=at.astimezone(utc), tz=hcm)
        session.commit()
        return document.id


def test_the_auditors_page_draws_the_seed_years_charts(browser: Any, base_url: str, seed_year: int) -> None:
    with signed_in(browser, base_url, "auditor") as auditor:
        page = auditor.page
        page.goto(f"{base_url}/console/audit")
        page.locator("#from").fill("01/01/2013")
        page.locator("#to").fill("31/12/2013")
        page.locator('form[action="/console/audit"] button[type="submit"]').click()
        page.wait_for_url(re.compile(r".*/console/audit\?from=01%2F01%2F2013&to=31%2F12%2F2013$"))
        for chart in ("processing-time", "on-time-rate", "overdue"):
            figure = page.locator(f"figure#{chart}")
            assert figure.locator("svg").is_visible(), chart
        # the seed document: VP led it, resolved on 28/08/2013 within its deadline of 30/08
        assert page.locator("figure#processing-time svg rect.bar").count() >= 1
        assert "Văn phòng" in page.locator("figure#processing-time").inner_text()
        assert page.locator("figure#on-time-rate svg rect.bar").count() >= 1
        assert "08/2013" in page.locator("figure#on-time-rate").inner_text()
        screenshot(page, "audit")
