"""Reports, appendices and the records read from them (API.md, "Reports and appendices")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from app.reports.vocabulary import AppendixKind, BudgetBasis, ProjectStatus
from app.schemas.common import MAX_INT32, CleanText, InputDate, Schema, readable_symbol, text

AppendixNumber = Annotated[
    str,
    Field(min_length=1, max_length=20, pattern=r"^[\w.\-]+$", description='The appendix number as printed: "I", "II"'),
]
Money = Annotated[int, Field(description="Integer đồng (VND)")]


class ReportCreate(Schema):
    symbol: text(100) = Field(description="Number and symbol of the report, e.g. 08/BC-BCĐ", examples=["08/BC-BCĐ"])
    title: text(500) = Field(description="Title or subject (trích yếu) of the report")
    issuer: text(255) = Field(description="Issuing body; reports of the same issuer can be compared")
    report_date: InputDate
    incoming_document_id: int | None = Field(
        default=None, ge=1, le=MAX_INT32, description="The incoming document that brought the report"
    )

    @field_validator("symbol")
    @classmethod
    def _symbol_is_readable(cls, value: str) -> str:
        return readable_symbol(value)


class ImportWarning(Schema):
    line: int | None = Field(description="Line of the file (row of the worksheet); null for the whole file or group")
    message: str


class AppendixBrief(Schema):
    id: int
    number: str
    title: str | None
    kind: AppendixKind
    source_filename: str
    sha256: str
    rows_imported: int
    imported_at: datetime


class ReportOut(Schema):
    id: int
    symbol: str
    title: str
    issuer: str
    report_date: date
    incoming_document_id: int | None
    appendices: list[AppendixBrief]
    created_by: str
    created_at: datetime


class ReportFilters(Schema):
    q: CleanText | None = Field(default=None, description="Words in the symbol, title or issuer; diacritics ignored")
    issuer: CleanText | None = None
    incoming_document_id: int | None = Field(default=None, ge=1, le=MAX_INT32)


class GroupTotals(Schema):
    title: str
    declared_total_vnd: Money | None = Field(description="The group's Tổng cộng line, in đồng; null if none")
    computed_total_vnd: Money | None = Field(
        description="Sum of the rows' budgets in đồng; null for non-project tables"
    )
    matches: bool | None = Field(description="Declared equals computed exactly; null when nothing was declared")
    rows: int


class ImportOut(Schema):
    appendix_id: int
    kind: AppendixKind
    rows_imported: int
    groups: list[GroupTotals]
    warnings: list[ImportWarning]


class ProjectOut(Schema):
    row_type: Literal["project"] = "project"
    id: int
    code: str | None = Field(description="As printed, e.g. I.3; unique within its group only")
    name: str
    owner: str | None = Field(description="Chủ đầu tư")
    budget_vnd: Money | None
    budget_basis: BudgetBasis | None = Field(description="From the header: (ước) estimated, (đã phê duyệt) approved")
    planned_years: list[int]
    status: ProjectStatus | None = Field(description="null when the status words were not recognised")
    status_text: str | None = Field(description="The status as written")
    notes: str | None
    group: str
    group_id: int
    report_id: int
    appendix_id: int
    appendix_number: str
    line: int = Field(description="Line of the source file")
    source_text: str = Field(description="The row as it was in the file")


class TableRowOut(Schema):
    row_type: Literal["table"] = "table"
    id: int
    code: str | None
    cells: list[str] = Field(description="One text per column of the appendix's headers")
    numbers: list[str | None] = Field(description="Each cell's number as exact decimal text, where it is one")
    line: int
    source_text: str


class IndicatorOut(Schema):
    row_type: Literal["indicator"] = "indicator"
    id: int
    indicator: str
    baseline_text: str | None
    current_text: str | None
    target_text: str | None
    baseline_value: str | None = Field(description="Exact decimal text, e.g. '59' for 59%")
    current_value: str | None
    target_value: str | None
    unit: str | None
    baseline_year: int | None
    target_year: int | None
    line: int
    source_text: str


AppendixRow = Annotated[ProjectOut | TableRowOut | IndicatorOut, Field(discriminator="row_type")]


class GroupOut(Schema):
    id: int
    title: str
    code: str | None
    position: int
    declared_total_vnd: Money | None
    declared_line: int | None
    computed_total_vnd: Money | None
    matches: bool | None
    rows: list[AppendixRow]


class AppendixOut(Schema):
    id: int
    report_id: int
    number: str
    title: str | None
    kind: AppendixKind
    source_filename: str
    source_format: str
    sha256: str
    size: int
    headers: list[str]
    money_unit: str | None
    rows_imported: int
    warnings: list[ImportWarning]
    imported_by: str
    imported_at: datetime
    groups: list[GroupOut]


class ProjectFilters(Schema):
    status: ProjectStatus | None = None
    owner: CleanText | None = Field(default=None, description="Part of the owner's name; diacritics ignored: 'so tt'")
    report_id: int | None = Field(default=None, ge=1, le=MAX_INT32)
    q: CleanText | None = Field(default=None, description="Words in code, name, owner, status or notes")


class StatusFigures(Schema):
    status: ProjectStatus | None
    projects: int
    budget_vnd: Money


class GroupFigures(Schema):
    group_id: int
    appendix_number: str
    title: str
    projects: int
    budget_vnd: Money
    declared_total_vnd: Money | None
    matches: bool | None


class ReportSummary(Schema):
    report_id: int
    projects: int
    budget_vnd: Money = Field(description="Sum of all known budgets")
    projects_without_budget: int
    by_status: list[StatusFigures]
    by_group: list[GroupFigures]


class ProjectState(Schema):
    code: str | None
    group: str
    status: ProjectStatus | None
    status_text: str | None
    budget_vnd: Money | None


class ProjectChange(Schema):
    name: str
    owner: str | None
    matched_by: Literal["code_and_name", "name", "code_and_owner"]
    before: ProjectState
    after: ProjectState
    status_changed: bool
    budget_changed: bool
    budget_change_vnd: Money | None = Field(description="after − before, when both are known")


class ProjectBrief(Schema):
    code: str | None
    name: str
    owner: str | None
    group: str
    status: ProjectStatus | None
    budget_vnd: Money | None


class Comparison(Schema):
    report_id: int = Field(description="The earlier report (before)")
    other_id: int = Field(description="The later report (after)")
    matched: int
    unchanged: int
    changed: list[ProjectChange]
    added: list[ProjectBrief] = Field(description="In the other report only")
    removed: list[ProjectBrief] = Field(description="In this report only")
