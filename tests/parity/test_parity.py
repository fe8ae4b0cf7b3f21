"""Parity: each rule's SQL twin and its Python form agree on a generated mix, document by document.

On PostgreSQL the audit figures are computed in the database and in Python and compared; on both
backends the work list, the ``overdue`` filter, ``/audit/overdue`` (sifted by the database against
every document replayed) and the register book are held against the rules of ``app.workflow``.
The last tests break a SQL twin on purpose and check that the same comparison reports it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, literal, select

from app.tables import csv_blocks, csv_line_blocks
from app.db import make_sessionmaker
from app.models import Assignment, DocumentEvent, IncomingDocument
from app.services import deadline_marks
from app.services.audit import register_book
from app.schemas.documents import DocumentFilters
from app.services.organisation import get_user
from app.workflow import deadlines, worklist
from app.workflow.vocabulary import DocumentState
from tests.marks import mark_differences
from tests.parity import checks

READERS = ["leader", "auditor", "admin", "gen_lanhdao"]


@pytest.fixture
def session(engine, generated):
    """A session per test: on SQLite an open transaction holds the write lock the API's requests need."""
    with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture(scope="module")
def loaded(engine, generated):
    """Every document with its assignments, loaded once (then detached, read only)."""
    with make_sessionmaker(engine)() as session:
        return checks.load(session)


def test_the_mix_holds_every_case_the_rules_distinguish(session, loaded, generated):
    """Otherwise parity over it would prove little."""
    states = {d.state for d in loaded.documents}
    assert states == {s.value for s in DocumentState}
    count = session.scalar
    assert count(select(func.count()).where(DocumentEvent.action == "extend", DocumentEvent.assignment_id.is_(None)))
    assert count(select(func.count()).where(DocumentEvent.action == "extend", DocumentEvent.assignment_id.is_not(None)))
    assert count(select(func.count()).where(DocumentEvent.action == "return"))
    assert count(select(func.count()).where(DocumentEvent.action == "recall", DocumentEvent.from_state == "resolved"))
    assert count(select(func.count()).where(IncomingDocument.confidentiality != "normal"))
    # Deadlines only on the units; proposals with and without a named leader; overdue parts of resolved documents.
    assert count(select(func.count()).select_from(IncomingDocument).join(Assignment).where(
        IncomingDocument.due_date.is_(None), Assignment.role == "lead", Assignment.due_date.is_not(None)))
    assert {None, "gen_lanhdao"} <= set(loaded.proposed_to.values())
    late_parts_of_closed = [
        d.id for d in loaded.documents if d.state in ("resolved", "archived")
        and deadlines.overdue_parts(d.state, d.due_date, [deadlines.Part(a.id, a.role, a.state, a.due_date)
                                                          for a in d.assignments], generated.today)]
    assert late_parts_of_closed


@pytest.mark.parametrize("reader", READERS)
def test_audit_figures_in_the_database_equal_the_python_ones(session, generated, reader):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite computes the audit figures in Python only: there is no second path")
    user = get_user(session=session, username=reader)
    assert checks.audit_differences(session, user, generated.period, generated.today, generated.now) == []


@pytest.mark.parametrize("days_ago", [-3, 0, 20, 75, 160, 300, 500, 700])
def test_overdue_as_of_a_date_sifted_equals_replayed(session, generated, days_ago):
    as_of = generated.today - timedelta(days=days_ago)
    for reader in ("leader", "auditor"):
        user = get_user(session=session, username=reader)
        assert checks.overdue_as_of_differences(session, user, generated.period, as_of, generated.today) == []


def test_register_book_in_the_database_equals_python(session, generated):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite writes the register book in Python only: there is no second path")
    for reader in ("leader", "auditor"):
        user = get_user(session=session, username=reader)
        lines = [register_book.register_book(session=session, user=user, period=generated.period, tz=checks.HCM,
                                             in_database=flag) for flag in (True, False)]
        assert lines[0] == lines[1] and len(lines[0]) > 1000
        written = register_book.register_book_csv_lines(session=session, user=user, period=generated.period,
                                                        tz=checks.HCM)
        assert written is not None
        by_database = b"".join(csv_line_blocks(register_book.COLUMNS, written))
        by_python = b"".join(csv_blocks(register_book.COLUMNS, lines[1]))
        assert by_database == by_python


