"""Working days: the pure calendar, then the HTTP API with an admin's overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflow.calendar import Override, WorkingCalendar, overdue_at

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "/api/v1/calendar"
PUBLIC = WorkingCalendar()


# --- the pure calendar ------------------------------------------------------------------------


def test_three_working_days_from_friday_before_hung_kings_and_reunification_is_the_monday_after():
    # 27 Apr 2026 is the observed Hùng Kings day (26 Apr is a Sunday); 30 Apr and 1 May are holidays.
    assert PUBLIC.add_working_days(date(2026, 4, 24), 3) == date(2026, 5, 4)
    assert [PUBLIC.is_working_day(date(2026, 4, d)) for d in (27, 28, 29, 30)] == [False, True, True, False]


def test_tet_2026_takes_the_whole_week_of_16_to_20_february():
    tet = [d for d in PUBLIC.holidays_in(2026) if date(2026, 2, 1) <= d.date <= date(2026, 2, 28)]
    assert [d.date.day for d in tet] == [16, 17, 18, 19, 20]
    assert {d.kind for d in tet} == {"holiday"}
    assert tet[1].name == "Tết Nguyên Đán" and tet[1].name_en == "Lunar New Year"
    assert PUBLIC.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_zero_days_is_the_start_and_negative_days_count_backwards():
    assert PUBLIC.add_working_days(date(2026, 4, 25), 0) == date(2026, 4, 25)
    assert PUBLIC.add_working_days(date(2026, 5, 4), -3) == date(2026, 4, 24)


def test_the_package_swap_of_saturday_22_august_2026_for_monday_31_august():
    assert PUBLIC.is_working_day(date(2026, 8, 22))
    assert not PUBLIC.is_working_day(date(2026, 8, 31))
    days = {d.date: d for d in PUBLIC.holidays_in(2026)}
    assert (days[date(2026, 8, 22)].kind, days[date(2026, 8, 22)].source) == ("working_day", "public")
    assert days[date(2026, 8, 22)].name == "Làm bù cho ngày nghỉ 31/08/2026"
    assert days[date(2026, 8, 31)].kind == "day_off"
    # Friday 21 Aug + 1 is the worked Saturday; Friday 28 Aug + 1 skips 31 Aug, 1 and 2 Sep.
    assert PUBLIC.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)
    assert PUBLIC.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_a_swapped_saturday_worked_in_one_year_for_a_day_off_in_the_next():
    # Saturday 2014-12-27 was worked for Friday 2015-01-02.
    assert PUBLIC.is_working_day(date(2014, 12, 27))
    assert not PUBLIC.is_working_day(date(2015, 1, 2))


def test_an_override_wins_over_the_public_calendar():
    calendar = WorkingCalendar(
        [
            Override(date(2026, 11, 24), "working_day", "Làm việc ngày Văn hóa"),
            Override(date(2026, 11, 23), "day_off", "Nghỉ bù"),
            Override(date(2026, 11, 28), "working_day", "Thứ Bảy làm bù"),
        ]
    )
    assert not PUBLIC.is_working_day(date(2026, 11, 24))
    assert calendar.is_working_day(date(2026, 11, 24))
    assert not calendar.is_working_day(date(2026, 11, 23))
    assert calendar.is_working_day(date(2026, 11, 28))
    days = {d.date: d for d in calendar.holidays_in(2026)}
    assert days[date(2026, 11, 24)].source == "override"
    assert days[date(2026, 11, 24)].kind == "working_day"
    assert days[date(2026, 11, 23)].kind == "day_off"
    assert days[date(2026, 11, 23)].name_en is None


def test_holidays_in_lists_weekend_holidays_sorted_but_not_ordinary_weekends():
    days = PUBLIC.holidays_in(2026)
    dates = [d.date for d in days]
    assert dates == sorted(dates)
    assert date(2026, 4, 26) in dates  # Hùng Kings on a Sunday
    assert date(2026, 4, 25) not in dates  # an ordinary Saturday
    assert {d.source for d in days} == {"public"}


def test_working_days_between_counts_after_the_first_day_up_to_and_including_the_last():
    assert PUBLIC.working_days_between(date(2026, 4, 24), date(2026, 5, 4)) == 3
    assert PUBLIC.working_days_between(date(2026, 5, 4), date(2026, 4, 24)) == -3
    assert PUBLIC.working_days_between(date(2026, 4, 24), date(2026, 4, 24)) == 0
    # 2026: 261 weekdays, less 13 public days off on weekdays, plus Saturday 22 Aug worked.
    assert PUBLIC.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 261 - 13 + 1
    brute = sum(PUBLIC.is_working_day(date(2026, 1, 1) + timedelta(i)) for i in range(365))
    assert PUBLIC.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == brute


OVERRIDDEN = WorkingCalendar(
    [
        Override(date(2026, 4, 28), "day_off", "Nghỉ thêm"),
        Override(date(2026, 5, 2), "working_day", "Thứ Bảy làm bù"),
        Override(date(2027, 1, 2), "working_day", "Thứ Bảy làm bù"),
        Override(date(2026, 12, 31), "day_off", "Nghỉ thêm"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2013, 1, 1), max_value=date(2028, 12, 31)),
    n=st.integers(min_value=-400, max_value=400),
)
def test_counting_agrees_with_adding_and_with_a_day_by_day_count(start: date, n: int):
    due = OVERRIDDEN.add_working_days(start, n)
    if n > 0:
        assert OVERRIDDEN.is_working_day(due)
        assert OVERRIDDEN.working_days_between(start, due) == n
        assert sum(OVERRIDDEN.is_working_day(start + timedelta(i)) for i in range(1, (due - start).days + 1)) == n
    elif n < 0:  # the mirror image: |n| working days from due up to the day before start
        assert OVERRIDDEN.is_working_day(due)
        assert sum(OVERRIDDEN.is_working_day(due + timedelta(i)) for i in range((start - due).days)) == -n
    if OVERRIDDEN.is_working_day(start):
        assert OVERRIDDEN.add_working_days(due, -n) == start


def test_working_days_elapsed_counts_only_the_working_part_of_each_local_day():
    friday_noon = datetime(2026, 4, 24, 12, tzinfo=HCM)
    tuesday_noon = datetime(2026, 4, 28, 12, tzinfo=HCM)
    assert PUBLIC.working_days_elapsed(friday_noon, tuesday_noon) == pytest.approx(1.0)
    assert PUBLIC.working_days_elapsed(tuesday_noon, friday_noon) == pytest.approx(-1.0)
    assert PUBLIC.working_hours_between(friday_noon, tuesday_noon) == pytest.approx(24.0)
    # The same instants given in UTC: the local days still decide.
    assert PUBLIC.working_days_elapsed(friday_noon.astimezone(UTC), tuesday_noon.astimezone(UTC)) == pytest.approx(1.0)
    # Inside one day; and a span entirely on a holiday.
    assert PUBLIC.working_hours_between(datetime(2026, 4, 28, 8, tzinfo=HCM), datetime(2026, 4, 28, 17, tzinfo=HCM)) == (
        pytest.approx(9.0)
    )
    assert PUBLIC.working_days_elapsed(datetime(2026, 4, 30, 8, tzinfo=HCM), datetime(2026, 5, 1, 23, tzinfo=HCM)) == 0
    # Received the morning of day D, resolved at the end of D + 3 working days: 3.75 days.
    received = datetime(2026, 4, 24, 6, tzinfo=HCM)
    assert PUBLIC.working_days_elapsed(received, overdue_at(date(2026, 5, 4))) == pytest.approx(3.75)


def test_working_time_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        PUBLIC.working_days_elapsed(datetime(2026, 4, 24), datetime(2026, 4, 28, tzinfo=HCM))


def test_overdue_begins_at_local_midnight_after_the_due_day():
    assert overdue_at(date(2026, 5, 4)) == datetime(2026, 5, 4, 17, tzinfo=UTC)


# --- over HTTP --------------------------------------------------------------------------------


def _due(client, headers, start: str, days: int) -> str:
    response = client.get(f"{BASE}/working-days", params={"start": start, "days": days}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["days"]) == (start, days)
    return body["due_date"]


def _put(client, headers, day: str, kind: str, name: str):
    return client.put(f"{BASE}/overrides/{day}", json={"kind": kind, "name": name}, headers=headers)


def test_any_user_previews_a_deadline(client, as_user):
    specialist = as_user("specialist")
    assert _due(client, specialist, "2026-04-24", 3) == "2026-05-04"
    assert _due(client, specialist, "2026-02-13", 1) == "2026-02-23"
    assert _due(client, specialist, "2026-04-25", 0) == "2026-04-25"


def test_an_admins_swapped_saturday_and_extra_day_off_change_the_deadline(client, as_user):
    admin, clerk = as_user("admin"), as_user("clerk")
    assert _due(client, clerk, "2026-04-24", 3) == "2026-05-04"

    saturday = _put(client, admin, "2026-05-02", "working_day", "Làm bù cho ngày 04/05/2026")
    assert saturday.status_code == 200, saturday.text
    assert saturday.json() | {"set_at": None} == {
        "day": "2026-05-02", "kind": "working_day", "name": "Làm bù cho ngày 04/05/2026", "set_by": "admin",
        "set_at": None,
    }
    # 28 Apr, 29 Apr, then the worked Saturday.
    assert _due(client, clerk, "2026-04-24", 3) == "2026-05-02"

    assert _put(client, admin, "2026-04-28", "day_off", "Nghỉ thêm").status_code == 200
    assert _due(client, clerk, "2026-04-24", 3) == "2026-05-04"

    assert client.delete(f"{BASE}/overrides/2026-05-02", headers=admin).status_code == 204
    # 29 Apr, 4 May, 5 May.
    assert _due(client, clerk, "2026-04-24", 3) == "2026-05-05"


def test_putting_a_day_again_replaces_its_override(client, as_user):
    admin = as_user("admin")
    assert _put(client, admin, "2026-11-24", "day_off", "Nghỉ").status_code == 200
    replaced = _put(client, admin, "2026-11-24", "working_day", "  Làm việc bình thường ")
    assert replaced.status_code == 200
    assert (replaced.json()["kind"], replaced.json()["name"]) == ("working_day", "Làm việc bình thường")
    listed = client.get(f"{BASE}/overrides", params={"year": 2026}, headers=as_user("specialist"))
    assert listed.status_code == 200
    assert [(o["day"], o["kind"]) for o in listed.json()] == [("2026-11-24", "working_day")]
    assert client.get(f"{BASE}/overrides", params={"year": 2027}, headers=admin).json() == []
    assert _due(client, admin, "2026-11-23", 1) == "2026-11-24"


def test_the_year_lists_public_days_and_overrides_by_date(client, as_user):
    admin = as_user("admin")
    assert _put(client, admin, "2026-01-02", "day_off", "Nghỉ bù Tết Dương lịch").status_code == 200
    assert _put(client, admin, "2026-11-24", "working_day", "Làm việc").status_code == 200
    response = client.get(BASE, params={"year": 2026}, headers=as_user("auditor"))
    assert response.status_code == 200, response.text
    days = response.json()
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)
    by_date = {d["date"]: d for d in days}
    assert by_date["2026-01-01"] == {
        "date": "2026-01-01", "name": "Tết Dương lịch", "name_en": "New Year's Day", "kind": "holiday",
        "source": "public",
    }
    assert by_date["2026-04-27"]["kind"] == "holiday"
    assert by_date["2026-01-02"] | {"name_en": 0} == {
        "date": "2026-01-02", "name": "Nghỉ bù Tết Dương lịch", "name_en": 0, "kind": "day_off", "source": "override",
    }
    assert (by_date["2026-11-24"]["kind"], by_date["2026-11-24"]["source"]) == ("working_day", "override")
    assert "2026-04-25" not in by_date  # an ordinary Saturday


def test_only_an_admin_may_change_the_calendar(client, as_user):
    for username in ("clerk", "leader"):
        headers = as_user(username)
        response = _put(client, headers, "2026-05-02", "working_day", "Làm bù")
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert client.delete(f"{BASE}/overrides/2026-05-02", headers=headers).status_code == 403
    assert client.get(f"{BASE}/overrides", headers=as_user("admin")).json() == []
    assert client.get(f"{BASE}/working-days", params={"start": "2026-04-24", "days": 3}).status_code == 401


@pytest.mark.parametrize(
    ("day", "body", "field"),
    [
        ("2026-02-30", {"kind": "day_off", "name": "Nghỉ"}, "day"),
        ("tomorrow", {"kind": "day_off", "name": "Nghỉ"}, "day"),
        ("0001-01-01", {"kind": "day_off", "name": "Nghỉ"}, "day"),
        ("2026-05-02", {"kind": "holiday", "name": "Nghỉ"}, "kind"),
        ("2026-05-02", {"kind": "day_off", "name": "   "}, "name"),
        ("2026-05-02", {"kind": "day_off"}, "name"),
    ],
)
def test_a_bad_day_or_body_is_a_422_problem(client, as_user, day, body, field):
    response = client.put(f"{BASE}/overrides/{day}", json=body, headers=as_user("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    "params",
    [{"start": "2026-04-24", "days": 1001}, {"start": "2026-04-24", "days": -1}, {"start": "2026-13-01", "days": 1},
     {"days": 3}],
)
def test_a_bad_preview_is_a_422_problem(client, as_user, params):
    response = client.get(f"{BASE}/working-days", params=params, headers=as_user("clerk"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_the_largest_preview_is_answered(client, as_user):
    due = date.fromisoformat(_due(client, as_user("clerk"), "2026-01-01", 1000))
    assert date(2029, 11, 1) < due < date(2030, 2, 1)


def test_deleting_a_missing_override_is_404(client, as_user):
    response = client.delete(f"{BASE}/overrides/2026-05-02", headers=as_user("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "2026-05-02" in response.json()["detail"]
