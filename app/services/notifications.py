"""Notifications: who is told what, once, in the transaction of the change (or of the day's scan).

Recipients of a unit's part are its unit leaders and whoever holds a unit leader's authority by
delegation today; of an assignment handed over, the assignee. Nobody is told of a document they
may not see (``app.services.access``), so a confidential document's notices reach only those
cleared for it. A notice is unique per user, kind, document, assignment and local day: the
scan can run any number of times a day, on any number of workers, and tell each person once.

Which assignments are due soon or overdue is ``app.workflow.deadlines``' rule, here in its SQL
form over the open assignments (``ix_assignments_open``) and the documents' stored effective
deadline, so the scan reads a small share of a million documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import msg
from app.models import Assignment, Delegation, IncomingDocument, Notification, Unit, User, UserRole
from app.services.calendar import load_calendar
from app.services.delegations import delegators_for
from app.services.documents import visible_ids
from app.workflow import deadlines
from app.workflow.vocabulary import AssignmentState, Role

KINDS = ("assigned", "directed", "due_soon", "overdue", "returned", "recalled", "received_electronic")


def _symbol(document: IncomingDocument) -> str:
    return f"{document.symbol} (số đến {document.arrival_number})"


TEXTS = {
    "assigned": "Văn bản {doc} được giao cho {unit}: {summary}",
    "assigned_to_me": "Văn bản {doc} được giao cho đồng chí xử lý: {summary}",
    "directed": "Lãnh đạo đã cho ý kiến chỉ đạo văn bản {doc}",
    "returned": "Văn bản {doc} bị trả lại: {comment}",
    "recalled": "Văn bản {doc} đã bị thu hồi: {comment}",
    "due_soon": "Văn bản {doc} sắp đến hạn xử lý ({due:%d/%m/%Y}) – {unit}",
    "overdue": "Văn bản {doc} đã quá hạn xử lý ({due:%d/%m/%Y}) – {unit}",
    "received_electronic": "Văn bản điện tử {symbol} của {issuer} đã đến, chờ văn thư đăng ký",
}


def unit_leaders(session: Session, unit_ids: Iterable[int], today: date) -> dict[int, set[int]]:
    """unit id → the active users who lead it today: its unit leaders and their delegates holding
    the unit leader's authority (app.workflow.delegation lends roles per delegation)."""
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    leaders: dict[int, set[int]] = {unit_id: set() for unit_id in wanted}
    rows = session.execute(
        select(User.id, User.unit_id).join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_id.in_(wanted), User.is_active.is_(True), UserRole.role == Role.unit_leader.value))
    by_leader: dict[int, int] = {}
    for user_id, unit_id in rows:
        leaders[unit_id].add(user_id)
        by_leader[user_id] = unit_id
    if by_leader:
        for delegation in session.scalars(select(Delegation).where(
                Delegation.delegator_id.in_(sorted(by_leader)), Delegation.revoked_at.is_(None),
                Delegation.starts_on <= today, Delegation.ends_on >= today)):
            if Role.unit_leader.value in (delegation.roles or []):
                leaders[by_leader[delegation.delegator_id]].add(delegation.delegate_id)
    return leaders


def notify(*, session: Session, user_ids: Iterable[int], kind: str, day: date, text: str, now: datetime,
           document_id: int | None = None, assignment_id: int | None = None) -> int:
    """Tell each of ``user_ids`` (those who may see the document) once; returns how many were new."""
    wanted = set(user_ids)
    if document_id is not None and wanted:
        users = session.scalars(select(User).where(User.id.in_(sorted(wanted)))).all()
        wanted = {u.id for u in users if visible_ids(
            session=session, user=u, ids=[document_id],
            delegators=delegators_for(session=session, user=u, today=day))}
    if not wanted:
        return 0
    key = assignment_id or 0
    already = set(session.scalars(select(Notification.user_id).where(
        Notification.user_id.in_(sorted(wanted)), Notification.kind == kind,
        Notification.document_id.is_(None) if document_id is None else Notification.document_id == document_id,
        Notification.assignment_key == key, Notification.day == day)))
    made = 0
    for user_id in sorted(wanted - already):
        try:
            with session.begin_nested():  # a concurrent scan may have told them a moment ago
                session.add(Notification(user_id=user_id, kind=kind, document_id=document_id,
                                         assignment_id=assignment_id, assignment_key=key, day=day, text=text, at=now))
                session.flush()
            made += 1
        except IntegrityError:
            pass
    return made


@dataclass(frozen=True)
class SlipChange:
    """What a slip action did, as notifications need it (built by app.services.workflow)."""

    document: IncomingDocument
    action: str
    actor: User
    comment: str | None
    new_assignments: list[Assignment]  # made by a direction
    assignment: Assignment | None  # the one an assign concerns


