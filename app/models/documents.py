"""Incoming documents (văn bản đến), their event log, assignments and attachments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.organisation import Unit, User
from app.models.registers import Register
from app.workflow.worklist import PRIORITY_INDEX_RANK

SEARCH_TRGM_INDEX = "ix_incoming_documents_search_trgm"
SQLITE_SEARCH_TABLE = "incoming_documents_fts"
EVENTS_TIMELINE_INDEX = "ix_document_events_timeline"
OPEN_ASSIGNMENTS_INDEX = "ix_assignments_open"
OVERDUE_AFTER_INDEX = "ix_incoming_documents_overdue_after"
PRIORITY_INDEX = "ix_incoming_documents_priority"
# Documents that can still be on a work list; the others (archived, recalled) are most of a year's.
PRIORITY_INDEX_WHERE = "state NOT IN ('archived', 'recalled')"


class IncomingDocument(Base):
    __tablename__ = "incoming_documents"
    __table_args__ = (
        UniqueConstraint("register_id", "year", "arrival_number"),
        # The same document (symbol + issuer + date) may be registered once, unless a clerk
        # explicitly registers it again, which records ``duplicate_of_id``. The partial index
        # makes that rule hold under concurrent requests too.
        Index(
            "uq_incoming_documents_identity",
            "symbol_key",
            "issuer_key",
            "document_date",
            unique=True,
            sqlite_where=text("duplicate_of_id IS NULL"),
            postgresql_where=text("duplicate_of_id IS NULL"),
        ),
        Index("ix_incoming_documents_received", "received_at", "id"),
        Index("ix_incoming_documents_state_due", "state", "due_date"),
        # The work list's order (app.workflow.worklist.priority_order_sql), so that a page of a long
        # list is an index walk rather than a sort of every match.
        Index(PRIORITY_INDEX, text(f"({PRIORITY_INDEX_RANK})"), text("(effective_due_date IS NULL)"),
              "effective_due_date", "received_at", "id",
              sqlite_where=text(PRIORITY_INDEX_WHERE), postgresql_where=text(PRIORITY_INDEX_WHERE)),
        # The documents that can become overdue as they stand: ``overdue_after < today`` is the
        # ``overdue`` filter and the audit's "overdue now" (app.services.deadline_marks).
        Index(OVERDUE_AFTER_INDEX, "overdue_after", sqlite_where=text("overdue_after IS NOT NULL"),
              postgresql_where=text("overdue_after IS NOT NULL")),
        # Substring search on the folded text. PostgreSQL: a trigram GIN index serves
        # LIKE '%term%'. SQLite gets an FTS5 trigram table instead (created in the migration).
        Index(
            SEARCH_TRGM_INDEX,
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    arrival_number: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    symbol: Mapped[str] = mapped_column(String(100))
    symbol_key: Mapped[str] = mapped_column(String(100))
    document_number: Mapped[str | None] = mapped_column(String(20))
    document_type: Mapped[str | None] = mapped_column(String(10))
    issuer_code: Mapped[str | None] = mapped_column(String(60))
    symbol_year: Mapped[int | None] = mapped_column(Integer)
    symbol_warning: Mapped[str | None] = mapped_column(String(255))
    symbol_as_written: Mapped[str | None] = mapped_column(String(100))  # when it differs from ``symbol``

    document_date: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(255))
    issuer_key: Mapped[str] = mapped_column(String(255), index=True)
    summary: Mapped[str] = mapped_column(String(500))
    urgency: Mapped[str] = mapped_column(String(16), index=True)
    confidentiality: Mapped[str] = mapped_column(String(16), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    page_count: Mapped[int | None] = mapped_column(Integer)
    signer_name: Mapped[str | None] = mapped_column(String(255))
    signer_position: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    case_file_code: Mapped[str | None] = mapped_column(String(64))  # hồ sơ, set when archived
    # Stored marks of the deadline rule (app.workflow.deadlines.document_deadline and
    # .overdue_after), recomputed by app.services.deadline_marks whenever the slip changes, so
    # that filters and audit figures over a million documents read a column instead of the rule's
    # subqueries. Never set by hand; tests/parity proves them equal to the rule.
    effective_due_date: Mapped[date | None] = mapped_column(Date)
    overdue_after: Mapped[date | None] = mapped_column(Date)

    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    search_text: Mapped[str] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    register: Mapped[Register] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="document", lazy="selectin", order_by="Assignment.id"
    )


class DocumentEvent(Base):
    """One step in a document's life: append-only, the source of every duration and audit figure."""

    __tablename__ = "document_events"
    __table_args__ = (
        UniqueConstraint("document_id", "seq"),
        Index("ix_document_events_action_at", "action", "at"),
        # Every column the audit reads from the log, in (document, seq) order: its figures are
        # index-only scans of a narrow index instead of visits to the wide rows (data, comment).
        Index(EVENTS_TIMELINE_INDEX, "document_id", "seq", "action", "from_state", "to_state", "at", "assignment_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The assignment a unit-level action concerns (assign, report, complete, acknowledge, extend).
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="RESTRICT"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id], lazy="joined")


class Assignment(Base):
    """A unit's part in handling a document: lead (chủ trì), cooperate (phối hợp) or inform (để biết)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("document_id", "unit_id"),
        Index("ix_assignments_unit_state", "unit_id", "state"),
        # The assignments not yet done, by document: where an overdue part can be (the stored
        # deadline marks' recompute, app.workflow.deadlines.overdue_after_sql), a small share of them all.
        Index(OPEN_ASSIGNMENTS_INDEX, "document_id", sqlite_where=text("state <> 'done'"),
              postgresql_where=text("state <> 'done'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[IncomingDocument] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")


class Attachment(Base):
    """A file that came with a document. Bytes live on disk, addressed by their SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id", ondelete="RESTRICT"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    """Remembers which document a client's ``Idempotency-Key`` produced, so a retry gets it back."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
