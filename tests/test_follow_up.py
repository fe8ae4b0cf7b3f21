"""Follow-up: notifications, the day's reminder scan with the clock moved, digests to a real SMTP
server (aiosmtpd), signed webhooks to a real HTTP receiver, several workers at once."""

from __future__ import annotations

import email
import json
import threading
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook as Verifier

from app.db import make_sessionmaker
from app.models import Digest, Notification, Unit, User, UserRole, Webhook, WebhookDelivery
from app.models.base import utcnow
from app.services import follow_up, notifications, webhooks
from tests.conftest import _free_port
from tests.workflow_helpers import act, document_in

API = "/api/v1"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = "2027-02-11"  # the first working day after Tết 2027 (4–10 February off)


def at(day: str, hour: int = 7, minute: int = 31) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=HCM)


def _notices(engine, username: str | None = None, kind: str | None = None) -> list[Notification]:
    with make_sessionmaker(engine)() as session:
        query = select(Notification).join(User, User.id == Notification.user_id).order_by(Notification.id)
        if username:
            query = query.where(User.username == username)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query))


def _directed(client, as_user, **assignment) -> dict:
    doc = document_in(client, as_user, "leadership_review")
    response = act(client, as_user, doc["id"], "leader", "direct", comment="Giao VP chủ trì",
                   assignments=[{"unit_code": "VP", "role": "lead", **assignment}])
    assert response.status_code == 200, response.text
    return response.json()


def test_a_direction_tells_the_units_leader_and_nobody_else(client, as_user, engine):
    doc = _directed(client, as_user, due_in_working_days=5)
    assigned = _notices(engine, kind="assigned")
    with make_sessionmaker(engine)() as session:
        recipients = {session.get(User, n.user_id).username for n in assigned}
        vp_leaders = set(session.scalars(  # other tests' fixtures (the demo, the generator) add some
            select(User.username).join(UserRole, UserRole.user_id == User.id).join(Unit, Unit.id == User.unit_id)
            .where(Unit.code == "VP", UserRole.role == "unit_leader", User.is_active.is_(True))))
    assert "unit_leader_vp" in recipients and recipients == vp_leaders
    feed = client.get(f"{API}/me/notifications", headers=as_user("unit_leader_vp")).json()
    assert feed["total"] == 1 and feed["items"][0]["kind"] == "assigned"
    assert feed["items"][0]["document_id"] == doc["id"] and feed["items"][0]["read"] is False
    assert client.get(f"{API}/me/notifications", headers=as_user("unit_leader_ttd")).json()["total"] == 0
    assert [n.kind for n in _notices(engine, "clerk")] == ["directed"]  # who registered it
    lead = doc["assignments"][0]
    act(client, as_user, doc["id"], "unit_leader_vp", "assign", assignment_id=lead["id"],
        assignee_username="specialist")
    assert [n.kind for n in _notices(engine, "specialist")] == ["assigned"]
    notice_id = feed["items"][0]["id"]
    assert client.post(f"{API}/me/notifications/{notice_id}/read", headers=as_user("unit_leader_ttd")).status_code == 404
    assert client.post(f"{API}/me/notifications/{notice_id}/read",
                       headers=as_user("unit_leader_vp")).json() == {"marked_read": 1}
    assert client.get(f"{API}/me/notifications?unread=true", headers=as_user("unit_leader_vp")).json()["total"] == 0


def test_a_confidential_documents_notices_reach_only_those_cleared(client, as_user, engine):
    doc = document_in(client, as_user, "registered", clerk="secret_clerk", register_code="mat",
                      confidentiality="confidential")
    with make_sessionmaker(engine)() as session:
        ids = {username: user_id for username, user_id in session.execute(select(User.username, User.id))}
        made = notifications.notify(session=session, user_ids=[ids["secret_clerk"], ids["clerk"],
                                                                ids["unit_leader_ttd"]],
                                    kind="recalled", day=utcnow().date(), text="x", now=utcnow(),
                                    document_id=doc["id"])
        session.commit()
    assert made == 1
    assert [n.kind for n in _notices(engine, "secret_clerk")] == ["recalled"]
    assert _notices(engine, "clerk") == [] and _notices(engine, "unit_leader_ttd") == []


@pytest.fixture
def config() -> follow_up.FollowUpConfig:
    return follow_up.FollowUpConfig(tz=HCM, due_soon_days=2)


