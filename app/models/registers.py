"""Registers (sổ đăng ký văn bản đến) and their per-year arrival counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class Register(Base):
    """A book of incoming documents with its own gapless numbering per year.

    Decree 30 keeps secret documents in a register of their own; ``confidential`` registers
    accept non-normal confidentiality, and only their named clerks may use or read them.
    """

    __tablename__ = "registers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clerk_rows: Mapped[list[RegisterClerk]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RegisterClerk(Base):
    """A clerk cleared to work a confidential register."""

    __tablename__ = "register_clerks"

    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class RegisterCounter(Base):
    """The last arrival number (số đến) given in a register for a year.

    The row is locked and incremented in the same transaction that inserts the document, so
    a rolled-back registration returns its number and numbers stay gapless.
    """

    __tablename__ = "register_counters"

    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
