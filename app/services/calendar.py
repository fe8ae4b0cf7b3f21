"""Calendar overrides (ngày nghỉ/ngày làm bù do quản trị nhập) and the working calendar built from them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import false, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import User
from app.models.base import utcnow
from app.models.workflow import CalendarOverride
from app.workflow.calendar import Override, OverrideKind, WorkingCalendar
from app.i18n import msg


def list_overrides(*, session: Session, years: range | None = None) -> list[CalendarOverride]:
    """Overrides by day: all of them, or those from the first to the last year of ``years``."""
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if years is not None:
        query = query.where(
            CalendarOverride.day.between(date(years[0], 1, 1), date(years[-1], 12, 31)) if years else false()
        )
    return list(session.scalars(query))


def load_calendar(*, session: Session, years: range | None = None) -> WorkingCalendar:
    """The working calendar with the stored overrides applied.

    Without ``years`` every override is loaded (the table holds a few rows a year). With
    ``years``, only those years' overrides: the calendar is then right only inside them.
    """
    rows = list_overrides(session=session, years=years)
    return WorkingCalendar(Override(day=row.day, kind=row.kind, name=row.name) for row in rows)  # type: ignore[arg-type]


def set_override(*, session: Session, day: date, kind: OverrideKind, name: str, actor: User) -> CalendarOverride:
    """Create or replace the override of ``day`` (one per day); ``actor`` and now become its author.

    An ``INSERT … ON CONFLICT DO UPDATE`` rather than read-then-write, so that two admins
    setting the same new day at once both succeed (the later one wins) instead of one hitting
    the primary key.
    """
    values = {"day": day, "kind": kind, "name": name, "created_by_id": actor.id, "created_at": utcnow()}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CalendarOverride).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[CalendarOverride.day], set_={k: v for k, v in values.items() if k != "day"}
    )
    session.execute(statement)
    session.flush()
    override = session.get(CalendarOverride, day, populate_existing=True)
    assert override is not None
    return override


def delete_override(*, session: Session, day: date) -> None:
    override = session.get(CalendarOverride, day)
    if override is None:
        raise NotFound(msg("no calendar override on {day}", day=day.isoformat()), code="calendar.override_not_found")
    session.delete(override)
    session.flush()