def test_due_soon_and_overdue_across_a_weekend_and_tet(client, as_user, engine, config):
    doc = _directed(client, as_user, due_date=DEADLINE)
    factory = make_sessionmaker(engine)
    assert follow_up.run_daily_scan(factory, config, now=at("2027-02-01")) == 0  # Mon: the 11th is 3 working days off
    assert follow_up.run_daily_scan(factory, config, now=at("2027-02-02", 7, 0)) is None  # before 07:30
    assert follow_up.run_daily_scan(factory, config, now=at("2027-02-02")) == 1  # Tue: Wed 3, Thu 11 (Tết between)
    assert follow_up.run_daily_scan(factory, config, now=at("2027-02-02", 15)) is None  # once a day
    due_soon = _notices(engine, "unit_leader_vp", "due_soon")
    assert [(n.day.isoformat(), n.document_id) for n in due_soon] == [("2027-02-02", doc["id"])]
    for day in ("2027-02-07", "2027-02-08", "2027-02-10"):  # a Sunday and Tết
        assert follow_up.run_daily_scan(factory, config, now=at(day)) is None
    assert follow_up.run_daily_scan(factory, config, now=at("2027-02-12")) == 1  # the day after the deadline
    overdue = _notices(engine, "unit_leader_vp", "overdue")
    assert [n.day.isoformat() for n in overdue] == ["2027-02-12"]
    assert _notices(engine, "unit_leader_ttd") == []


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield mailbox, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def leader_with_mail(client, as_user):
    response = client.patch(f"{API}/users/unit_leader_vp", json={"email": "truong.vp@example.gov.vn"},
                            headers=as_user("admin"))
    assert response.status_code == 200, response.text
    yield "truong.vp@example.gov.vn"
    client.patch(f"{API}/users/unit_leader_vp", json={"email": None}, headers=as_user("admin"))


def test_one_digest_per_user_per_working_day_and_none_on_days_off(client, as_user, engine, smtp, leader_with_mail):
    mailbox, url = smtp
    config = follow_up.FollowUpConfig(tz=HCM, due_soon_days=2, smtp_url=url, mail_from="congvan@example.gov.vn")
    _directed(client, as_user, due_date=DEADLINE)
    factory = make_sessionmaker(engine)
    for day in ("2027-02-02", "2027-02-02", "2027-02-07", "2027-02-09"):  # twice on Tuesday; a Sunday; Tết
        follow_up.run_daily_scan(factory, config, now=at(day))
        follow_up.send_digests(factory, config, now=at(day, 8))
    assert len(mailbox.messages) == 1
    recipients, content = mailbox.messages[0]
    assert recipients == [leader_with_mail]
    text = _decoded(content)
    assert "Sắp đến hạn (1)" in text and "Quá hạn (0)" in text and "Kính gửi đồng chí Unit Leader Vp" in text
    with make_sessionmaker(engine)() as session:
        assert [(d.day.isoformat(), d.state) for d in session.scalars(select(Digest))] == [("2027-02-02", "sent")]


def _decoded(content: str) -> str:
    return email.message_from_string(content).get_payload(decode=True).decode("utf-8")


class Receiver:
    """A webhook receiver that verifies signatures; answers 500 to its first ``fail_first`` requests."""

    def __init__(self, secret: str | None = None, fail_first: int = 0) -> None:
        self.secret, self.fail_first, self.requests = secret, fail_first, 0
        self.events: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests += 1
                    failing = receiver.requests <= receiver.fail_first
                    if not failing:
                        headers = {k.lower(): v for k, v in self.headers.items()}
                        event = Verifier(receiver.secret).verify(body, headers) if receiver.secret else json.loads(body)
                        receiver.events.append({"id": headers["webhook-id"], **event})
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def private_targets_allowed(app, settings):
    app.state.settings = settings.model_copy(update={"webhook_allow_private": True})
    yield
    app.state.settings = settings


def test_a_loopback_target_is_refused_by_default(client, as_user):
    response = client.post(f"{API}/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["*"]},
                           headers=as_user("admin"))
    assert response.status_code == 422 and "private" in response.text
    assert client.post(f"{API}/webhooks", json={"url": "https://example.org/h", "events": ["nope"]},
                       headers=as_user("admin")).status_code == 422
    assert client.post(f"{API}/webhooks", json={"url": "https://example.org/h", "events": ["*"]},
                       headers=as_user("clerk")).status_code == 403