def test_every_work_list_is_the_rules(session, loaded, generated):
    problems = []
    for username in generated.usernames:
        problems += checks.work_list_differences(session, loaded, username, generated.today)
    assert problems == []


# Days the rule is asked about besides today: the filter and the rule are both functions of
# (the record, today), so any day compares them, and near deadlines a day's error shows.
EARLIER_DAYS = (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)


def test_overdue_is_one_answer_everywhere(session, loaded, generated):
    for reader in ("leader", "gen_lanhdao"):
        user = get_user(session=session, username=reader)
        assert checks.overdue_differences(session, loaded, user, generated.period, generated.today) == []
    user = get_user(session=session, username="leader")
    for days in EARLIER_DAYS:
        day = generated.today - timedelta(days=days)
        assert checks.overdue_differences(session, loaded, user, generated.period, day, listed_too=False) == []


def test_the_detail_and_the_slip_say_what_the_rule_says(client, as_user, loaded, generated):
    """The wiring, on a sample: the API's detail and slip carry the rule's flags."""
    overdue = [d for d in loaded.documents if deadlines.document_is_overdue(
        d.state, d.due_date, [deadlines.Part(a.id, a.role, a.state, a.due_date) for a in d.assignments],
        generated.today)]
    sample = overdue[:15] + [d for d in loaded.documents if d not in overdue][:15]
    leader = as_user("leader")
    for d in sample:
        parts = [deadlines.Part(a.id, a.role, a.state, a.due_date) for a in d.assignments]
        late = deadlines.overdue_parts(d.state, d.due_date, parts, generated.today)
        detail = client.get(f"/api/v1/incoming-documents/{d.id}", headers=leader).json()
        assert detail["overdue"] is (d in overdue)
        assert {a["id"] for a in detail["assignments"] if a["overdue"]} == late
        slip = client.get(f"/api/v1/incoming-documents/{d.id}/slip", headers=leader).json()["summary"]
        assert slip["overdue"] is (d in overdue)
        assert set(slip["overdue_units"]) == {a["unit_code"] for a in detail["assignments"] if a["overdue"]}


def test_the_stored_deadline_marks_are_the_rule(session):
    """The generator wrote them with the Python rule; a document whose marks differ would be
    filtered and counted wrongly everywhere the marks are read."""
    assert mark_differences(session) == []


def _recomputed_by_sql(session) -> list[str]:
    """Clear every mark, recompute them with the rule's SQL twin (as the slip's writes and the
    migration do), compare with the Python rule, and leave the database as it was."""
    with session.begin_nested() as savepoint:
        session.execute(IncomingDocument.__table__.update().values(effective_due_date=None, overdue_after=None))
        assert deadline_marks.refresh_where(session, IncomingDocument.id.is_not(None)) > 2000
        problems = mark_differences(session)
        savepoint.rollback()
    return problems


def test_the_marks_sql_twin_is_the_rule(session):
    assert _recomputed_by_sql(session) == []


# --- the checks can fail: break a SQL twin, see the comparison report it -----------------------


def test_a_broken_overdue_expression_is_caught(session, loaded, generated, monkeypatch):
    monkeypatch.setattr(deadlines, "is_past_sql", lambda deadline, today: deadline <= today)  # one day early
    user = get_user(session=session, username="leader")
    assert any(checks.overdue_differences(session, loaded, user, generated.period,
                                          generated.today - timedelta(days=days), listed_too=False)
               for days in EARLIER_DAYS)


def test_a_broken_work_list_expression_is_caught(session, loaded, generated, monkeypatch):
    from app.workflow import worklist

    monkeypatch.setattr(worklist, "sources", lambda machine, action: frozenset({"in_progress"}))
    problems = [p for name in ("gen_vanthu", "gen_truong_vp") for p in
                checks.work_list_differences(session, loaded, name, generated.today)]
    assert problems


