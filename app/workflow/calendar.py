"""Working days (ngày làm việc): Vietnam's public holidays plus an admin's overrides.

Pure: no database, no HTTP. The public part comes from the ``holidays`` package
(``holidays.country_holidays("VN")``), which knows the lunar holidays (Tết, Hùng Kings), the
observed days when a holiday falls on a weekend (2026-04-27 for Hùng Kings) and the days off
the government swapped for a worked Saturday (2026-08-31 off, Saturday 2026-08-22 worked).
What it does not know yet, an admin enters as an :class:`Override`: an extra ``day_off`` or a
swapped ``working_day``. An override always wins over the public calendar for its day.

The week is Monday–Friday. Counting rules, shared by every function here so that they agree:

* ``add_working_days(start, n)`` counts from the day AFTER ``start``: the n-th working day after
  it. ``n == 0`` gives ``start`` itself; a negative ``n`` is the mirror image, the |n|-th
  working day before ``start``.
* ``working_days_between(a, b)`` is the number of working days ``d`` with ``a < d <= b``
  (negated when ``b < a``), so ``working_days_between(a, add_working_days(a, n)) == n`` for
  ``n >= 0``.
* Working *time* between two instants counts whole local calendar days that are working days
  (see :meth:`WorkingCalendar.working_days_elapsed` for why not office hours).
* A document is overdue once its deadline's working day has ended: :func:`overdue_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
COUNTRY = "VN"
ONE_DAY = timedelta(days=1)
# How the package's English names mark a day off given for a worked Saturday.
SUBSTITUTE_MARK = "(substituted from "

OverrideKind = Literal["day_off", "working_day"]
DayKind = Literal["holiday", "day_off", "working_day"]
DaySource = Literal["public", "override"]

DAY_OFF: OverrideKind = "day_off"
WORKING_DAY: OverrideKind = "working_day"


@dataclass(frozen=True, slots=True)
class Override:
    """An admin's word on one day: an extra ``day_off`` or a swapped ``working_day``."""

    day: date
    kind: OverrideKind
    name: str


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A day that differs from the plain Monday–Friday rule, or that has a name worth showing.

    ``kind`` is ``holiday`` (public holiday, possibly on a weekend), ``day_off`` (an extra day
    off: a public substitute day or an override) or ``working_day`` (a weekend day worked).
    ``name`` is Vietnamese; ``name_en`` is the package's English name (``None`` for overrides).
    """

    date: date
    name: str
    kind: DayKind
    source: DaySource
    name_en: str | None = None


@dataclass(frozen=True, slots=True)
class _PublicYear:
    days: tuple[CalendarDay, ...]  # sorted by date
    days_off: frozenset[date]  # holidays and substitute days off
    weekend_workdays: frozenset[date]


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


@lru_cache(maxsize=128)
def _public_year(year: int) -> _PublicYear:
    """One year of the public calendar, computed once per process.

    The neighbouring years are loaded too: the package records a swapped working Saturday
    while building the year of the day off it pays for, which can be the next or previous
    year (Saturday 2014-12-27 was worked for Friday 2015-01-02).
    """
    years = [y for y in (year - 1, year, year + 1) if 1 <= y <= 9999]
    english = holidays.country_holidays(COUNTRY, years=years, language="en_US")
    try:
        vietnamese: Mapping[date, str] = holidays.country_holidays(COUNTRY, years=years, language="vi")
    except (NotImplementedError, ValueError):  # an old package without Vietnamese names
        vietnamese = english

    days: dict[date, CalendarDay] = {}
    for d, name_en in english.items():
        if d.year != year:
            continue
        # "Day off (substituted from …)" is a swapped day, not a holiday in its own right.
        kind: DayKind = DAY_OFF if SUBSTITUTE_MARK in name_en else "holiday"
        days[d] = CalendarDay(d, vietnamese.get(d, name_en), kind, "public", name_en)

    workdays = {d for d in getattr(english, "weekend_workdays", ()) if d.year == year}
    for d in workdays:
        day_off = next((h for h in english if d.strftime("%m/%d/%Y") in english[h]), None)
        if day_off is None:
            name, name_en = "Ngày làm việc bù", "Swapped working day"
        else:
            name = f"Làm bù cho ngày nghỉ {day_off:%d/%m/%Y}"
            name_en = f"Working day (swapped for {day_off:%m/%d/%Y})"
        days[d] = CalendarDay(d, name, WORKING_DAY, "public", name_en)

    return _PublicYear(
        days=tuple(days[d] for d in sorted(days)),
        days_off=frozenset(d for d, day in days.items() if day.kind != WORKING_DAY),
        weekend_workdays=frozenset(workdays),
    )


class WorkingCalendar:
    """The working days of Vietnam's civil service, with an admin's overrides applied.

    Cheap to build (it only keeps the overrides); the public holidays are computed once per
    year per process and shared by every calendar.
    """

    def __init__(self, overrides: Iterable[Override] = ()) -> None:
        self._overrides: dict[date, Override] = {o.day: o for o in overrides}

    @property
    def overrides(self) -> Mapping[date, Override]:
        return dict(self._overrides)

    def is_working_day(self, d: date) -> bool:
        override = self._overrides.get(d)
        if override is not None:
            return override.kind == WORKING_DAY
        public = _public_year(d.year)
        if _is_weekend(d):
            return d in public.weekend_workdays
        return d not in public.days_off

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is never counted).

        ``add_working_days(Friday 2026-04-24, 3)`` is Monday 2026-05-04: 27 April is the
        observed Hùng Kings day, 30 April and 1 May are holidays. ``n == 0`` returns ``start``
        unchanged (even if it is not a working day); a negative ``n`` counts backwards from the
        day before ``start`` (``add_working_days(Monday 2026-05-04, -3)`` is Friday 2026-04-24).
        """
        step = ONE_DAY if n >= 0 else -ONE_DAY
        remaining = abs(n)
        d = start
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days ``d`` satisfy ``a < d <= b``; ``-working_days_between(b, a)`` if ``b < a``.

        The inverse of :meth:`add_working_days` for ``n >= 0``.

        Counts weekdays arithmetically, then corrects for the few exceptions (holidays, swapped
        days, overrides) in the range, so a span of years costs a few dozen set lookups.
        """
        if b < a:
            return -self.working_days_between(b, a)
        count = _weekdays_up_to(b) - _weekdays_up_to(a)
        exceptions: set[date] = {d for d in self._overrides if a < d <= b}
        for year in range(a.year, b.year + 1):
            public = _public_year(year)
            exceptions.update(d for d in public.days_off | public.weekend_workdays if a < d <= b)
        for d in exceptions:
            count += int(self.is_working_day(d)) - int(not _is_weekend(d))
        return count

    def working_days_elapsed(self, start: datetime, end: datetime, tz: tzinfo = TIME_ZONE) -> float:
        """Working time from ``start`` to ``end`` in working days (negative if ``end < start``).

        Each local calendar day (in ``tz``) that is a working day counts in full, 00:00–24:00;
        a day the interval covers partly counts by the fraction covered; non-working days count
        nothing. Received Friday 2026-04-24 12:00 and resolved Tuesday 2026-04-28 12:00 is
        0.5 (Friday) + 0 (weekend, 27 April holiday) + 0.5 (Tuesday) = 1.0.

        Whole calendar days rather than office hours (say 8:00–17:00), because: the deadline
        rule is day-granular ("overdue" means not resolved by the end of the deadline's working
        day), so elapsed time measured this way lines up with :meth:`add_working_days` and
        :func:`overdue_at`; office hours differ between agencies (7:30–16:30, 8:00–17:00, with
        or without a lunch break) and would need configuration; and work recorded out of hours
        (a clerk registering at 19:00) does not vanish into zero-length durations.
        """
        _require_aware(start, end)
        if end < start:
            return -self.working_days_elapsed(end, start, tz)
        first, last = start.astimezone(tz), end.astimezone(tz)
        first_day, last_day = first.date(), last.date()
        if first_day == last_day:
            return _fraction(first_day, first, last, tz) if self.is_working_day(first_day) else 0.0
        total = 0.0
        if self.is_working_day(first_day):
            total += _fraction(first_day, first, _midnight(first_day + ONE_DAY, tz), tz)
        if self.is_working_day(last_day):
            total += _fraction(last_day, _midnight(last_day, tz), last, tz)
        # The days strictly between the two ends count whole.
        total += self.working_days_between(first_day, last_day - ONE_DAY)
        return total

    def working_hours_between(self, start: datetime, end: datetime, tz: tzinfo = TIME_ZONE) -> float:
        """:meth:`working_days_elapsed` in hours: 24 hours per whole working day.

        In Asia/Ho_Chi_Minh (no daylight saving) this is exactly the clock time that fell on
        working days.
        """
        return self.working_days_elapsed(start, end, tz) * 24

    def holidays_in(self, year: int) -> list[CalendarDay]:
        """The year's named days, sorted: public holidays (weekend ones included), public
        substitute days off and swapped working days, and every override (which replaces the
        public entry of its day)."""
        days = {day.date: day for day in _public_year(year).days}
        for override in self._overrides.values():
            if override.day.year == year:
                days[override.day] = CalendarDay(override.day, override.name, override.kind, "override")
        return [days[d] for d in sorted(days)]


def overdue_at(due_date: date, tz: tzinfo = TIME_ZONE) -> datetime:
    """The instant a document due on ``due_date`` becomes overdue: local midnight after it."""
    return _midnight(due_date + ONE_DAY, tz)


def _weekdays_up_to(d: date) -> int:
    """Monday–Friday days from 0001-01-01 (a Monday, ordinal 1) to ``d`` inclusive."""
    weeks, rest = divmod(d.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _midnight(d: date, tz: tzinfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=tz)


def _seconds(a: datetime, b: datetime) -> float:
    # Via UTC: subtracting two datetimes that share a tzinfo ignores their offsets.
    return (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds()


def _fraction(day: date, a: datetime, b: datetime, tz: tzinfo) -> float:
    return _seconds(a, b) / _seconds(_midnight(day, tz), _midnight(day + ONE_DAY, tz))


def _require_aware(*values: datetime) -> None:
    if any(v.tzinfo is None or v.utcoffset() is None for v in values):
        raise ValueError("working time needs timezone-aware datetimes")
