"""Incoming document bodies: what a clerk sends to register, and what every client reads."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, field_validator

from app.schemas.common import CleanText, Code, InputDate, InputDatetime, Schema, readable_symbol, text
from app.workflow.vocabulary import AssignmentRole, AssignmentState, Channel, Confidentiality, DocumentState, Urgency

Summary = text(500)
ShortText = text(255, required=False)


class DocumentCreate(Schema):
    """Registration of an incoming document (đăng ký văn bản đến)."""

    register_code: Code = "main"
    symbol: text(100) = Field(
        description="Number and symbol (số, ký hiệu), e.g. 08/BC-BCĐ", examples=["08/BC-BCĐ"]
    )
    document_date: InputDate = Field(description="Date on the document (ngày tháng văn bản); not in the future")
    issuer: text(255) = Field(
        description="Issuing body (cơ quan ban hành)"
    )
    summary: Summary = Field(description="Subject line (trích yếu), at most 500 characters")
    urgency: Urgency = Urgency.normal
    confidentiality: Confidentiality = Confidentiality.normal
    due_date: InputDate | None = Field(default=None, description="Processing deadline (thời hạn xử lý)")
    received_at: InputDatetime | None = Field(
        default=None, description="Arrival time with offset; default now. Its date in Asia/Ho_Chi_Minh sets the year."
    )
    page_count: int | None = Field(default=None, ge=1, le=100_000)
    signer_name: ShortText | None = None
    signer_position: ShortText | None = None
    channel: Channel = Channel.paper
    notes: text(4000, required=False) | None = None
    allow_duplicate: bool = Field(
        default=False, description="Register even if the same symbol, issuer and date exist (recorded as a duplicate)"
    )

    @field_validator("symbol")
    @classmethod
    def _symbol_is_readable(cls, value: str) -> str:
        readable_symbol(value)  # refuses junk; registration keeps the text as written beside the parsed symbol
        return value


class AssignmentOut(Schema):
    id: int
    unit_code: str
    role: AssignmentRole
    state: AssignmentState
    assignee: str | None
    due_date: date | None
    overdue: bool


class Notice(Schema):
    code: str = Field(description="Stable, e.g. signature.main_unsigned, signature.main_invalid")
    message: str


class DocumentOut(Schema):
    id: int
    register_code: str
    year: int
    arrival_number: int = Field(description="Số đến: gapless per register and year")
    received_at: datetime
    symbol: str
    document_number: str | None
    document_type: str | None = Field(description="Decree 30 type code (BC, QĐ, …); null for an official letter")
    issuer_code: str | None
    symbol_year: int | None
    symbol_warning: str | None = Field(description="Set when the symbol could not be parsed; it is kept as written")
    symbol_as_written: str | None = Field(
        default=None, description="The symbol as typed when it differs from `symbol` (an en dash, a full-width "
        "slash, a leading 'Số' normalised)")
    document_date: date
    issuer: str
    summary: str
    urgency: Urgency
    confidentiality: Confidentiality
    due_date: date | None
    page_count: int | None
    signer_name: str | None
    signer_position: str | None
    channel: Channel
    notes: str | None
    duplicate_of: int | None
    state: DocumentState
    version: int
    overdue: bool
    allowed_actions: list[str]
    assignments: list[AssignmentOut]
    created_by: str
    created_at: datetime
    report_ids: list[int] = Field(default=[], description="Reports recorded from this document (GET /reports/{id})")
    warnings: list[Notice] = Field(
        default=[], description="On a registration's answer: what the clerk should look at, e.g. "
        "signature.main_unsigned for an electronic document whose main PDF is not signed")



class DocumentFilters(Schema):
    """Filters of ``GET /incoming-documents``; all optional and combined with AND."""

    q: CleanText | None = None
    state: DocumentState | None = None
    urgency: Urgency | None = None
    confidentiality: Confidentiality | None = None
    register_code: CleanText | None = None
    year: int | None = Field(default=None, ge=1, le=9999)
    issuer: CleanText | None = None
    unit_code: CleanText | None = None
    overdue: bool | None = None
    received_from: InputDate | None = None
    received_to: InputDate | None = None
    awaiting_me: bool | None = Field(
        default=None,
        description="true: only documents waiting for an action of yours (your work list); "
        "recalled and archived documents never wait for anyone",
    )
