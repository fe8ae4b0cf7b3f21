"""Working days: named days of a year, deadline previews and admin overrides."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from app.schemas.common import Schema, text
from app.workflow.calendar import DayKind, DaySource, OverrideKind

MAX_WORKING_DAYS = 1000


class CalendarDayOut(Schema):
    """A public holiday, an extra day off or a swapped working day."""

    date: dt.date
    name: str = Field(description="Vietnamese name (the admin's text for an override)")
    name_en: str | None = Field(description="English name of a public day; null for an override")
    kind: DayKind = Field(description="holiday | day_off (not worked) | working_day (a weekend day worked)")
    source: DaySource = Field(description="public (Vietnam's holiday calendar) | override (entered by an admin)")


class WorkingDaysOut(Schema):
    start: dt.date
    days: int = Field(description="Working days counted from the day after start")
    due_date: dt.date = Field(description="The days-th working day after start (start itself when days is 0)")


class OverrideIn(Schema):
    kind: OverrideKind = Field(description="day_off: an extra day off; working_day: a weekend day worked")
    name: text(255) = Field(description="Why, e.g. 'Làm bù cho ngày 02/01/2027'")


class OverrideOut(Schema):
    day: dt.date
    kind: OverrideKind
    name: str
    set_by: str = Field(description="Username of the admin who set it last")
    set_at: dt.datetime
