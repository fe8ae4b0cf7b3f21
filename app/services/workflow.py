"""Taking actions on the processing slip: one action, one transaction, one event.

The document row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write lock),
the caller's version is checked (If-Match → 412), the action is authorised by the pure
rules in ``app.workflow.permissions`` (403 / 409), applied, and an immutable event is
appended with the same commit. A refused action changes nothing and leaves no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from app.i18n import msg
from app.models import Assignment, DocumentEvent, IncomingDocument, Unit, User
from app.schemas.workflow import (
    ActionRequest,
    ArchiveAction,
    AssignAction,
    DirectAction,
    DueSpec,
    ExtendAction,
    ProposeAction,
)
from app.services import deadline_marks, exchange_outbox, notifications, webhooks
from app.services.access import visible_documents
from app.services.calendar import load_calendar
from app.services.delegations import Standing, delegators_for
from app.services.organisation import get_user
from app.services.rule_columns import actor_of, assignment_views
from app.workflow.machine import InvalidTransition, assignment_after, document_after
from app.workflow.permissions import Actor, AssignmentView, NotPermitted, allowed_actions, authorize
from app.workflow.requirements import resolves_document
from app.workflow.vocabulary import AssignmentState, Role


@dataclass(frozen=True)
class Identity:
    """Someone the caller may act as: themself, or a leader whose authority they hold today."""

    actor: Actor
    user: User
    on_behalf_of: Standing | None


def identities_for(*, session: Session, user: User, today: date) -> list[Identity]:
    own = Identity(actor_of(user), user, None)
    return [own] + [Identity(actor_of(d, lent_to=d.lent_to), user, d)
                    for d in delegators_for(session=session, user=user, today=today)]


def actions_for(identities: list[Identity], document: IncomingDocument) -> list[str]:
    return allowed_actions([i.actor for i in identities], document.state, assignment_views(document),
                           registered_by=document.created_by_id)


def _choose_identity(
    identities: list[Identity], request: ActionRequest, document: IncomingDocument
) -> tuple[Identity, AssignmentView | None]:
    """The first identity allowed to act; otherwise the most telling refusal (409 before 403)."""
    views = assignment_views(document)
    assignment_id = getattr(request, "assignment_id", None)
    if assignment_id is not None and all(v.id != assignment_id for v in views):
        raise ValidationFailed("assignment_id", msg("assignment {id} is not on this document", id=assignment_id),
                               code="assignment.not_on_document")
    refusals: list[Exception] = []
    for identity in identities:
        try:
            target = authorize(
                request.action,
                identity.actor,
                document.state,
                views,
                assignment_id if request.action != "extend" else None,
                registered_by=document.created_by_id,
            )
            return identity, target
        except (NotPermitted, InvalidTransition) as exc:
            refusals.append(exc)
    conflict = next((r for r in refusals if isinstance(r, InvalidTransition)), None)
    if conflict is not None:
        raise Conflict(conflict.text, code=conflict.code)
    refusal = refusals[0]
    assert isinstance(refusal, NotPermitted)
    raise Forbidden(refusal.text, code=refusal.code)


def apply_action(
    *,
    session: Session,
    user: User,
    document_id: int,
    request: ActionRequest,
    now: datetime,
    tz: ZoneInfo,
    if_match: int | None = None,
) -> tuple[IncomingDocument, list[Identity]]:
    """Apply ``request`` to the document; return it and the caller's identities (for allowed_actions)."""
    today = now.astimezone(tz).date()
    identities = identities_for(session=session, user=user, today=today)
    document = session.scalar(
        select(IncomingDocument)
        .where(
            IncomingDocument.id == document_id,
            visible_documents(user, delegators=[i.on_behalf_of for i in identities if i.on_behalf_of]),
        )
        .with_for_update(of=IncomingDocument)
    )
    if document is None:
        raise NotFound(msg("incoming document {id} does not exist", id=document_id), code="document.not_found")
    session.refresh(document, ["assignments"])  # the locked row's current assignments
    if if_match is not None and document.version != if_match:
        raise PreconditionFailed(
            msg("the document changed (version {version}, you sent {sent}); reload it and retry",
                version=document.version, sent=if_match))

    identity, target_view = _choose_identity(identities, request, document)
    target = next((a for a in document.assignments if target_view and a.id == target_view.id), None)
    step = _Step(session=session, document=document, identity=identity, request=request, today=today, now=now)
    handler = _HANDLERS.get(request.action, _Step.change_state)
    before = document.state
    handler(step, target)
    document.version += 1
    document.updated_at = now
    deadline_marks.refresh(session, document)
    # The sender of an electronic document is told, in this transaction (04, 05, 06); so are the
    # people and subscribers the action concerns.
    exchange_outbox.after_action(session=session, document=document, action=request.action, from_state=before,
                                 actor=user, now=now, tz=tz)
    change = notifications.SlipChange(
        document=document, action=request.action, actor=user, comment=request.comment,
        new_assignments=[a for a in document.assignments if a.created_at == now] if request.action == "direct" else [],
        assignment=target)
    notifications.after_action(session=session, change=change, now=now, tz=tz)
    webhooks.after_action(session=session, change=change, from_state=before, now=now)
    return document, identities


