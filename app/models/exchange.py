"""The electronic exchange: messages received from the hub (the inbox) and status messages to send.

An inbox item is what the clerk sees before registration: the header as read by the parser
(app.exchange), the warnings, the attachments (bytes on disk by SHA-256, as for documents) and
the raw message (also a blob, ``raw_sha256``). The outbox is a transactional outbox: a status
message is written, fully serialised, in the same transaction as the change it reports, and a
worker delivers it later (app.services.exchange_delivery).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow

OUTBOX_PENDING_INDEX = "ix_exchange_outbox_pending"


class ExchangeMessage(Base):
    """A message received from the hub: a document (new, revoke, update, replace) or a status."""

    __tablename__ = "exchange_messages"
    __table_args__ = (
        # The same message sent twice (same sender, DocumentId, business type and bytes) is one item.
        UniqueConstraint("dedupe_key"),
        Index("ix_exchange_messages_state_received", "state", "received_at"),
        Index("ix_exchange_messages_edxml_document", "edxml_document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # document | status
    state: Mapped[str] = mapped_column(String(16))  # received | registered | refused | superseded | accepted | rejected | recorded
    business_type: Mapped[str | None] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(64))
    edxml_document_id: Mapped[str | None] = mapped_column(String(255))
    from_organ_id: Mapped[str | None] = mapped_column(String(64), index=True)
    from_organ_name: Mapped[str | None] = mapped_column(String(255))
    to_organ_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Who we were for this message (CONGVAN_ORGAN_ID and our name when it arrived): the sender
    # of every status message about it.
    our_organ_id: Mapped[str] = mapped_column(String(64))
    our_organ_name: Mapped[str] = mapped_column(String(255))
    symbol: Mapped[str | None] = mapped_column(String(100))
    document_date: Mapped[date | None] = mapped_column(Date)
    document_type: Mapped[str | None] = mapped_column(String(100))
    issuer: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(String(500))
    signer_name: Mapped[str | None] = mapped_column(String(255))
    signer_position: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[date | None] = mapped_column(Date)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    page_count: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)  # BussinessDocReason, or a status's Description
    status_code: Mapped[str | None] = mapped_column(String(2))
    named_document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")  # folded symbol, summary, issuer, sender id
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(BigInteger)
    # The registered document this item became (new, replace) or names (revoke, update, 13).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"),
                                                    index=True)
    target_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="RESTRICT"), index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    attachments: Mapped[list[ExchangeAttachment]] = relationship(
        lazy="selectin", order_by="ExchangeAttachment.position")


class ExchangeAttachment(Base):
    """An attachment of an inbox item, decoded (and unpacked) from the message."""

    __tablename__ = "exchange_attachments"
    __table_args__ = (UniqueConstraint("message_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("exchange_messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    unpacked_from: Mapped[str | None] = mapped_column(String(255))


class ExchangeOutbox(Base):
    """A status message to the sender of a document, written with the change it reports."""

    __tablename__ = "exchange_outbox"
    __table_args__ = (
        # The worker's queue: what is still to send, oldest first (by id: the order per document).
        Index(OUTBOX_PENDING_INDEX, "next_attempt_at", "id", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
        # 01–06 at most once per inbox item (app.workflow.exchange_status decides which apply).
        Index("uq_exchange_outbox_once", "message_id", "status_code", unique=True,
              sqlite_where=text("once = 1"), postgresql_where=text("once")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("exchange_messages.id", ondelete="RESTRICT"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"),
                                                    index=True)
    to_organ_id: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[str] = mapped_column(String(2))
    once: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the edXML status message, as it is sent
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
