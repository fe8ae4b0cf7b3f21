"""Reports (báo cáo) and the records read from their appendices (phụ lục).

A report may point at the incoming document that brought it. Each appendix keeps the file it was
read from (name, SHA-256) and the warnings of its import; its groups keep the declared total next
to the computed one. Every record keeps the row's original text and line. Money is integer đồng
(BIGINT), never a float.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        # The same report (symbol + issuer + date) is recorded once.
        UniqueConstraint("symbol_key", "issuer_key", "report_date"),
        Index("ix_reports_date", "report_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(100))
    symbol_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(255))
    issuer_key: Mapped[str] = mapped_column(String(255), index=True)
    report_date: Mapped[date] = mapped_column(Date)
    incoming_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("incoming_documents.id", ondelete="RESTRICT"), index=True
    )
    search_text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    appendices: Mapped[list[Appendix]] = relationship(lazy="selectin", order_by="Appendix.id", viewonly=True)


class Appendix(Base):
    __tablename__ = "appendices"
    __table_args__ = (
        UniqueConstraint("report_id", "number"),
        CheckConstraint("kind IN ('projects', 'table', 'indicators')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))  # "I", "II"
    title: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    source_filename: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(8))  # text | csv | xlsx
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    money_unit: Mapped[str | None] = mapped_column(String(64))
    rows_imported: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    groups: Mapped[list[AppendixGroup]] = relationship(
        lazy="selectin", order_by="AppendixGroup.position", viewonly=True
    )


class AppendixGroup(Base):
    """A run of rows under one heading, with the total the report declares for it (Tổng cộng)."""

    __tablename__ = "appendix_groups"
    __table_args__ = (UniqueConstraint("appendix_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appendix_id: Mapped[int] = mapped_column(ForeignKey("appendices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    code: Mapped[str | None] = mapped_column(String(32))
    declared_total_vnd: Mapped[int | None] = mapped_column(BigInteger)
    declared_line: Mapped[int | None] = mapped_column(Integer)
    computed_total_vnd: Mapped[int | None] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(Integer)

    @property
    def matches(self) -> bool | None:
        if self.declared_total_vnd is None:
            return None
        return self.declared_total_vnd == self.computed_total_vnd


class ProjectRecord(Base):
    """One project of a project list: code, name, owner (chủ đầu tư), budget, years, status, notes."""

    __tablename__ = "project_records"
    __table_args__ = (
        CheckConstraint(
            "status IS NULL OR status IN ('not_started', 'preparing', 'in_progress', 'completed', 'stopped')",
            name="status",
        ),
        CheckConstraint("budget_basis IS NULL OR budget_basis IN ('estimated', 'approved')", name="budget_basis"),
        CheckConstraint("budget_vnd IS NULL OR budget_vnd >= 0", name="budget"),
        Index("ix_project_records_report_position", "report_id", "appendix_id", "position"),
        Index("ix_project_records_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    appendix_id: Mapped[int] = mapped_column(ForeignKey("appendices.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("appendix_groups.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order within the appendix
    line: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    owner_key: Mapped[str | None] = mapped_column(String(255), index=True)
    budget_vnd: Mapped[int | None] = mapped_column(BigInteger)
    budget_basis: Mapped[str | None] = mapped_column(String(16))
    planned_years: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str | None] = mapped_column(String(16))
    status_text: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    source_text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)

    group: Mapped[AppendixGroup] = relationship(lazy="joined")
    appendix: Mapped[Appendix] = relationship(lazy="joined", viewonly=True)


class TableRow(Base):
    """A row of an appendix that is not a project list: cells as text, numbers where they are numbers."""

    __tablename__ = "appendix_rows"
    __table_args__ = (Index("ix_appendix_rows_appendix_position", "appendix_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appendix_id: Mapped[int] = mapped_column(ForeignKey("appendices.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("appendix_groups.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(32))
    cells: Mapped[list[str]] = mapped_column(JSON)
    numbers: Mapped[list[str | None]] = mapped_column(JSON)
    source_text: Mapped[str] = mapped_column(Text)


class IndicatorRecord(Base):
    """An indicator (chỉ tiêu): its baseline, current value and target, as written and as numbers."""

    __tablename__ = "indicator_records"
    __table_args__ = (Index("ix_indicator_records_appendix_position", "appendix_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    appendix_id: Mapped[int] = mapped_column(ForeignKey("appendices.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("appendix_groups.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)
    indicator: Mapped[str] = mapped_column(Text)
    baseline_text: Mapped[str | None] = mapped_column(String(255))
    current_text: Mapped[str | None] = mapped_column(String(255))
    target_text: Mapped[str | None] = mapped_column(String(255))
    # Exact decimal text ("59", "0.04"): SQLite has no exact decimal type.
    baseline_value: Mapped[str | None] = mapped_column(String(40))
    current_value: Mapped[str | None] = mapped_column(String(40))
    target_value: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(16))
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    target_year: Mapped[int | None] = mapped_column(Integer)
    source_text: Mapped[str] = mapped_column(Text)