def after_action(*, session: Session, change: SlipChange, now: datetime, tz: ZoneInfo) -> None:
    """The notices a slip action causes: assigned, directed, returned, recalled."""
    document, today = change.document, now.astimezone(tz).date()
    common = {"doc": _symbol(document), "summary": document.summary[:120], "comment": change.comment or ""}
    if change.action == "direct":
        leaders = unit_leaders(session, [a.unit_id for a in change.new_assignments], today)
        for assignment in change.new_assignments:
            notify(session=session, user_ids=leaders.get(assignment.unit_id, set()) - {change.actor.id},
                   kind="assigned", day=today, now=now, document_id=document.id, assignment_id=assignment.id,
                   text=TEXTS["assigned"].format(unit=assignment.unit.name, **common))
        notify(session=session, user_ids={document.created_by_id} - {change.actor.id}, kind="directed", day=today,
               now=now, document_id=document.id, text=TEXTS["directed"].format(**common))
    elif change.action == "assign" and change.assignment is not None and change.assignment.assignee_id:
        notify(session=session, user_ids={change.assignment.assignee_id} - {change.actor.id}, kind="assigned",
               day=today, now=now, document_id=document.id, assignment_id=change.assignment.id,
               text=TEXTS["assigned_to_me"].format(**common))
    elif change.action == "return":
        notify(session=session, user_ids={document.created_by_id} - {change.actor.id}, kind="returned", day=today,
               now=now, document_id=document.id, text=TEXTS["returned"].format(**common))
    elif change.action == "recall":
        parts = list(document.assignments)
        leaders = unit_leaders(session, [a.unit_id for a in parts], today)
        people = {a.assignee_id for a in parts if a.assignee_id} | set().union(*leaders.values()) if parts else set()
        notify(session=session, user_ids=people - {change.actor.id}, kind="recalled", day=today, now=now,
               document_id=document.id, text=TEXTS["recalled"].format(**common))


def received_electronic(*, session: Session, symbol: str | None, issuer: str | None, item_id: int, now: datetime,
                        tz: ZoneInfo) -> None:
    """Every active clerk is told of an electronic document waiting in the inbox."""
    clerks = session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.is_active.is_(True), UserRole.role == Role.clerk.value)).all()
    notify(session=session, user_ids=clerks, kind="received_electronic", day=now.astimezone(tz).date(), now=now,
           assignment_id=None, text=TEXTS["received_electronic"].format(symbol=symbol or f"#{item_id}",
                                                                       issuer=issuer or "?"))


# --- the daily scan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """An open assignment due soon or overdue, and who is to be told."""

    kind: str  # due_soon | overdue
    document_id: int
    assignment_id: int
    unit_id: int
    unit_name: str
    deadline: date
    symbol: str
    arrival_number: int
    summary: str
    recipients: frozenset[int]


def reminders(session: Session, *, today: date, due_soon_days: int) -> list[Reminder]:
    """Today's due-soon and overdue assignments (the deadline rule in SQL) with their recipients."""
    horizon = load_calendar(session=session).add_working_days(today, due_soon_days)
    deadline = deadlines.assignment_deadline_sql(Assignment.due_date, IncomingDocument.effective_due_date)
    overdue = deadlines.assignment_is_overdue_sql(Assignment.state, deadline, IncomingDocument.state, today)
    due_soon = deadlines.assignment_is_due_soon_sql(Assignment.state, deadline, IncomingDocument.state, today,
                                                    horizon)
    rows = session.execute(
        select(Assignment.id, Assignment.document_id, Assignment.unit_id, Assignment.assignee_id, deadline,
               overdue, IncomingDocument.symbol, IncomingDocument.arrival_number, IncomingDocument.summary, Unit.name)
        .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.state != AssignmentState.done.value, or_(overdue, due_soon),
               deadlines.reminds_sql(Assignment.role, IncomingDocument.state))
    ).all()
    leaders = unit_leaders(session, [r[2] for r in rows if r[3] is None], today)
    return [
        Reminder("overdue" if is_overdue else "due_soon", document_id, assignment_id, unit_id, unit_name, due,
                 symbol, arrival_number, summary,
                 frozenset({assignee_id} if assignee_id else leaders.get(unit_id, set())))
        for assignment_id, document_id, unit_id, assignee_id, due, is_overdue, symbol, arrival_number, summary,
        unit_name in rows
    ]


def scan(*, session: Session, now: datetime, tz: ZoneInfo, due_soon_days: int) -> list[Reminder]:
    """On a working day, make today's due-soon and overdue notices (once each); none on a day off.
    Returns the reminders found (the digests and webhooks read them too).

    Written in bulk: the recipients lead or work in the assigned unit (or stand in for one who
    does), whom the visibility rule always lets see the document, so no per-notice check is due;
    what was already told today is read once, the rest inserted in one statement."""
    today = now.astimezone(tz).date()
    if not load_calendar(session=session).is_working_day(today):
        return []
    found = reminders(session, today=today, due_soon_days=due_soon_days)
    told = set(session.execute(select(Notification.user_id, Notification.kind, Notification.assignment_key).where(
        Notification.day == today, Notification.kind.in_(("due_soon", "overdue")))))
    rows = [
        {"user_id": user_id, "kind": r.kind, "document_id": r.document_id, "assignment_id": r.assignment_id,
         "assignment_key": r.assignment_id, "day": today, "at": now,
         "text": TEXTS[r.kind].format(doc=f"{r.symbol} (số đến {r.arrival_number})", due=r.deadline, unit=r.unit_name)}
        for r in found for user_id in sorted(r.recipients) if (user_id, r.kind, r.assignment_id) not in told
    ]
    if rows:
        session.execute(insert(Notification), rows)
    return found


# --- the feed ---------------------------------------------------------------------------------


def feed(session: Session, user: User, *, unread: bool | None, limit: int, offset: int) -> tuple[list[Notification], int]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Notification.id.desc()).limit(limit).offset(offset)).all()
    return list(items), total


def mark_read(session: Session, user: User, *, notification_id: int | None, now: datetime) -> int:
    """Mark one (or, with None, all) of the user's notices read; returns how many changed."""
    clause = and_(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        clause = and_(clause, Notification.id == notification_id)
    return session.execute(update(Notification).where(clause).values(read_at=now)).rowcount


def mark_one_read(session: Session, user: User, *, notification_id: int, now: datetime) -> int:
    """Mark one of the user's notices read; someone else's, like one that does not exist, is NotFound."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(msg("notification {id} does not exist", id=notification_id), code="notification.not_found")
    return mark_read(session, user, notification_id=notification_id, now=now)
