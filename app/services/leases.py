"""Claiming rows of a work queue under a lease: the one way every worker queue is taken.

A queue is a table with ``id``, ``state`` (``pending`` while there is work) and ``claimed_until``.
A worker reads candidates (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so workers do not queue on
each other's rows), then takes each with a conditional UPDATE whose row count says whether it won:
two workers can never both hold a row, on PostgreSQL or SQLite. The claim commits at once; the
work happens outside any transaction, and its outcome is recorded only by the holder of the
lease (compare ``claimed_until`` with the lease returned here).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session


def claim(session: Session, model, *, now: datetime, lease: timedelta, limit: int,
          eligible: ColumnElement[bool] | None = None) -> list[tuple[int, datetime]]:
    """Claim up to ``limit`` pending rows of ``model`` (oldest first) that also meet ``eligible``;
    returns (id, lease end) pairs. Commits."""
    free = or_(model.claimed_until.is_(None), model.claimed_until < now)
    pending = model.state == "pending"
    query = select(model.id).where(pending, free, eligible if eligible is not None else true())
    query = query.order_by(model.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    until = now + lease
    claimed = []
    for row_id in session.scalars(query).all():
        won = session.execute(update(model).where(model.id == row_id, pending, free).values(claimed_until=until))
        if won.rowcount == 1:
            claimed.append((row_id, until))
    session.commit()
    return claimed