@dataclass
class _Step:
    """One action being applied: what the handlers share."""

    session: Session
    document: IncomingDocument
    identity: Identity
    request: ActionRequest
    today: date
    now: datetime

    def record(
        self, *, from_state: str, data: dict | None = None, assignment: Assignment | None = None
    ) -> DocumentEvent:
        last = self.session.scalar(
            select(func.max(DocumentEvent.seq)).where(DocumentEvent.document_id == self.document.id)
        )
        event = DocumentEvent(
            document_id=self.document.id,
            seq=(last or 0) + 1,
            action=self.request.action,
            from_state=from_state,
            to_state=self.document.state,
            actor_id=self.identity.user.id,
            on_behalf_of_id=self.identity.on_behalf_of.id if self.identity.on_behalf_of else None,
            assignment_id=assignment.id if assignment else None,
            at=self.now,
            comment=self.request.comment,
            data=data or {},
        )
        self.session.add(event)
        return event

    def due(self, spec: DueSpec, field: str, default: date | None = None) -> date | None:
        if spec.due_in_working_days is not None:
            return load_calendar(session=self.session).add_working_days(self.today, spec.due_in_working_days)
        if spec.due_date is not None and spec.due_date < self.today:
            raise ValidationFailed(field, msg("a deadline cannot be in the past"), code="due_date.past")
        return spec.due_date if spec.due_date is not None else default

    # --- handlers ---------------------------------------------------------------------------

    def change_state(self, _target: Assignment | None) -> None:
        """submit, propose, return, recall, archive: the document moves; the event says why."""
        before = self.document.state
        data: dict[str, object] = {}
        if isinstance(self.request, ProposeAction) and self.request.to_username:
            leader = get_user(session=self.session, username=self.request.to_username)
            if not may_be_proposed_to(leader):
                raise ValidationFailed("to_username", msg("'{username}' is not a leader", username=self.request.to_username),
                                       code="user.not_leader")
            data = {"to_username": leader.username, "to_full_name": leader.full_name}
        if isinstance(self.request, ArchiveAction):
            self.document.case_file_code = self.request.case_file_code
            data = {"case_file_code": self.request.case_file_code}
        self.document.state = document_after(before, self.request.action)
        self.record(from_state=before, data=data)

    def direct(self, _target: Assignment | None) -> None:
        request = self.request
        assert isinstance(request, DirectAction)
        units = {u.code: u for u in self.session.scalars(
            select(Unit).where(Unit.code.in_([a.unit_code for a in request.assignments])))}
        unknown = [a.unit_code for a in request.assignments if a.unit_code not in units]
        if unknown:
            raise ValidationFailed("assignments", msg("unknown unit(s): {units}", units=", ".join(unknown)),
                                   code="unit.unknown")
        previous_due = self.document.due_date
        document_due = self.due(request, "due_date", previous_due)
        before = self.document.state
        self.document.due_date = document_due
        rows = []
        for i, item in enumerate(request.assignments):
            due = self.due(item, f"assignments.{i}.due_date", document_due)
            rows.append(Assignment(
                document_id=self.document.id, unit_id=units[item.unit_code].id, role=item.role.value,
                state=AssignmentState.pending.value, due_date=due, created_at=self.now,
            ))
        self.session.add_all(rows)
        self.session.flush()
        self.document.state = document_after(before, "direct")
        self.record(from_state=before, data={
            "due_date": document_due.isoformat() if document_due else None,
            "from_due_date": previous_due.isoformat() if previous_due else None,
            "assignments": [
                {"assignment_id": a.id, "unit_code": item.unit_code, "role": a.role,
                 "due_date": a.due_date.isoformat() if a.due_date else None}
                for a, item in zip(rows, request.assignments, strict=True)
            ],
        })
        self.session.expire(self.document, ["assignments"])

    def assign(self, target: Assignment | None) -> None:
        request = self.request
        assert isinstance(request, AssignAction) and target is not None
        assignee = get_user(session=self.session, username=request.assignee_username)
        if not may_be_assigned(assignee, target.unit_id):
            raise ValidationFailed(
                "assignee_username", msg("'{username}' is not a member of unit {unit}",
                                         username=request.assignee_username, unit=target.unit.code),
                code="user.not_in_unit")
        previous_due = target.due_date
        target.due_date = self.due(request, "due_date", previous_due)
        target.assignee = assignee
        target.state = assignment_after(target.state, "assign")
        self.record(from_state=self.document.state, assignment=target, data={
            "assignment_id": target.id, "unit_code": target.unit.code, "assignee_username": assignee.username,
            "assignee_full_name": assignee.full_name,
            "due_date": target.due_date.isoformat() if target.due_date else None,
            "from_due_date": previous_due.isoformat() if previous_due else None,
        })

    def note(self, target: Assignment | None) -> None:
        """report: a dated note on the unit's part; nothing moves."""
        assert target is not None
        self.record(from_state=self.document.state, assignment=target,
                    data={"assignment_id": target.id, "unit_code": target.unit.code})

    def finish(self, target: Assignment | None) -> None:
        """complete / acknowledge: the assignment is done; a done lead resolves the document."""
        assert target is not None
        before = self.document.state
        target.state = assignment_after(target.state, self.request.action)
        if resolves_document(self.request.action, target.role, self.document.state):
            self.document.state = document_after(before, "resolve")
        self.record(from_state=before, assignment=target,
                    data={"assignment_id": target.id, "unit_code": target.unit.code, "role": target.role})

    def extend(self, _target: Assignment | None) -> None:
        request = self.request
        assert isinstance(request, ExtendAction)
        subject: Assignment | IncomingDocument = self.document
        if request.assignment_id is not None:
            subject = next(a for a in self.document.assignments if a.id == request.assignment_id)
            if subject.state == AssignmentState.done:
                raise Conflict(msg("the assignment is already done; its deadline cannot move"), code="assignment.done")
        old = subject.due_date
        new = self.due(request, "due_date")
        assert new is not None
        if old is not None and new <= old:
            raise ValidationFailed("due_date", msg("an extension must be later than the current deadline {due_date}",
                                                  due_date=str(old)), code="due_date.not_later")
        subject.due_date = new
        self.record(
            from_state=self.document.state,
            assignment=subject if isinstance(subject, Assignment) else None,
            data={"assignment_id": request.assignment_id,
                  "unit_code": subject.unit.code if isinstance(subject, Assignment) else None,
                  "from_due_date": old.isoformat() if old else None, "to_due_date": new.isoformat()},
        )


