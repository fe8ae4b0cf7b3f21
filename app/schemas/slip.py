"""The processing slip (phiếu giải quyết văn bản đến) as data: the paper form's four sections."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from app.schemas.common import Schema


class SlipAssignment(Schema):
    unit_code: str
    unit_name: str
    role: str
    role_label: str  # chủ trì / phối hợp / để biết
    due_date: date | None


class SlipEntry(Schema):
    """One dated, signed note on the slip."""

    author: str  # full name
    author_username: str
    author_title: str | None  # e.g. "Lãnh đạo Văn phòng"
    on_behalf_of: str | None  # the leader whose authority was used (ủy quyền)
    action: str
    text: str
    at: datetime
    assignments: list[SlipAssignment] | None = None
    due_date: date | None = None


class SlipSummary(Schema):
    """Section 1: Tóm tắt nội dung văn bản."""

    symbol: str
    urgency: str
    urgency_label: str
    confidentiality: str
    confidentiality_label: str
    register_code: str
    arrival_number: int
    received_at: datetime
    document_date: date
    issuer: str
    summary: str
    due_date: date | None
    state: str
    deadline: date | None = Field(
        default=None, description="The effective deadline: the document's own due_date, else its lead unit's")
    overdue: bool = Field(default=False, description="As the document's detail says it (one rule)")
    overdue_units: list[str] = Field(default_factory=list, description="Codes of the units whose part is overdue")


class SlipSignature(Schema):
    """A signed attachment's signature as the slip prints it (one line per signature)."""

    filename: str
    signer_name: str | None
    signed_at: datetime | None  # in the agency's time zone
    status: str  # valid | untrusted | invalid | unsupported | pending
    status_label: str  # hợp lệ, …


class Slip(Schema):
    document_id: int
    agency: str
    summary: SlipSummary
    signatures: list[SlipSignature] = Field(default_factory=list, description="Digital signatures of its PDFs")
    office_opinions: list[SlipEntry]
    leadership_directions: list[SlipEntry]
    unit_directions: list[SlipEntry]
    handler_results: list[SlipEntry]


class SlipLink(Schema):
    """A link that opens the printable slip in a browser, without a bearer token, for minutes."""

    url: str = Field(description="Relative to the server: /api/v1/incoming-documents/{id}/slip.html?token=…")
    expires_at: datetime
