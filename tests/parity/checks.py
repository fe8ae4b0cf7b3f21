"""The comparisons the parity tests make, as functions that return what disagrees (empty: parity).

Kept apart from the tests so that a test can also break a SQL twin on purpose and see the same
comparison report it: a check that could not fail would prove nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import DocumentEvent, IncomingDocument, User
from app.schemas.documents import DocumentFilters
from app.services import rule_columns
from app.services.access import visible_documents
from app.services.audit import figures, timeline
from app.services.audit.scope import AuditPeriod
from app.services.calendar import load_calendar
from app.services.documents import document_query, work_list_page
from app.services.organisation import get_user
from app.services.workflow import identities_for
from app.workflow import deadlines, worklist
from app.workflow.permissions import allowed_actions

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Loaded:
    """Every document with its assignments, and the leader each latest proposal named."""

    documents: list[IncomingDocument]
    proposed_to: dict[int, str | None]


def load(session: Session) -> Loaded:
    documents = list(session.scalars(select(IncomingDocument).order_by(IncomingDocument.id)))
    proposed_to: dict[int, str | None] = {}
    for document_id, data in session.execute(
        select(DocumentEvent.document_id, DocumentEvent.data)
        .where(DocumentEvent.action == "propose").order_by(DocumentEvent.document_id, DocumentEvent.seq)
    ):
        proposed_to[document_id] = (data or {}).get("to_username")
    return Loaded(documents, proposed_to)


def _ids(session: Session, user: User, filters: DocumentFilters, today: date, delegators=()) -> set[int]:
    query = document_query(session=session, user=user, filters=filters, today=today, tz=HCM, delegators=delegators)
    return set(session.scalars(query.with_only_columns(IncomingDocument.id)))


def work_list_differences(session: Session, loaded: Loaded, username: str, today: date) -> list[str]:
    """The work list of ``username`` from the SQL twin against the rule, document by document; and
    every document on it must give the user a slip-moving action."""
    user = get_user(session=session, username=username)
    assert user is not None
    identities = identities_for(session=session, user=user, today=today)
    delegators = [i.on_behalf_of for i in identities if i.on_behalf_of]
    actors = [i.actor for i in identities]
    visible = set(session.scalars(
        select(IncomingDocument.id).where(visible_documents(user, delegators=delegators))))
    by_sql = _ids(session, user, DocumentFilters(awaiting_me=True), today, delegators)
    problems = []
    for document in loaded.documents:
        if document.id not in visible:
            if document.id in by_sql:
                problems.append(f"{username}: document {document.id} is on the list but not visible")
            continue
        facts = rule_columns.turn_facts(document, loaded.proposed_to.get(document.id))
        by_rule = worklist.is_on_work_list(actors, facts)
        if by_rule != (document.id in by_sql):
            problems.append(f"{username}: document {document.id} ({document.state}) rule={by_rule} "
                            f"sql={document.id in by_sql}")
        if by_rule and not set(allowed_actions(actors, facts.state, facts.assignments, facts.registered_by)) & worklist.SLIP_MOVING_ACTIONS:
            problems.append(f"{username}: document {document.id} on the list without a slip-moving action")
    return problems


def overdue_differences(session: Session, loaded: Loaded, reader: User, period: AuditPeriod, today: date,
                        listed_too: bool = True) -> list[str]:
    """``overdue`` by the rule (what the detail and the slip show) against the ``overdue=true``
    filter, its negation, and (``listed_too``: ``today`` is today) ``/audit/overdue`` as of today,
    document by document and unit by unit."""
    rule_documents: set[int] = set()
    rule_parts: set[tuple[int, int]] = set()
    rule_document_rows: set[int] = set()
    for d in loaded.documents:
        parts = rule_columns.parts(d)
        if deadlines.document_is_overdue(d.state, d.due_date, parts, today):
            rule_documents.add(d.id)
        rule_parts |= {(d.id, a) for a in deadlines.overdue_parts(d.state, d.due_date, parts, today)}
        effective = deadlines.document_deadline(d.due_date, deadlines.lead_due_date(parts))
        if d.state in deadlines.OPEN and deadlines.is_past(effective, today):
            rule_document_rows.add(d.id)
    problems = []
    by_filter = _ids(session, reader, DocumentFilters(overdue=True), today)
    not_by_filter = _ids(session, reader, DocumentFilters(overdue=False), today)
    every = {d.id for d in loaded.documents}
    if by_filter != rule_documents:
        problems.append(f"overdue=true: only the filter {sorted(by_filter - rule_documents)[:10]}, "
                        f"only the rule {sorted(rule_documents - by_filter)[:10]}")
    if not_by_filter != every - rule_documents:
        problems.append("overdue=false is not the complement of the rule")
    if not listed_too:
        return problems
    listed = timeline.overdue(session=session, user=reader, period=period, as_of=today, today=today,
                              calendar=load_calendar(session=session), tz=HCM)
    listed_parts = {(r.document_id, r.assignment_id) for r in listed if r.kind == "assignment"}
    listed_documents = {r.document_id for r in listed if r.kind == "document"}
    if listed_parts != rule_parts:
        problems.append(f"/audit/overdue assignments: only listed {sorted(listed_parts - rule_parts)[:10]}, "
                        f"only the rule {sorted(rule_parts - listed_parts)[:10]}")
    if listed_documents != rule_document_rows:
        problems.append(f"/audit/overdue documents: only listed {sorted(listed_documents - rule_document_rows)[:10]}, "
                        f"only the rule {sorted(rule_document_rows - listed_documents)[:10]}")
    if {r.document_id for r in listed} != rule_documents:
        problems.append("the documents /audit/overdue lists are not the overdue documents")
    return problems


def audit_differences(session: Session, reader: User, period: AuditPeriod, today: date, now) -> list[str]:  # noqa: ANN001
    """Every audit figure computed in the database against the same figure computed in Python."""
    calendar = load_calendar(session=session)
    problems = []
    for group_by in figures.GROUPINGS:
        both = [figures.processing_times(session=session, user=reader, period=period, group_by=group_by,
                                         calendar=calendar, today=today, tz=HCM, in_database=flag)
                for flag in (True, False)]
        problems += _rows_differ(f"processing-times by {group_by}", *both)
    both = [figures.stage_durations(session=session, user=reader, period=period, calendar=calendar, tz=HCM,
                                    in_database=flag) for flag in (True, False)]
    problems += _rows_differ("stage-durations", *both)
    both = [figures.compliance(session=session, user=reader, period=period, calendar=calendar, now=now, tz=HCM,
                               in_database=flag) for flag in (True, False)]
    problems += _rows_differ("compliance", *both)
    return problems


def overdue_as_of_differences(session: Session, reader: User, period: AuditPeriod, as_of: date,
                              today: date) -> list[str]:
    """``/audit/overdue?as_of=`` sifted by the database against every document replayed, and from
    today on, read from the stored deadline marks against the same."""
    calendar = load_calendar(session=session)

    def listed(**how: object) -> list:
        return timeline.overdue(session=session, user=reader, period=period, as_of=as_of, calendar=calendar, tz=HCM,
                                **how)

    replayed = listed(in_database=False)
    problems = _rows_differ(f"overdue as of {as_of}, sifted", listed(), replayed)
    if as_of >= today:
        problems += _rows_differ(f"overdue as of {as_of}, from the marks", listed(today=today), replayed)
    return problems


def _rows_differ(what: str, in_database: list, in_python: list) -> list[str]:
    if in_database == in_python:
        return []
    database_only = [r for r in in_database if r not in in_python]
    python_only = [r for r in in_python if r not in in_database]
    return [f"{what}: {len(in_database)} rows in the database, {len(in_python)} in Python; "
            f"only in the database {database_only[:3]!r}; only in Python {python_only[:3]!r}"]


def work_list_page_differences(session: Session, loaded: Loaded, username: str, today: date, *,
                               limit: int, exact_up_to: int) -> list[str]:
    """The work list as its pages show it (arm by arm, merged: app.services.documents) against the
    one-query OR of the rule's SQL twin sorted by the Python order, page by page, with the totals."""
    user = get_user(session=session, username=username)
    assert user is not None
    identities = identities_for(session=session, user=user, today=today)
    delegators = [i.on_behalf_of for i in identities if i.on_behalf_of]
    by_id = {d.id: d for d in loaded.documents}
    wanted = sorted(_ids(session, user, DocumentFilters(awaiting_me=True), today, delegators),
                    key=lambda i: worklist.priority_key(by_id[i].urgency, by_id[i].effective_due_date,
                                                        by_id[i].received_at, i))
    problems, offset = [], 0
    while True:
        page, total = work_list_page(session=session, user=user, filters=DocumentFilters(), limit=limit,
                                     offset=offset, today=today, tz=HCM, delegators=delegators,
                                     exact_up_to=exact_up_to)
        if [d.id for d in page] != wanted[offset:offset + limit]:
            problems.append(f"{username}: page at {offset} differs")
        expected_total = min(len(wanted), max(exact_up_to, offset + limit) + 1)
        if page and len(page) == limit and total.value != expected_total:
            problems.append(f"{username}: total at {offset} is {total.value}, expected {expected_total}")
        if len(page) < limit:
            if total.value != len(wanted) and (page or offset == 0):
                problems.append(f"{username}: final total {total.value}, expected {len(wanted)}")
            return problems
        offset += limit
