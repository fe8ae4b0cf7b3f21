"""Working time for the audit figures, fast: a memo of the calendar (Python), a day table (SQL).

Both give exactly what :class:`~app.workflow.calendar.WorkingCalendar` gives, float for float:

* :class:`MemoCalendar` is the calendar with ``is_working_day`` and ``working_days_between``
  remembered for the request, so ``working_days_elapsed`` over 100 000 documents stops redoing
  the same day arithmetic (the audit's Python path, SQLite);
* :func:`day_table` lays the calendar out as arrays PostgreSQL can index by local day — working
  or not, a running count of working days — and :func:`elapsed_working_days` /
  :func:`working_days_between` are the calendar's own formulas in SQL over those rows, the same
  float operations in the same order on the same exact inputs (microseconds), so the results are
  the same bits (see the calendar's module docstring for the counting rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    bindparam,
    case,
    cast,
    func,
    literal,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter, Grouping
from sqlalchemy.types import Boolean, Date

from app.workflow.calendar import TIME_ZONE, WorkingCalendar

ONE_DAY = timedelta(days=1)


class MemoCalendar(WorkingCalendar):
    """The calendar, remembering each day's kind and each span's count for as long as it lives.

    ``working_days_elapsed`` is the calendar's, step for step, with the days' midnights kept.
    """

    def __init__(self, calendar: WorkingCalendar) -> None:
        super().__init__(calendar.overrides.values())
        self._working: dict[date, bool] = {}
        self._between: dict[tuple[date, date], int] = {}
        self._days: dict[tuple[date, tzinfo], tuple[datetime, datetime, float]] = {}

    def is_working_day(self, d: date) -> bool:
        known = self._working.get(d)
        if known is None:
            known = self._working[d] = super().is_working_day(d)
        return known

    def working_days_between(self, a: date, b: date) -> int:
        known = self._between.get((a, b))
        if known is None:
            known = self._between[a, b] = super().working_days_between(a, b)
        return known

    def working_days_elapsed(self, start: datetime, end: datetime, tz: tzinfo = TIME_ZONE) -> float:
        """WorkingCalendar.working_days_elapsed with each day's midnights and length remembered:
        the same subtractions and divisions, in the same order, on the same instants (in UTC)."""
        if start.tzinfo is None or start.utcoffset() is None or end.tzinfo is None or end.utcoffset() is None:
            raise ValueError("working time needs timezone-aware datetimes")
        if end < start:
            return -self.working_days_elapsed(end, start, tz)
        first_day, last_day = start.astimezone(tz).date(), end.astimezone(tz).date()
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        if first_day == last_day:
            if not self.is_working_day(first_day):
                return 0.0
            return (end_utc - start_utc).total_seconds() / self._day(first_day, tz)[2]
        total = 0.0
        if self.is_working_day(first_day):
            _, following, seconds = self._day(first_day, tz)
            total += (following - start_utc).total_seconds() / seconds
        if self.is_working_day(last_day):
            midnight, _, seconds = self._day(last_day, tz)
            total += (end_utc - midnight).total_seconds() / seconds
        total += self.working_days_between(first_day, last_day - ONE_DAY)
        return total

    def _day(self, d: date, tz: tzinfo) -> tuple[datetime, datetime, float]:
        """The day's midnight and the next (in UTC) and its length in seconds."""
        known = self._days.get((d, tz))
        if known is None:
            midnight, following = _midnight(d, tz).astimezone(UTC), _midnight(d + ONE_DAY, tz).astimezone(UTC)
            known = self._days[d, tz] = (midnight, following, _seconds(midnight, following))
        return known


def _midnight(d: date, tz: tzinfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=tz)


def _seconds(a: datetime, b: datetime) -> float:
    return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds()


# The exact-microsecond trick below needs |microseconds since 1970| well under 2**52.
SAFE_SPAN = (date(1970, 1, 2), date(2100, 12, 31))
US_PER_DAY = 86_400_000_000


def microseconds(ts: ColumnElement) -> ColumnElement:
    """A timestamp as whole microseconds since 1970 (bigint), exactly.

    ``date_part('epoch', ts)`` is the microseconds divided by 10**6 and rounded to float8; times
    10**6 it is within half a microsecond of the exact count for any time before 2100, so rounding
    recovers it. Cheaper than ``EXTRACT`` (numeric arithmetic) by a wide margin, and exact, which
    ``date_part`` of an interval is not (it rounds twice).
    """
    return cast(func.round(func.date_part("epoch", ts) * literal(1e6, Float)), BigInteger)


def seconds_between(a_us: ColumnElement, b_us: ColumnElement) -> ColumnElement:
    """``(b - a).total_seconds()`` from microseconds: the exact difference divided by 10**6 in float8,
    rounded once, as Python's int / int is."""
    return cast(b_us - a_us, Float) / literal(1e6, Float)


EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Day:
    """The local day of a time (microseconds), as SQL expressions: its number (days since
    1970-01-01, local), whether it is a working day, the running count of working days up to it,
    and its midnights (microseconds). ``working`` and ``cum`` are NULL for a day outside the table."""

    number: ColumnElement
    working: ColumnElement
    cum: ColumnElement
    month: ColumnElement  # year * 100 + month
    midnight: ColumnElement
    next_midnight: ColumnElement


@dataclass(frozen=True)
class DayTable:
    """The calendar over local days ``first``..``last``, as arrays bound to the statement.

    ``cum[i]`` counts the working days from ``first`` to the i-th day inclusive, so the calendar's
    ``working_days_between(a, b)`` is ``cum(b) - cum(a)``. A day is found by arithmetic (a zone
    whose offset stays the same over the span — Vietnam's has been +07:00 since 1975 — has days of
    86 400 s, and a local day is a division away), then by subscript: no join, nothing for the
    planner to misjudge.
    """

    first: date
    offset_us: int
    working: BindParameter
    cum: BindParameter
    months: BindParameter
    month_names: dict[int, str]  # year * 100 + month → "YYYY-MM", formatted as the Python path does

    def day_of(self, ts_us: ColumnElement) -> Day:
        number = (ts_us + self.offset_us) // US_PER_DAY  # integer division (times after 1970)
        index = number - ((self.first - EPOCH_DAY).days - 1)
        midnight = number * US_PER_DAY - self.offset_us
        return Day(number, _subscript(self.working, index), _subscript(self.cum, index),
                   _subscript(self.months, index), midnight, midnight + US_PER_DAY)


def _subscript(array: BindParameter, index: ColumnElement) -> ColumnElement:
    return type_coerce(Grouping(array), array.type)[index]


def day_number(d: ColumnElement) -> ColumnElement:
    """A date column as the day numbers of :class:`Day` (PostgreSQL: date - date is an integer)."""
    return d - literal(EPOCH_DAY, Date)


def day_table(calendar: WorkingCalendar, tz: tzinfo, first: date, last: date) -> DayTable | None:
    """The day table, or None where it cannot stand in for the calendar (a zone with daylight
    saving or a changing offset in the span, or a span outside 1970–2100)."""
    if first < SAFE_SPAN[0] or last > SAFE_SPAN[1]:
        return None
    offset = _midnight(first, tz).utcoffset()
    assert offset is not None
    working: list[bool] = []
    cum: list[int] = []
    months: list[int] = []
    month_names: dict[int, str] = {}
    count = 0
    d, midnight = first, _midnight(first, tz)
    while d <= last:
        following = _midnight(d + ONE_DAY, tz)
        if midnight.utcoffset() != offset or _seconds(midnight, following) != DAY_SECONDS:
            return None
        is_working = calendar.is_working_day(d)
        count += is_working
        working.append(is_working)
        cum.append(count)
        months.append(d.year * 100 + d.month)
        month_names.setdefault(months[-1], d.strftime("%Y-%m"))
        d, midnight = d + ONE_DAY, following
    return DayTable(
        first=first,
        offset_us=offset // timedelta(microseconds=1),
        working=bindparam("cal_working", working, type_=ARRAY(Boolean)),
        cum=bindparam("cal_cum", cum, type_=ARRAY(Integer)),
        months=bindparam("cal_month", months, type_=ARRAY(Integer)),
        month_names=month_names,
    )


DAY_SECONDS = 86_400.0


def _elapsed_forward(a: ColumnElement, b: ColumnElement, da: Day, db: Day) -> ColumnElement:
    """WorkingCalendar.working_days_elapsed(a, b) for a <= b (microseconds): the same sums in the
    same order — a part of the first day, a part of the last, the whole working days between."""
    zero, day = literal(0.0, Float), literal(DAY_SECONDS, Float)
    first_part = case((da.working, seconds_between(a, da.next_midnight) / day), else_=zero)
    last_part = case((db.working, seconds_between(db.midnight, b) / day), else_=zero)
    whole_days = db.cum - cast(db.working, Integer) - da.cum
    return case(
        (da.number == db.number, case((da.working, seconds_between(a, b) / day), else_=zero)),
        else_=(first_part + last_part) + whole_days,
    )


def elapsed_working_days(a: ColumnElement, b: ColumnElement, da: Day, db: Day) -> ColumnElement:
    """Working days from ``a`` to ``b`` (microseconds; negative when ``b < a``), ``da``/``db`` their days."""
    return case((b < a, -_elapsed_forward(b, a, db, da)), else_=_elapsed_forward(a, b, da, db))


def working_days_between(da: Day, db: Day) -> ColumnElement:
    """WorkingCalendar.working_days_between(day a, day b): working days in (a, b], negative if b < a."""
    return db.cum - da.cum
