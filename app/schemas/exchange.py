"""The electronic exchange's bodies: inbox items, the clerk's decisions, the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator

from app.schemas.attachments import SignedFile
from app.schemas.common import Code, InputDate, Schema, readable_symbol, text
from app.schemas.documents import ShortText, Summary
from app.workflow.vocabulary import Confidentiality, Urgency


class ExchangeWarning(Schema):
    code: str = Field(description="Stable, e.g. exchange.bad_date, exchange.not_addressed_to_us")
    message: str


class InboxAttachmentOut(SignedFile):
    id: int
    filename: str
    content_type: str = Field(description="Detected from the bytes (the sender's claim is declared_type)")
    declared_type: str | None
    size: int
    sha256: str
    unpacked_from: str | None = Field(description="The zip entry the bytes were unpacked from, if any")


class InboxItemOut(Schema):
    id: int
    kind: Literal["document", "status"]
    state: Literal["received", "registered", "refused", "superseded", "accepted", "rejected", "recorded"]
    business_type: Literal["new", "revoke", "update", "replace"] | None
    status_code: str | None = Field(description="For a status message: its two-digit StatusCode")
    edxml_document_id: str | None
    from_organ_id: str | None
    from_organ_name: str | None
    to_organ_ids: list[str]
    symbol: str | None
    document_date: date | None
    document_type: str | None
    issuer: str | None
    summary: str | None
    signer_name: str | None
    signer_position: str | None
    due_date: date | None
    urgency: Urgency
    page_count: int | None
    reason: str | None = Field(description="The sender's reason (BussinessDocReason, or a status's Description)")
    attachments: list[InboxAttachmentOut]
    warnings: list[ExchangeWarning]
    duplicate_of: int | None = Field(
        default=None, description="A registered document you may see with the same symbol, issuer and date")
    document_id: int | None = Field(description="The document registered from this item")
    target_document_id: int | None = Field(description="The registered document a revoke/update/replace names")
    received_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


class InboxRegister(Schema):
    """Registration of an inbox item: every field is prefilled from the message; send one to
    set or override it."""

    register_code: Code = "main"
    symbol: text(100, required=False) | None = None
    document_date: InputDate | None = None
    issuer: text(255, required=False) | None = None
    summary: Summary | None = None
    urgency: Urgency | None = None
    confidentiality: Confidentiality = Confidentiality.normal
    due_date: InputDate | None = None
    page_count: int | None = Field(default=None, ge=1, le=100_000)
    signer_name: ShortText | None = None
    signer_position: ShortText | None = None
    notes: text(4000, required=False) | None = None
    allow_duplicate: bool = False

    @field_validator("symbol")
    @classmethod
    def _symbol_is_readable(cls, value: str | None) -> str | None:
        return readable_symbol(value) if value else value


class Refusal(Schema):
    reason: text(2000) = Field(description="Why the document is returned to its sender (sent with status 02/16)")


class Acceptance(Schema):
    comment: text(2000, required=False) | None = None


class OutboxOut(Schema):
    id: int
    document_id: int | None
    inbox_id: int
    to_organ_id: str
    status_code: str
    description: str
    created_at: datetime
    state: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


class OutboxQueue(Schema):
    pending: int = Field(description="Status messages not yet delivered (including those backing off)")
    failed: int = Field(description="Refused by the hub for good (a 4xx answer)")
    oldest_pending_at: datetime | None
    last_error: str | None
    endpoint_configured: bool = Field(description="Whether CONGVAN_EXCHANGE_ENDPOINT is set")