_HANDLERS = {
    "direct": _Step.direct,
    "assign": _Step.assign,
    "report": _Step.note,
    "complete": _Step.finish,
    "acknowledge": _Step.finish,
    "extend": _Step.extend,
}


def may_be_proposed_to(user: User | None) -> bool:
    """Whom the office may report a document to (``propose``): an active leader."""
    return user is not None and user.is_active and Role.leader in user.roles


def proposable_leaders(*, session: Session) -> list[User]:
    """The propose form's choices (``may_be_proposed_to``)."""
    return [u for u in session.scalars(select(User).where(User.is_active.is_(True))) if may_be_proposed_to(u)]


def may_be_assigned(user: User | None, unit_id: int) -> bool:
    """Who a unit's part may be handed to (``assign``): an active member of that unit."""
    return user is not None and user.is_active and user.unit_id == unit_id


def assignable_users(*, session: Session, identities: list[Identity], document: IncomingDocument) -> list[User]:
    """Whom the reader may hand a part of ``document`` to now: the members of the units whose part
    awaits their ``assign`` (``may_be_assigned``), for the assign form's choices."""
    actors = [i.actor for i in identities]
    views = assignment_views(document)
    units = set()
    for view in views:
        for actor in actors:
            try:
                authorize("assign", actor, document.state, views, view.id, registered_by=document.created_by_id)
            except (NotPermitted, InvalidTransition):
                continue
            units.add(view.unit_id)
    if not units:
        return []
    members = session.scalars(select(User).where(User.unit_id.in_(sorted(units)), User.is_active.is_(True)))
    return [u for u in members if any(may_be_assigned(u, unit) for unit in units)]


def list_events(*, session: Session, document: IncomingDocument) -> list[DocumentEvent]:
    return list(
        session.scalars(
            select(DocumentEvent).where(DocumentEvent.document_id == document.id).order_by(DocumentEvent.seq)
        )
    )
