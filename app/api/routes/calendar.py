"""Working-day calendar: public holidays and admin overrides."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import AdminUser, CurrentUser, Now, SessionDep, SettingsDep
from app.api.problems import error_responses
from app.models import User
from app.models.workflow import CalendarOverride
from app.schemas.calendar import MAX_WORKING_DAYS, CalendarDayOut, OverrideIn, OverrideOut, WorkingDaysOut
from app.schemas.common import EARLIEST_DATE, LATEST_DATE
from app.services import calendar as svc

router = APIRouter(prefix="/calendar", tags=["calendar"], responses=error_responses(401))

Year = Annotated[
    int | None,
    Query(ge=EARLIEST_DATE.year, le=LATEST_DATE.year, description="Calendar year; the current one if omitted"),
]
OverrideYear = Annotated[
    int | None,
    Query(ge=EARLIEST_DATE.year, le=LATEST_DATE.year, description="Only this year's overrides; all if omitted"),
]
Day = Annotated[date, Path(ge=EARLIEST_DATE, le=LATEST_DATE, description="The day, YYYY-MM-DD")]


def override_out(session: SessionDep, override: CalendarOverride) -> OverrideOut:
    author = session.get(User, override.created_by_id)
    return OverrideOut(
        day=override.day,
        kind=override.kind,  # type: ignore[arg-type]
        name=override.name,
        set_by=author.username if author else "",
        set_at=override.created_at,
    )


@router.get("", name="calendar-year", response_model=list[CalendarDayOut], responses=error_responses(422))
def calendar_year(
    _user: CurrentUser, session: SessionDep, settings: SettingsDep, now: Now, year: Year = None
) -> list[CalendarDayOut]:
    """The year's days that break the Monday–Friday rule, by date: public holidays (weekend ones
    included), extra days off and swapped working days, overrides replacing public entries."""
    year = year or now.astimezone(settings.tz).year
    calendar = svc.load_calendar(session=session, years=range(year, year + 1))
    return [CalendarDayOut.model_validate(day) for day in calendar.holidays_in(year)]


@router.get(
    "/working-days", name="calendar-working-days", response_model=WorkingDaysOut, responses=error_responses(422)
)
def working_days(
    _user: CurrentUser,
    session: SessionDep,
    start: Annotated[date, Query(ge=EARLIEST_DATE, le=LATEST_DATE, description="Day the count starts after")],
    days: Annotated[int, Query(ge=0, le=MAX_WORKING_DAYS, description="Working days to add")],
) -> WorkingDaysOut:
    """Preview a deadline: the ``days``-th working day after ``start`` (Friday 2026-04-24 + 3 is
    Monday 2026-05-04: 27 April, 30 April and 1 May are holidays)."""
    calendar = svc.load_calendar(session=session)
    return WorkingDaysOut(start=start, days=days, due_date=calendar.add_working_days(start, days))


@router.get(
    "/overrides", name="calendar-overrides-list", response_model=list[OverrideOut], responses=error_responses(422)
)
def list_overrides(_user: CurrentUser, session: SessionDep, year: OverrideYear = None) -> list[OverrideOut]:
    years = range(year, year + 1) if year is not None else None
    return [override_out(session, o) for o in svc.list_overrides(session=session, years=years)]


@router.put(
    "/overrides/{day}", name="calendar-overrides-set", response_model=OverrideOut, responses=error_responses(403, 422)
)
def set_override(day: Day, body: OverrideIn, admin: AdminUser, session: SessionDep) -> OverrideOut:
    """Create or replace the day's override (admin): an extra day off, or a weekend day worked."""
    override = svc.set_override(session=session, day=day, kind=body.kind, name=body.name, actor=admin)
    out = override_out(session, override)
    session.commit()
    return out


@router.delete(
    "/overrides/{day}", name="calendar-overrides-delete", status_code=204, responses=error_responses(403, 404, 422)
)
def delete_override(day: Day, _admin: AdminUser, session: SessionDep) -> None:
    svc.delete_override(session=session, day=day)
    session.commit()
