"""Registering an incoming document: numbering, validation, symbols, duplicates, idempotency."""

import unicodedata
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.db import make_sessionmaker
from app.models import DocumentEvent, IncomingDocument
from tests.conftest import document_body

URL = "/api/v1/incoming-documents"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def register(client, headers, **overrides):
    return client.post(URL, json=document_body(**overrides), headers=headers)


def test_registration_returns_the_full_document(client, as_user):
    response = register(
        client, as_user("clerk"), due_date="2013-08-30", page_count=12, signer_name="Trần Văn Nam",
        signer_position="Trưởng ban", channel="electronic", notes="Bản gốc kèm phụ lục",
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["register_code"] == "main"
    assert doc["year"] == 2013 and doc["arrival_number"] == 1
    assert doc["received_at"] == "2013-08-15T08:30:00+07:00"
    assert (doc["document_number"], doc["document_type"], doc["issuer_code"]) == ("08", "BC", "BCĐ")
    assert doc["state"] == "registered" and doc["version"] == 1
    assert doc["due_date"] == "2013-08-30" and doc["page_count"] == 12 and doc["channel"] == "electronic"
    assert doc["allowed_actions"] == ["submit", "recall"]
    assert doc["assignments"] == [] and doc["overdue"] is True
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{URL}/{doc['id']}"


def test_registration_appends_a_register_event(client, as_user, engine):
    doc = register(client, as_user("clerk")).json()
    with make_sessionmaker(engine)() as session:
        events = session.scalars(select(DocumentEvent).where(DocumentEvent.document_id == doc["id"])).all()
    assert [(e.seq, e.action, e.from_state, e.to_state) for e in events] == [(1, "register", None, "registered")]
    assert events[0].data == {"register_code": "main", "year": 2013, "arrival_number": 1, "due_date": None}


def test_numbers_run_per_register_and_year(client, as_user):
    clerk = as_user("clerk")
    a = register(client, clerk, symbol="1/BC-A").json()
    b = register(client, clerk, symbol="2/BC-A").json()
    c = register(client, clerk, symbol="3/BC-A", received_at="2014-01-02T09:00:00+07:00").json()
    assert [a["arrival_number"], b["arrival_number"], c["arrival_number"]] == [1, 2, 1]
    assert c["year"] == 2014


def test_year_is_the_arrival_year_in_vietnam(client, as_user):
    # 31 Dec 2013 18:00 UTC is already 1 Jan 2014 in Hà Nội.
    doc = register(client, as_user("clerk"), received_at="2013-12-31T18:00:00Z").json()
    assert doc["year"] == 2014


@pytest.mark.parametrize(
    "symbol,expected",
    [
        ("05/BNV-VP", ("05", None, "BNV-VP", None)),
        ("123/2013/NĐ-CP", ("123", "NĐ", "CP", 2013)),
        ("23-QĐ/UBKTTW", ("23", "QĐ", "UBKTTW", None)),
        ("1234/UBND-VX", ("1234", None, "UBND-VX", None)),
    ],
)
def test_real_symbol_forms_are_parsed(client, as_user, symbol, expected):
    doc = register(client, as_user("clerk"), symbol=symbol).json()
    assert (doc["document_number"], doc["document_type"], doc["issuer_code"], doc["symbol_year"]) == expected
    assert doc["symbol_warning"] is None


def test_unparseable_symbol_is_kept_and_flagged(client, as_user):
    response = register(client, as_user("clerk"), symbol="Thông báo không số")
    assert response.status_code == 201
    doc = response.json()
    assert doc["symbol"] == "Thông báo không số"
    assert doc["document_number"] is None and doc["symbol_warning"]


FUTURE = (date.today() + timedelta(days=3)).isoformat()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"urgency": "asap"}, "urgency"),
        ({"confidentiality": "classified"}, "confidentiality"),
        ({"summary": "   "}, "summary"),
        ({"summary": "x" * 501}, "summary"),
        ({"document_date": FUTURE, "received_at": None}, "document_date"),
        ({"symbol": "////"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"issuer": ""}, "issuer"),
        ({"document_date": "2013-02-30"}, "document_date"),
        ({"document_date": "2013-08-16"}, "document_date"),  # after its arrival on 15/8
        ({"received_at": "2013-08-15T08:30:00"}, "received_at"),  # no offset
        ({"register_code": "nope"}, "register_code"),
        ({"page_count": 0}, "page_count"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_takes_no_number(client, as_user, overrides, field):
    clerk = as_user("clerk")
    body = document_body(**overrides)
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post(URL, json=body, headers=clerk)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["title"] == "Validation failed"
    assert field in [e["field"] for e in problem["errors"]]
    ok = register(client, clerk, symbol="99/BC-OK")
    assert ok.json()["arrival_number"] == 1


def test_summary_of_exactly_500_characters_is_accepted(client, as_user):
    assert register(client, as_user("clerk"), summary="ả" * 500).status_code == 201


def test_confidential_document_needs_a_confidential_register(client, as_user):
    response = register(client, as_user("secret_clerk"), confidentiality="secret")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "confidentiality"
    response = register(client, as_user("secret_clerk"), confidentiality="secret", register_code="mat")
    assert response.status_code == 201
    assert response.json()["register_code"] == "mat"


def test_only_cleared_clerks_use_a_confidential_register(client, as_user):
    response = register(client, as_user("clerk"), confidentiality="secret", register_code="mat")
    assert response.status_code == 403


@pytest.mark.parametrize("username", ["specialist", "leader", "office_leader", "unit_leader_vp", "auditor", "admin"])
def test_only_clerks_register(client, as_user, username):
    assert register(client, as_user(username)).status_code == 403


def test_duplicate_is_refused_with_its_id_unless_allowed(client, as_user):
    clerk = as_user("clerk")
    first = register(client, clerk).json()
    # Same document, written differently: case, spacing, decomposed diacritics.
    again = register(
        client, clerk, symbol="08/bc-bcđ",
        issuer=unicodedata.normalize("NFD", "  Ban chỉ đạo chương trình CNTT tỉnh Bình Dương "),
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["duplicate_of"] == first["id"]
    allowed = register(client, clerk, allow_duplicate=True)
    assert allowed.status_code == 201
    assert allowed.json()["duplicate_of"] == first["id"]
    assert allowed.json()["arrival_number"] == 2  # the refused attempt took no number


def test_nfd_input_is_stored_as_nfc(client, as_user):
    summary = "Báo cáo tình hình ứng dụng CNTT tại Đà Nẵng"
    response = register(client, as_user("clerk"), symbol="7/BC-ĐN", summary=unicodedata.normalize("NFD", summary),
                        issuer=unicodedata.normalize("NFD", "Sở Thông tin và Truyền thông Đà Nẵng"))
    doc = response.json()
    assert doc["summary"] == summary
    assert unicodedata.is_normalized("NFC", doc["issuer"])
    found = client.get(URL, params={"q": unicodedata.normalize("NFD", "Đà Nẵng")}, headers=as_user("clerk")).json()
    assert [d["id"] for d in found["items"]] == [doc["id"]]


def test_idempotency_key_replays_the_same_document(client, as_user, engine):
    clerk = {**as_user("clerk"), "Idempotency-Key": "retry-0001"}
    first = client.post(URL, json=document_body(), headers=clerk)
    second = client.post(URL, json=document_body(), headers=clerk)
    assert first.status_code == 201 and second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(IncomingDocument)) == 1
    changed = client.post(URL, json=document_body(summary="khác"), headers=clerk)
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_refused_registration_keeps_the_callers_earlier_work(client, as_user, engine):
    """The service may run inside a larger transaction (the demo, an importer): a duplicate or a
    replayed Idempotency-Key is undone on its own, and what the caller did before stays."""
    from datetime import UTC, datetime

    from app.errors import DuplicateDocument
    from app.models import Unit
    from app.schemas.documents import DocumentCreate
    from app.services import organisation as org
    from app.services.documents import register_document

    first = client.post(URL, json=document_body(), headers={**as_user("clerk"), "Idempotency-Key": "k-outer"})
    assert first.status_code == 201
    body = DocumentCreate.model_validate(document_body())
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session:
        clerk = org.get_user(session=session, username="clerk")
        org.create_unit(session=session, code="TMP1", name="Đơn vị tạm 1")
        with pytest.raises(DuplicateDocument):
            register_document(session=session, actor=clerk, data=body, now=now, tz=HCM)
        org.create_unit(session=session, code="TMP2", name="Đơn vị tạm 2")
        replay = register_document(session=session, actor=clerk, data=body, now=now, tz=HCM, idempotency_key="k-outer")
        assert replay.replayed and replay.document.id == first.json()["id"]
        session.commit()
    with make_sessionmaker(engine)() as session:
        codes = set(session.scalars(select(Unit.code).where(Unit.code.in_(["TMP1", "TMP2"]))))
        assert codes == {"TMP1", "TMP2"}
        for code in ("TMP1", "TMP2"):  # the units are shared by the session's tests
            session.delete(session.scalar(select(Unit).where(Unit.code == code)))
        session.commit()
    assert client.post(URL, json=document_body(symbol="2/BC-BCĐ"), headers=as_user("clerk")).json()["arrival_number"] == 2


def test_allow_duplicate_registers_even_when_the_original_commits_meanwhile(engine, staff):
    """A knowing duplicate (allow_duplicate) whose original is committed by another request
    between its look-up and its write is still registered, linked to that original — not
    refused with "send allow_duplicate=true". On PostgreSQL the second write waits for the
    first and then meets the identity index; on SQLite it waits for the write lock.

    No sleep: the first commits only once the second is seen waiting. On PostgreSQL that is
    certain (pg_blocking_pids names the first's backend). On SQLite nothing shows a connection
    inside its busy wait, so the test waits until the second thread is inside the C call of its
    ``BEGIN IMMEDIATE``; should the first still commit before that statement reaches the lock,
    the outcome is the same, since on SQLite the second looks the original up only after BEGIN.
    """
    import threading
    from datetime import UTC, datetime

    from sqlalchemy import text

    from app.schemas.documents import DocumentCreate
    from app.services import organisation as org
    from app.services.documents import register_document

    now = datetime.now(UTC)
    first_session = make_sessionmaker(engine)()
    clerk = org.get_user(session=first_session, username="clerk")
    first = register_document(session=first_session, actor=clerk, data=DocumentCreate.model_validate(document_body()),
                              now=now, tz=HCM)
    outcome: dict[str, object] = {}

    def knowing_duplicate() -> None:
        with make_sessionmaker(engine)() as session:
            try:
                result = register_document(
                    session=session, actor=clerk, now=now, tz=HCM,
                    data=DocumentCreate.model_validate(document_body(allow_duplicate=True)),
                )
                session.commit()
                outcome["duplicate_of"] = result.document.duplicate_of_id
                outcome["number"] = result.document.arrival_number
            except Exception as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

    second = threading.Thread(target=knowing_duplicate)
    try:
        second.start()
        if engine.dialect.name == "postgresql":  # wait until the first's row lock holds the second up
            first_pid = first_session.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
                _wait_until(lambda: watcher.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted AND :pid = ANY(pg_blocking_pids(pid))"),
                    {"pid": first_pid},
                ) > 0, second, outcome)
        else:  # wait until the second is inside its BEGIN IMMEDIATE, which the first's write lock holds up
            _wait_until(lambda: _executing(second, "BEGIN"), second, outcome)
        first_session.commit()  # the second registration is now waiting for the first
    finally:
        first_session.close()
        second.join(timeout=60)
    assert not second.is_alive(), "the second registration is still waiting"
    assert "error" not in outcome, outcome.get("error")
    assert outcome == {"duplicate_of": first.document.id, "number": 2}


def _wait_until(condition, thread, outcome: dict, timeout: float = 60) -> None:  # noqa: ANN001
    """Poll ``condition`` while ``thread`` runs; fail if the thread ends or the time runs out first."""
    import time as clock

    deadline = clock.monotonic() + timeout
    while not condition():
        assert thread.is_alive(), f"the second registration ended without waiting for the first: {outcome}"
        assert clock.monotonic() < deadline, "the second registration never waited for the first"
        clock.sleep(0.001)


def _executing(thread, statement_prefix: str) -> bool:  # noqa: ANN001
    """Whether ``thread`` is inside the driver's execute of a statement starting with ``statement_prefix``:
    its innermost Python frame is SQLAlchemy's ``do_execute``, whose ``cursor.execute`` runs in C
    (sqlite3 releases the GIL while it waits for a lock)."""
    import sys

    frame = sys._current_frames().get(thread.ident)
    if frame is None or frame.f_code.co_name != "do_execute":
        return False
    return str(frame.f_locals.get("statement", "")).startswith(statement_prefix)
