"""The working calendar: Chinese holidays and make-up workdays, and deadline arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from complaintkit.core.calendar import (
    CalendarError,
    DayOverride,
    Duration,
    DurationUnit,
    MissingCalendarYear,
    WorkCalendar,
    format_hours,
    parse_hours,
)

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def whole_day() -> WorkCalendar:
    return WorkCalendar.chinese()


@pytest.fixture(scope="module")
def nine_to_six() -> WorkCalendar:
    return WorkCalendar.chinese(hours="09:00-18:00")


# The calendars below are built once for the property tests (hypothesis dislikes fixtures).
WHOLE = WorkCalendar.chinese(years=range(2024, 2027))
OFFICE = WorkCalendar.chinese(hours="08:30-12:00,13:30-17:30", years=range(2024, 2027))
CALENDARS = st.sampled_from([WHOLE, OFFICE])


# ---- the worked examples of the brief ----------------------------------------------------------


def test_return_visit_after_national_day_2025(whole_day: WorkCalendar) -> None:
    # G1: a return visit within 3 working days of the reply. Replied Tuesday 2025-09-30 16:00.
    # National Day + Mid-autumn: Oct 1–8 are off. Working days after the reply: Thu Oct 9 (1),
    # Fri Oct 10 (2), and the make-up Saturday Oct 11 (3). Our convention: the same clock time on
    # the 3rd following working day, so the deadline is Saturday 2025-10-11 16:00.
    replied = at(2025, 9, 30, 16)
    assert whole_day.add(replied, Duration.parse("3wd")) == at(2025, 10, 11, 16)
    # With office hours the reply is inside hours too, so the same clock time holds.
    assert WorkCalendar.chinese(hours="09:00-18:00").add(replied, "3wd") == at(2025, 10, 11, 16)
    for day in range(1, 9):
        assert not whole_day.is_workday(date(2025, 10, day))
    assert whole_day.is_workday(date(2025, 10, 11))  # make-up Saturday
    assert whole_day.is_workday(date(2025, 9, 28))  # make-up Sunday
    assert date(2025, 10, 11).weekday() == 5 and date(2025, 9, 28).weekday() == 6
    # ... and the package we take the data from agrees.
    assert chinese_calendar.is_workday(date(2025, 10, 11))
    assert chinese_calendar.is_workday(date(2025, 9, 28))
    assert not chinese_calendar.is_workday(date(2025, 10, 8))


def test_spring_festival_2026_working_hours(nine_to_six: WorkCalendar) -> None:
    # 1 h on Fri 13 Feb (17:00–18:00), 9 h on the make-up Saturday 14 Feb, Spring Festival off
    # 15–23 Feb, then 2 h on Tue 24 Feb: 09:00 + 2 h = 11:00.
    start = at(2026, 2, 13, 17)
    assert nine_to_six.add(start, Duration.parse("12wh")) == at(2026, 2, 24, 11)
    assert nine_to_six.add_working_hours(start, 12) == at(2026, 2, 24, 11)
    assert nine_to_six.working_time_between(start, at(2026, 2, 24, 11)) == timedelta(hours=12)
    assert chinese_calendar.is_workday(date(2026, 2, 13))
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # make-up Saturday
    assert date(2026, 2, 14).weekday() == 5
    for day in range(15, 24):
        assert not chinese_calendar.is_workday(date(2026, 2, day))
        assert not nine_to_six.is_workday(date(2026, 2, day))
    assert chinese_calendar.is_workday(date(2026, 2, 24))


# ---- the data ---------------------------------------------------------------------------------


def _days(year_from: int, year_to: int) -> list[date]:
    d, out = date(year_from, 1, 1), []
    while d.year <= year_to:
        out.append(d)
        d += timedelta(days=1)
    return out


def test_agrees_with_chinese_calendar_on_every_day(whole_day: WorkCalendar) -> None:
    for d in _days(2004, 2026):
        assert whole_day.is_workday(d) == chinese_calendar.is_workday(d), d


def test_agrees_with_holidays_package_2024_2026(whole_day: WorkCalendar) -> None:
    # holidays.China records make-up workdays in ``weekend_workdays``; ``is_working_day`` is
    # "a make-up day if a weekend, else not a holiday", the same rule as ours.
    cn = holidays.country_holidays("CN", years=range(2024, 2027))
    makeup = {d for d in cn.weekend_workdays if 2024 <= d.year <= 2026}
    assert date(2025, 10, 11) in makeup and date(2026, 2, 14) in makeup
    for d in _days(2024, 2026):
        assert whole_day.is_workday(d) == cn.is_working_day(d), d


def test_year_outside_data_raises_and_override_adds_it() -> None:
    cal = WorkCalendar.chinese()
    with pytest.raises(MissingCalendarYear, match="2027") as err:
        cal.is_workday(date(2027, 1, 4))
    assert err.value.year == 2027 and "State Council" in str(err.value)
    with pytest.raises(MissingCalendarYear, match="2003"):
        cal.is_workday(date(2003, 12, 31))
    # Arithmetic that runs past the data fails too, naming the year it needed.
    with pytest.raises(MissingCalendarYear, match="2027"):
        cal.add(at(2026, 12, 30, 10), "5wd")
    with pytest.raises(MissingCalendarYear, match="2027"):
        cal.working_time_between(at(2026, 12, 30), at(2027, 1, 2))

    # An override for an undeclared year is refused, so a forgotten year is never a guess.
    new_year = DayOverride(date(2027, 1, 1), workday=False, note="元旦")
    with pytest.raises(CalendarError, match="extra_years"):
        WorkCalendar.chinese(overrides=[new_year])

    # A hypothetical 2027 notice: Jan 1 off, Sat Jan 2 a make-up workday.
    cal27 = WorkCalendar.chinese(
        extra_years=[2027], overrides=[new_year, DayOverride.parse("2027-01-02=work:元旦调休")]
    )
    assert cal27.years == range(2004, 2028)
    assert not cal27.is_workday(date(2027, 1, 1))  # a Friday, off
    assert cal27.is_workday(date(2027, 1, 2))  # a Saturday, make-up
    assert cal27.is_workday(date(2027, 1, 4))  # Monday, weekday rule
    assert not cal27.is_workday(date(2027, 1, 3))
    # Thu 2026-12-31 10:00 + 2wd: Jan 1 off, Jan 2 (1), Jan 4 (2).
    assert cal27.add(at(2026, 12, 31, 10), "2wd") == at(2027, 1, 4, 10)
    with pytest.raises(MissingCalendarYear, match="2028"):
        cal27.is_workday(date(2028, 1, 3))


def test_overrides_correct_known_days() -> None:
    cal = WorkCalendar.chinese(overrides=[DayOverride(date(2025, 10, 8), True, "province works")])
    assert cal.is_workday(date(2025, 10, 8))
    assert "1 override" in repr(cal)
    with pytest.raises(CalendarError, match="conflicting"):
        WorkCalendar.chinese(overrides=[DayOverride(date(2025, 10, 8), True), DayOverride(date(2025, 10, 8), False)])


def test_years_must_be_contiguous_and_known() -> None:
    with pytest.raises(CalendarError, match="lacks"):
        WorkCalendar.from_days(years=[2024, 2026])
    with pytest.raises(MissingCalendarYear, match="2030"):
        WorkCalendar.chinese(years=[2030])
    assert WorkCalendar.chinese(years=[2025]).years == range(2025, 2026)


def test_from_days() -> None:
    cal = WorkCalendar.from_days(
        years=[2025], holidays=[date(2025, 1, 1)], workdays=[date(2025, 1, 4)], hours="09:00-18:00"
    )
    assert not cal.is_workday(date(2025, 1, 1))
    assert cal.is_workday(date(2025, 1, 4))
    assert not cal.is_workday(date(2025, 1, 5))
    assert cal.add(at(2025, 1, 3, 17), "2wh") == at(2025, 1, 4, 10)
    with pytest.raises(CalendarError, match="both"):
        WorkCalendar.from_days(years=[2025], holidays=[date(2025, 1, 1)], workdays=[date(2025, 1, 1)])


# ---- the convention -----------------------------------------------------------------------


def test_closing_time_stays(nine_to_six: WorkCalendar) -> None:
    assert nine_to_six.add(at(2025, 3, 3, 9), "9wh") == at(2025, 3, 3, 18)
    assert nine_to_six.add(at(2025, 3, 3, 9), "9.5wh") == at(2025, 3, 4, 9, 30)


def test_start_out_of_hours_counts_from_next_opening(nine_to_six: WorkCalendar) -> None:
    # Friday 20:00 → Monday 09:00 + 2 h.
    assert nine_to_six.add(at(2025, 3, 7, 20), "2wh") == at(2025, 3, 10, 11)
    # Saturday → Monday.
    assert nine_to_six.add(at(2025, 3, 8, 12), "2wh") == at(2025, 3, 10, 11)
    # Before opening.
    assert nine_to_six.add(at(2025, 3, 10, 7), "2wh") == at(2025, 3, 10, 11)
    # Working days from an out-of-hours start: count from the next opening (Mon 09:00).
    assert nine_to_six.add(at(2025, 3, 7, 20), "1wd") == at(2025, 3, 11, 9)
    # 18:00 is closing time, not a working moment: the start moves to the next opening.
    assert nine_to_six.add(at(2025, 3, 3, 18), "1wd") == at(2025, 3, 5, 9)
    assert nine_to_six.add(at(2025, 3, 3, 17, 59), "1wd") == at(2025, 3, 4, 17, 59)


def test_lunch_break() -> None:
    cal = WorkCalendar.chinese(hours=parse_hours("08:30-12:00,13:30-17:30"))
    # 11:00 + 2 h: 1 h until noon, lunch, 1 h after 13:30.
    assert cal.add(at(2025, 3, 3, 11), "2wh") == at(2025, 3, 3, 14, 30)
    # Landing exactly at noon stays at noon.
    assert cal.add(at(2025, 3, 3, 11), "1wh") == at(2025, 3, 3, 12)
    # A start in the lunch break counts from 13:30; working days keep that clock time.
    assert cal.add(at(2025, 3, 3, 12, 30), "1wh") == at(2025, 3, 3, 14, 30)
    assert cal.add(at(2025, 3, 3, 12, 30), "1wd") == at(2025, 3, 4, 13, 30)
    assert cal.working_time_between(at(2025, 3, 3, 8), at(2025, 3, 4, 8)) == timedelta(hours=7.5)


def test_natural_hours_ignore_calendar(nine_to_six: WorkCalendar) -> None:
    assert nine_to_six.add(at(2025, 10, 1, 3), "48h") == at(2025, 10, 3, 3)
    assert nine_to_six.add(at(2025, 10, 1, 3), "1.5h") == at(2025, 10, 1, 4, 30)
    assert nine_to_six.add_hours(at(2025, 10, 1, 3), timedelta(minutes=5)) == at(2025, 10, 1, 3, 5)


def test_results_in_calendar_zone(nine_to_six: WorkCalendar) -> None:
    start = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = nine_to_six.add(start, "2wh")
    assert result == at(2025, 3, 3, 11) and result.tzinfo == SH
    assert result.isoformat() == "2025-03-03T11:00:00+08:00"
    assert nine_to_six.add(start, "3h").tzinfo == SH


def test_between_is_antisymmetric(nine_to_six: WorkCalendar) -> None:
    a, b = at(2025, 9, 30, 16), at(2025, 10, 9, 10)
    assert nine_to_six.working_time_between(a, b) == timedelta(hours=3)
    assert nine_to_six.working_time_between(b, a) == -timedelta(hours=3)
    assert nine_to_six.working_time_between(a, a) == timedelta(0)


def test_zero_duration_returns_start(nine_to_six: WorkCalendar) -> None:
    sunday = at(2025, 3, 9, 12)
    assert nine_to_six.add(sunday, "0wh") == sunday
    assert nine_to_six.add(sunday, "0wd") == sunday


# ---- errors -------------------------------------------------------------------------------


def test_naive_datetime_refused(nine_to_six: WorkCalendar) -> None:
    naive = datetime(2025, 3, 3, 9)
    for call in (
        lambda: nine_to_six.add(naive, "2wh"),
        lambda: nine_to_six.add(naive, "2h"),
        lambda: nine_to_six.add(naive, "2wd"),
        lambda: nine_to_six.working_time_between(naive, at(2025, 3, 4)),
        lambda: nine_to_six.is_workday(naive),
    ):
        with pytest.raises(CalendarError, match="naive"):
            call()


@pytest.mark.parametrize(
    "text, message",
    [
        ("12x", "'12x': unknown unit 'x'; use h (natural hours), wh (working hours) or wd (working days)"),
        ("12", "missing unit"),
        ("wh", "missing amount"),
        ("", "empty"),
        ("-3h", "negative"),
        ("1.5wd", "whole number"),
        ("1..5h", "not a duration"),
    ],
)
def test_bad_duration_text(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Duration.parse(text)


@pytest.mark.parametrize("text", ["48h", "12wh", "3wd", "1.5h", "0.25wh"])
def test_duration_round_trip(text: str) -> None:
    assert str(Duration.parse(text)) == text
    assert Duration.parse(text) == Duration.parse(str(Duration.parse(text)))


def test_duration_parse_forms() -> None:
    assert Duration.parse("+12wh") == Duration(12, DurationUnit.WORKING_HOURS)
    assert Duration.parse(" 3 WD ") == Duration.working_days(3)
    assert Duration.parse("1.5h").amount == 1.5
    with pytest.raises(CalendarError):
        Duration(-1, DurationUnit.HOURS)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no working hours"),
        ("9-18", "bad time"),
        ("09:00-25:00", "bad time '25:00'"),
        ("09:00", "not a period"),
        ("18:00-09:00", "closes before it opens"),
        ("08:00-12:00,11:00-17:00", "starts before the previous one ends"),
        ("08:00-12:00;13:00-17:00", "bad time"),
    ],
)
def test_bad_hours_text(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_hours(text)


def test_hours_text() -> None:
    assert parse_hours("08:30-12:00,13:30-17:30") == ((time(8, 30), time(12)), (time(13, 30), time(17, 30)))
    assert parse_hours("22:00-24:00") == ((time(22), time(0)),)
    assert format_hours(parse_hours("8:30-12:00, 13:30-24:00")) == "08:30-12:00,13:30-24:00"
    with pytest.raises(CalendarError, match="time zone"):
        WorkCalendar.chinese(tz="Mars/Olympus")


def test_evening_shift_to_midnight() -> None:
    cal = WorkCalendar.chinese(hours="22:00-24:00")
    assert cal.add(at(2025, 3, 3, 23), "1wh") == at(2025, 3, 4, 0)
    assert cal.add(at(2025, 3, 3, 23), "2wh") == at(2025, 3, 4, 23)


# ---- properties -----------------------------------------------------------------------------

START = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 6, 30), timezones=st.just(SH))
WORK_HOURS = st.integers(min_value=0, max_value=400 * 3600).map(lambda s: timedelta(seconds=s))
WORK_DAYS = st.integers(min_value=0, max_value=60)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cal=CALENDARS, a=START, b=START, hours=WORK_HOURS)
def test_monotone_in_start(cal: WorkCalendar, a: datetime, b: datetime, hours: timedelta) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_working_hours(a, hours) <= cal.add_working_hours(b, hours)


@PROPS
@given(cal=CALENDARS, a=START, b=START, days=WORK_DAYS)
def test_monotone_in_start_working_days(cal: WorkCalendar, a: datetime, b: datetime, days: int) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.add_working_days(a, days) <= cal.add_working_days(b, days)


@PROPS
@given(cal=CALENDARS, s=START, x=WORK_HOURS, y=WORK_HOURS, m=WORK_DAYS, n=WORK_DAYS)
def test_monotone_in_amount(cal: WorkCalendar, s: datetime, x: timedelta, y: timedelta, m: int, n: int) -> None:
    assert cal.add_working_hours(s, min(x, y)) <= cal.add_working_hours(s, max(x, y))
    assert cal.add_working_days(s, min(m, n)) <= cal.add_working_days(s, max(m, n))
    assert cal.add_working_hours(s, x) >= s


@PROPS
@given(cal=CALENDARS, s=START, x=WORK_HOURS, y=WORK_HOURS)
def test_additive_working_hours(cal: WorkCalendar, s: datetime, x: timedelta, y: timedelta) -> None:
    s = cal.next_working_moment(s)
    assert cal.add_working_hours(cal.add_working_hours(s, x), y) == cal.add_working_hours(s, x + y)


@PROPS
@given(cal=CALENDARS, s=START, m=WORK_DAYS, n=WORK_DAYS)
def test_additive_working_days(cal: WorkCalendar, s: datetime, m: int, n: int) -> None:
    # This holds from any start: a start is first moved to a working moment, and every
    # working-day result is one.
    once = cal.add(s, Duration.working_days(m + n))
    assert cal.add_working_days(cal.add_working_days(s, m), n) == once


@PROPS
@given(cal=CALENDARS, s=START, x=WORK_HOURS)
def test_between_inverts_add(cal: WorkCalendar, s: datetime, x: timedelta) -> None:
    s = cal.next_working_moment(s)
    end = cal.add_working_hours(s, x)
    assert cal.working_time_between(s, end) == x
    assert cal.working_time_between(end, s) == -x


@PROPS
@given(cal=CALENDARS, s=START, x=WORK_HOURS)
def test_between_inverts_add_from_any_start(cal: WorkCalendar, s: datetime, x: timedelta) -> None:
    # Counting starts at the next working moment; nothing is counted before it.
    assert cal.working_time_between(s, cal.add_working_hours(s, x)) == x


@PROPS
@given(cal=CALENDARS, s=START, n=WORK_DAYS)
def test_working_days_are_whole_days_of_working_time(cal: WorkCalendar, s: datetime, n: int) -> None:
    start = cal.next_working_moment(s)
    end = cal.add_working_days(start, n)
    assert cal.working_time_between(start, end) == n * cal.working_day_length
    assert end.time() == start.time()
    if n:
        assert cal.is_working_moment(end)
        assert sum(cal.is_workday(start.date() + timedelta(days=i)) for i in range(1, (end.date() - start.date()).days + 1)) == n


@PROPS
@given(cal=CALENDARS, a=START, b=START, c=START)
def test_between_adds_up(cal: WorkCalendar, a: datetime, b: datetime, c: datetime) -> None:
    between = cal.working_time_between
    assert between(a, b) + between(b, c) == between(a, c)
    assume(a <= b)
    assert timedelta(0) <= between(a, b) <= b - a


# ---- benchmark smoke test ------------------------------------------------------------------


def test_bench_deadlines_smoke() -> None:
    from click.testing import CliRunner

    from complaintkit.bench.deadlines import deadlines

    result = CliRunner().invoke(deadlines, ["--cases", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert "ratio" in figures and figures["cases"] == 200


def test_queries_never_call_the_data_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = WorkCalendar.chinese(hours="09:00-18:00", years=range(2025, 2027))

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("chinese_calendar called per query")

    monkeypatch.setattr(chinese_calendar, "is_workday", boom)
    monkeypatch.setattr(chinese_calendar, "holidays", {})
    monkeypatch.setattr(chinese_calendar, "workdays", {})
    assert cal.add(at(2026, 2, 13, 17), "12wh") == at(2026, 2, 24, 11)
    assert cal.is_workday(date(2026, 2, 14))
    with pytest.raises(MissingCalendarYear, match="2024"):
        cal.is_workday(date(2024, 12, 31))


def test_calendar_is_a_value(nine_to_six: WorkCalendar) -> None:
    again = WorkCalendar.chinese(hours=[(time(9), time(18))])
    assert again == nine_to_six and hash(again) == hash(nine_to_six)
    assert again != WorkCalendar.chinese()
    assert "09:00-18:00" in repr(nine_to_six) and "2004..2026" in repr(nine_to_six)
    with pytest.raises(AttributeError):
        nine_to_six.hours = None  # type: ignore[misc]
    assert nine_to_six.working_day_length == timedelta(hours=9)


def test_bench_deadlines_reports_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from complaintkit.bench import deadlines as bench

    real = bench._Baseline.add_working_days
    monkeypatch.setattr(
        bench._Baseline, "add_working_days", lambda self, s, n: real(self, s, n) + timedelta(seconds=1)
    )
    result = CliRunner().invoke(bench.deadlines, ["--cases", "20"])
    assert result.exit_code != 0
    assert "case 0 (add working days) differs" in result.output