def test_a_receiver_failing_twice_gets_each_event_once_signed(client, as_user, engine, private_targets_allowed):
    receiver = Receiver(fail_first=2)
    try:
        created = client.post(f"{API}/webhooks", headers=as_user("admin"), json={
            "url": receiver.url, "events": ["document.directed", "assignment.assigned"], "description": "đối tác"})
        assert created.status_code == 201, created.text
        receiver.secret = created.json()["secret"]
        doc = _directed(client, as_user, due_in_working_days=3)
        act(client, as_user, doc["id"], "unit_leader_vp", "assign", assignment_id=doc["assignments"][0]["id"],
            assignee_username="specialist")
        factory = make_sessionmaker(engine)
        policy = webhooks.DeliveryPolicy(allow_private=True, retry_base_s=30)
        start = utcnow()
        assert webhooks.deliver_due(factory, policy, now=start) == 0  # both refused (500, 500)
        assert webhooks.deliver_due(factory, policy, now=start + timedelta(seconds=5)) == 0  # backing off
        assert webhooks.deliver_due(factory, policy, now=start + timedelta(seconds=31)) == 2
        assert webhooks.deliver_due(factory, policy, now=start + timedelta(hours=1)) == 0
    finally:
        receiver.close()
    assert sorted(e["type"] for e in receiver.events) == ["assignment.assigned", "document.directed"]
    assert len({e["id"] for e in receiver.events}) == 2
    assert all(e["data"]["document_id"] == doc["id"] for e in receiver.events)
    log = client.get(f"{API}/webhooks/{created.json()['id']}/deliveries", headers=as_user("admin")).json()
    assert {(d["state"], d["attempts"]) for d in log} == {("delivered", 2)}
    worker = client.get(f"{API}/admin/worker", headers=as_user("admin")).json()
    assert worker["webhooks"] == {"pending": 0, "failed": 0, "oldest_pending_at": None, "last_error": None}
    assert worker["exchange_outbox"]["pending"] == 0 and worker["last_reminder_scan"] is None


def test_several_workers_deliver_a_thousand_events_once_each(engine):
    receiver = Receiver()
    factory = make_sessionmaker(engine)
    with factory() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        hook = Webhook(owner_id=admin.id, url=receiver.url, events=["*"], secret="whsec_" + "A" * 44, active=True)
        session.add(hook)
        session.flush()
        now = utcnow()
        session.add_all(WebhookDelivery(webhook_id=hook.id, message_id=f"msg_{i}", event_type="document.registered",
                                        payload={"type": "document.registered", "data": {"n": i}}, state="pending",
                                        attempts=0, next_attempt_at=now, created_at=now) for i in range(1000))
        session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)
    policy = webhooks.DeliveryPolicy(allow_private=True, batch=25)

    def work() -> None:
        try:
            barrier.wait()
            while webhooks.deliver_due(factory, policy):
                pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        receiver.close()
    assert not errors, errors
    ids = [e["id"] for e in receiver.events]
    assert len(ids) == 1000 and len(set(ids)) == 1000
    with factory() as session:
        assert {d.state for d in session.scalars(select(WebhookDelivery))} == {"delivered"}


def test_an_informed_unit_is_reminded_only_while_the_document_is_open():
    from app.workflow.deadlines import reminds

    assert reminds("inform", "in_progress") and reminds("inform", "registered")
    assert not reminds("inform", "resolved") and not reminds("inform", "archived")
    assert reminds("cooperate", "resolved") and reminds("lead", "archived")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a test server on loopback
def test_digests_log_in_when_the_url_says_so(client, as_user, engine, leader_with_mail):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"Mat-khau-2027")

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        _directed(client, as_user, due_date=DEADLINE)
        factory = make_sessionmaker(engine)
        config = follow_up.FollowUpConfig(tz=HCM, smtp_url=f"smtp://van%20thu:Mat-khau-2027@127.0.0.1:{controller.port}")
        follow_up.run_daily_scan(factory, config, now=at("2027-02-02"))
        assert follow_up.send_digests(factory, config, now=at("2027-02-02", 8)) == 1
    finally:
        controller.stop()
    assert logins == [("van thu", "Mat-khau-2027")] and len(mailbox.messages) == 1


def test_a_users_email_drops_control_characters_like_every_text(client, as_user):
    response = client.patch(f"{API}/users/unit_leader_ttd", json={"email": "truong.ttd\u0000@example.gov.vn"},
                            headers=as_user("admin"))
    try:
        assert response.status_code == 200 and response.json()["email"] == "truong.ttd@example.gov.vn"
    finally:
        client.patch(f"{API}/users/unit_leader_ttd", json={"email": None}, headers=as_user("admin"))
