"""Action requests (a discriminated union on ``action``), events and delegations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from app.schemas.common import Code, InputDate, Schema, text
from app.workflow.requirements import direction_problem
from app.workflow.vocabulary import AssignmentRole, Role
from app.i18n import Invalid, msg

Comment = text(2000, required=False)
RequiredComment = text(2000)
WorkingDays = Annotated[int, Field(ge=0, le=365, description="Deadline in working days counted from the day after today")]


class DueSpec(Schema):
    """A deadline given as a date or as a number of working days (not both)."""

    due_date: InputDate | None = None
    due_in_working_days: WorkingDays | None = None

    @model_validator(mode="after")
    def _one_way(self) -> DueSpec:
        if self.due_date is not None and self.due_in_working_days is not None:
            raise Invalid(msg("give due_date or due_in_working_days, not both"), code="due.both_given")
        return self


class _Action(Schema):
    comment: Comment | None = None


class SubmitAction(_Action):
    """Clerk: send a registered (or returned) document to the office for review."""

    action: Literal["submit"] = "submit"


class ProposeAction(_Action):
    """Office leader: the office's opinion, reporting the document to a leader (e.g. "B/c A. Hồng")."""

    action: Literal["propose"] = "propose"
    to_username: str | None = Field(default=None, description="The leader it is reported to")


class DirectionUnit(DueSpec):
    unit_code: Code
    role: AssignmentRole


class DirectAction(_Action, DueSpec):
    """Leader (or office leader for a routine document): name the lead, cooperating and informed units."""

    action: Literal["direct"] = "direct"
    assignments: list[DirectionUnit] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_lead_no_repeats(self) -> DirectAction:
        problem = direction_problem((a.unit_code, a.role) for a in self.assignments)
        if problem is not None:
            raise Invalid(problem, code="direction.invalid", field="assignments")
        return self


class ReturnAction(_Action):
    """Office leader or leader: send the document back to the clerk, with the reason."""

    action: Literal["return"] = "return"
    comment: RequiredComment


class AssignAction(_Action, DueSpec):
    """Unit leader: hand the unit's part to a specialist of the unit."""

    action: Literal["assign"] = "assign"
    assignee_username: str
    assignment_id: int | None = None


class ReportAction(_Action):
    """Assignee or unit leader: a progress note; the state does not change."""

    action: Literal["report"] = "report"
    comment: RequiredComment
    assignment_id: int | None = None


class CompleteAction(_Action):
    """Assignee or unit leader: the result. Completing the lead assignment resolves the document."""

    action: Literal["complete"] = "complete"
    comment: RequiredComment
    assignment_id: int | None = None


class AcknowledgeAction(_Action):
    """A unit informed of the document (để biết) confirms it has read it."""

    action: Literal["acknowledge"] = "acknowledge"
    assignment_id: int | None = None


class ExtendAction(_Action, DueSpec):
    """Leader: move a deadline (the document's, or one assignment's). The old date stays in the events."""

    action: Literal["extend"] = "extend"
    comment: RequiredComment
    assignment_id: int | None = None

    @model_validator(mode="after")
    def _needs_a_date(self) -> ExtendAction:
        if self.due_date is None and self.due_in_working_days is None:
            raise Invalid(msg("give the new due_date or due_in_working_days"), code="due.missing", field="due_date")
        return self


class RecallAction(_Action):
    """Clerk: the sender recalled the document (thu hồi); it leaves all work lists but keeps its record."""

    action: Literal["recall"] = "recall"
    comment: RequiredComment


class ArchiveAction(_Action):
    """Clerk: file the resolved document into a case file (hồ sơ)."""

    action: Literal["archive"] = "archive"
    case_file_code: text(64, required=False) | None = None


ActionRequest = Annotated[
    SubmitAction | ProposeAction | DirectAction | ReturnAction | AssignAction | ReportAction | CompleteAction
    | AcknowledgeAction | ExtendAction | RecallAction | ArchiveAction,
    Field(discriminator="action"),
]


class EventAssignment(Schema):
    """One unit's assignment as a ``direct`` event made it."""

    assignment_id: int
    unit_code: str
    role: AssignmentRole
    due_date: date | None = None


class FieldChange(Schema):
    """One field an ``amend`` event (an accepted edXML update) changed: the value before and after."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str | int | None = Field(default=None, alias="from")
    to: str | int | None = None


class EventData(Schema):
    """What an event records besides its action, states and comment. Each key is present only where
    the action records it (an absent key is not null): ``register`` the register, year, arrival
    number and deadline; ``propose`` the leader it was reported to; ``direct`` the document's deadline
    before and after and the assignments made; ``assign`` the unit, assignee and deadline before and
    after; ``report``, ``complete`` and ``acknowledge`` the assignment (and its role); ``extend`` the
    deadline before and after; ``archive`` the case file; ``amend`` the changed fields and the edXML
    inbox item. Keys a later version adds come through as they are."""

    model_config = ConfigDict(extra="allow")

    register_code: str | None = None
    year: int | None = None
    arrival_number: int | None = None
    due_date: date | None = Field(default=None, description="The deadline the action set (register, direct, assign)")
    from_due_date: date | None = Field(default=None, description="The deadline in force before the action")
    to_due_date: date | None = Field(default=None, description="extend: the new deadline")
    to_username: str | None = Field(default=None, description="propose: the leader it is reported to")
    to_full_name: str | None = None
    case_file_code: str | None = None
    assignment_id: int | None = None
    unit_code: str | None = None
    role: AssignmentRole | None = None
    assignee_username: str | None = None
    assignee_full_name: str | None = None
    assignments: list[EventAssignment] | None = None
    changed: dict[str, FieldChange] | None = None
    inbox_id: int | None = None


class EventOut(Schema):
    seq: int
    action: str
    from_state: str | None
    to_state: str | None
    actor: str
    actor_full_name: str
    on_behalf_of: str | None
    at: datetime
    comment: str | None
    data: EventData = Field(description="Only the keys the action records (EventData)")


class DelegationIn(Schema):
    delegate_username: str
    starts_on: InputDate
    ends_on: InputDate = Field(description="At most a year: before the same day a year after starts_on")
    roles: list[Role] | None = Field(
        default=None, min_length=1,
        description="Which of your roles to lend (leader, office_leader, unit_leader); default: every one you hold")
    note: text(500, required=False) | None = None


class DelegationOut(Schema):
    id: int
    delegator: str
    delegate: str
    starts_on: date
    ends_on: date
    roles: list[Role]
    note: str | None
    revoked: bool