def test_a_broken_audit_expression_is_caught(session, generated, monkeypatch):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's figures only")
    original = deadlines.resolved_outcome_sql
    monkeypatch.setattr(deadlines, "resolved_outcome_sql", lambda resolved_on, deadline: original(resolved_on,
                                                                                                  deadline + 1))
    user = get_user(session=session, username="leader")
    assert checks.audit_differences(session, user, generated.period, generated.today, generated.now)


def test_a_broken_marks_expression_is_caught(session, monkeypatch):
    original = deadlines.overdue_after_sql

    def forgets_recalled(document, assignments):  # an assignment of a recalled document counted again
        return original(deadlines.DocumentColumns(document.id, literal("in_progress"), document.due_date),
                        assignments)

    monkeypatch.setattr(deadlines, "overdue_after_sql", forgets_recalled)
    assert _recomputed_by_sql(session)


def test_the_reminder_scan_is_the_rule(session, loaded, generated):
    """Due soon, overdue and who is followed up: the scan's SQL (app.services.notifications.reminders)
    against the Python rule (app.workflow.deadlines), over every open part of the mix, on several days."""
    from app.services.calendar import load_calendar
    from app.services.notifications import reminders
    from app.workflow import deadlines as rule

    calendar = load_calendar(session=session)
    kinds: set[str] = set()
    for days in (0, *EARLIER_DAYS[:6]):
        today = generated.today - timedelta(days=days)
        horizon = calendar.add_working_days(today, 2)
        expected = {}
        for document in loaded.documents:
            parts = [rule.Part(a.id, a.role, a.state, a.due_date) for a in document.assignments]
            effective = rule.document_deadline(document.due_date, rule.lead_due_date(parts))
            for part in parts:
                deadline = rule.assignment_deadline(part.due_date, effective)
                if not rule.reminds(part.role, document.state):
                    continue
                if rule.assignment_is_overdue(part.state, deadline, document.state, today):
                    expected[part.id] = "overdue"
                elif rule.assignment_is_due_soon(part.state, deadline, document.state, today, horizon):
                    expected[part.id] = "due_soon"
        found = {r.assignment_id: r.kind for r in reminders(session, today=today, due_soon_days=2)}
        assert found == expected, (today, set(found.items()) ^ set(expected.items()))
        kinds |= set(found.values())
    # The mix's open parts fall due soon on these days; its overdue ones are mostly informed parts
    # of closed documents, which are not followed up (overdue reminders: tests/test_follow_up.py).
    assert "due_soon" in kinds


def test_the_work_list_order_in_sql_is_the_rules(session, loaded, generated):
    """The work list's order (most urgent, nearest deadline, longest waiting) from the SQL twin
    equals the Python key over the whole mix, which holds every urgency and documents with and
    without a deadline."""
    documents = loaded.documents
    assert {d.urgency for d in documents} == {"normal", "urgent", "very_urgent", "flash"}
    assert any(d.effective_due_date is None for d in documents)
    assert len({d.effective_due_date for d in documents}) > 3
    in_sql = list(session.scalars(select(IncomingDocument.id).order_by(*worklist.priority_order_sql(
        IncomingDocument.urgency, IncomingDocument.effective_due_date, IncomingDocument.received_at,
        IncomingDocument.id))))
    in_python = [d.id for d in sorted(documents, key=lambda d: worklist.priority_key(
        d.urgency, d.effective_due_date, d.received_at, d.id))]
    assert in_sql == in_python


@pytest.mark.parametrize(("limit", "exact_up_to"), [(7, 10_000), (50, 20)])
def test_every_work_list_page_is_the_rules_in_its_order(session, loaded, generated, limit, exact_up_to):
    """Every user's work list, page by page (and its totals, exact or bounded), is the rule's set in
    the rule's order: the arm-by-arm pages equal the one-query OR sorted in Python."""
    problems, longest = [], 0
    for username in generated.usernames:
        problems += checks.work_list_page_differences(session, loaded, username, generated.today, limit=limit,
                                                      exact_up_to=exact_up_to)
        user = get_user(session=session, username=username)
        longest = max(longest, len(checks._ids(session, user, DocumentFilters(awaiting_me=True), generated.today)))
    assert longest > 2 * limit  # some list runs over several pages (and past the bound)
    assert problems == []
