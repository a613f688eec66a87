"""The Chinese working calendar and deadline arithmetic (SPEC C2, G1, G2).

Time limits are given in natural hours (``48h``), working hours (``12wh``) or working days
(``3wd``). Working time follows the Chinese working calendar: statutory holidays are days off
and make-up workdays (调休, a Saturday or Sunday that is a working day) are working days.

Where the data comes from
    :meth:`WorkCalendar.chinese` reads the ``chinese_calendar`` package once (2004–2026 in
    1.11) and applies the operator's :class:`DayOverride` corrections. A year the package does
    not know is added by declaring it in ``extra_years`` *and* giving the State Council notice's
    days as overrides; any other day of that year follows the weekday rule (Mon–Fri work).
    Outside the known years every query raises :class:`MissingCalendarYear`: the calendar never
    guesses.

The convention (one rule for every operation)
    Working time is a line: ``W(t)`` is the working time from the start of the calendar up to
    the instant ``t``. A *working moment* is an instant inside a working period, which is
    half-open: ``[opening, closing)`` of a working day (the whole day, 00:00–24:00, when no
    hours are given).

    * ``add_hours`` (natural hours) ignores the calendar.
    * ``add_working_hours(s, d)`` is the *earliest* instant ``t`` with ``W(t) - W(s) = d``. So a
      start on a day off, before opening, in the lunch break or after closing begins counting at
      the next working moment, and a result that lands exactly at closing time stays there
      (18:00, not 09:00 next morning).
    * ``add_working_days(s, n)``: the start is moved to the next working moment if it is not one
      (18:00 is *not* a working moment, so an 18:00 start counts from the next opening); the
      result is the same wall-clock time on the n-th following working day. With fixed hours this
      is exactly ``n`` days' worth of working time: ``W(result) - W(start') = n * day``.
    * ``working_time_between(a, b)`` is ``W(b) - W(a)``: the working time inside ``[a, b)``,
      negative when ``b < a`` (so ``between(a, b) == -between(b, a)``).
    * A zero duration returns the start unchanged; negative durations are refused.

    Hence, from a working moment ``s``: ``between(s, add(s, d)) == d`` and
    ``add(add(s, a), b) == add(s, a + b)`` for working hours and for working days.

Times must be timezone-aware (a naive datetime is refused); results are in the calendar's time
zone (Asia/Shanghai by default). Neither ``chinese_calendar`` nor ``holidays`` is called per
query: the constructor builds sorted arrays of working periods and cumulative working time, and
each query is a bisection, O(log n).
"""

from __future__ import annotations

import enum
import functools
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from complaintkit.core.errors import ComplaintKitError
from complaintkit.logging import get_logger

__all__ = [
    "CalendarError",
    "CalendarYear",
    "CalendarYearError",
    "DayOverride",
    "Duration",
    "DurationUnit",
    "Holiday",
    "Hours",
    "MissingCalendarYear",
    "WorkCalendar",
    "chinese_data_years",
    "format_hours",
    "parse_hours",
]

#: Working hours of a day: ordered, non-overlapping ``(opening, closing)`` pairs of naive
#: wall-clock times. A closing time of ``time(0)`` means midnight at the end of the day (24:00).
Hours = tuple[tuple[time, time], ...]

log = get_logger(__name__)

_US_PER_HOUR = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORD = _EPOCH.date().toordinal()
_DAY_US = 86_400 * 1_000_000
_MIDNIGHT = time(0)


class CalendarError(ComplaintKitError, ValueError):
    """A calendar, a duration or a time given to the calendar is not usable."""


class MissingCalendarYear(CalendarError):
    """A query needs a year the calendar has no holiday data for."""

    def __init__(self, year: int, known: range | None = None) -> None:
        self.year = year
        self.known = known
        span = f" (it knows {known[0]}–{known[-1]})" if known else ""
        if known and year < known[0]:
            super().__init__(f"no working-calendar data for {year}{span}; times before {known[0]} are not supported")
            return
        super().__init__(
            f"no working-calendar data for {year}{span}. Add {year} from the State Council holiday "
            f"notice (国务院办公厅关于{year}年部分节假日安排的通知), every holiday and make-up workday: "
            f"a province adds it as a [year.{year}] table in its standard's calendar.toml, or returns "
            f"a CalendarYear({year}, holidays=[...], workdays=[...]) from the "
            f"complaintkit_calendar_overrides hook (docs/calendar.md, 'Adding a year'); "
            f"on the command line: --extra-year {year} --override {year}-01-01=off ..."
        )


# --------------------------------------------------------------------------------------------
# Durations


class DurationUnit(enum.Enum):
    HOURS = "h"  #: natural hours: the calendar is ignored
    WORKING_HOURS = "wh"
    WORKING_DAYS = "wd"


_UNIT_HELP = "use h (natural hours), wh (working hours) or wd (working days)"
_DURATION_RE = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)?\s*([^\d\s.+-][^\s]*)?\s*$")


def _check_amount(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalendarError(f"duration amount must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise CalendarError(f"duration amount must be a finite number >= 0, not {value!r}")


@attrs.define(frozen=True)
class Duration:
    """A time limit: an amount of natural hours, working hours or working days."""

    amount: int | float = attrs.field(validator=_check_amount)
    unit: DurationUnit = attrs.field(converter=DurationUnit)

    def __attrs_post_init__(self) -> None:
        if self.unit is DurationUnit.WORKING_DAYS and not float(self.amount).is_integer():
            raise CalendarError(
                f"{self.amount!r} working days: working days must be a whole number "
                f"(write a fraction of a day in working hours, e.g. 4wh)"
            )

    @classmethod
    def hours(cls, amount: float) -> Duration:
        return cls(amount, DurationUnit.HOURS)

    @classmethod
    def working_hours(cls, amount: float) -> Duration:
        return cls(amount, DurationUnit.WORKING_HOURS)

    @classmethod
    def working_days(cls, amount: int) -> Duration:
        return cls(amount, DurationUnit.WORKING_DAYS)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """``"48h"``, ``"12wh"``, ``"3wd"``, ``"1.5h"`` (a leading ``+`` is allowed)."""
        if not isinstance(text, str):
            raise CalendarError(f"duration must be text like '12wh', not {text!r}")
        m = _DURATION_RE.match(text)
        if not text.strip():
            raise CalendarError(f"{text!r}: empty duration; write an amount and a unit, e.g. 48h, 12wh or 3wd")
        if m is None:
            raise CalendarError(f"{text!r}: not a duration; write an amount and a unit, e.g. 48h, 12wh or 3wd")
        sign, number, unit = m.groups()
        if number is None:
            raise CalendarError(f"{text!r}: missing amount before the unit, e.g. 12wh")
        if unit is None:
            raise CalendarError(f"{text!r}: missing unit; {_UNIT_HELP}")
        if sign == "-":
            raise CalendarError(f"{text!r}: negative durations are not supported")
        try:
            u = DurationUnit(unit.lower())
        except ValueError:
            raise CalendarError(f"{text!r}: unknown unit {unit!r}; {_UNIT_HELP}") from None
        amount: int | float = float(number) if "." in number else int(number)
        if u is DurationUnit.WORKING_DAYS and not float(amount).is_integer():
            raise CalendarError(
                f"{text!r}: working days must be a whole number (write a fraction of a day in "
                f"working hours, e.g. 4wh)"
            )
        return cls(amount, u)

    @property
    def microseconds(self) -> int:
        """The amount in microseconds (hours units only)."""
        if self.unit is DurationUnit.WORKING_DAYS:
            raise CalendarError(f"{self}: working days have no fixed length in microseconds")
        return round(self.amount * _US_PER_HOUR)

    def __add__(self, other: Duration) -> Duration:
        if not isinstance(other, Duration):
            return NotImplemented
        if other.unit is not self.unit:
            raise CalendarError(f"cannot add {other} to {self}: different units")
        return Duration(self.amount + other.amount, self.unit)

    def __str__(self) -> str:
        a = self.amount
        text = str(int(a)) if float(a).is_integer() else repr(float(a))
        return f"{text}{self.unit.value}"


# --------------------------------------------------------------------------------------------
# Days and hours


@attrs.define(frozen=True)
class DayOverride:
    """One day of the calendar set by the operator: a holiday (``workday=False``) or a make-up
    workday (``workday=True``), e.g. from the State Council notice."""

    day: date = attrs.field(validator=attrs.validators.instance_of(date))
    workday: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.day, datetime):
            raise CalendarError(f"DayOverride.day must be a date, not a datetime ({self.day!r})")

    @classmethod
    def parse(cls, text: str) -> DayOverride:
        """``"2027-01-01=off"``, ``"2027-02-07=work"``, optionally ``":note"`` at the end."""
        day_text, sep, rest = text.partition("=")
        value, _, note = rest.partition(":")
        if not sep:
            raise CalendarError(f"{text!r}: write DATE=off or DATE=work, e.g. 2027-01-01=off")
        try:
            day = date.fromisoformat(day_text.strip())
        except ValueError:
            raise CalendarError(f"{text!r}: {day_text.strip()!r} is not a date like 2027-01-01") from None
        value = value.strip().lower()
        if value in ("off", "holiday", "rest"):
            return cls(day, False, note.strip())
        if value in ("work", "workday", "on"):
            return cls(day, True, note.strip())
        raise CalendarError(f"{text!r}: {value!r} must be 'off' (a holiday) or 'work' (a make-up workday)")

    def __str__(self) -> str:
        return f"{self.day.isoformat()}={'work' if self.workday else 'off'}" + (
            f":{self.note}" if self.note else ""
        )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: a holiday of a State Council notice lasts days, not weeks (the Spring Festival: 8–9 days); a
#: longer span is almost surely a mistyped date, which would silently take weeks off the calendar
_LONGEST_HOLIDAY = 15


class CalendarYearError(CalendarError):
    """A whole-year calendar entry is not usable. Each of ``problems`` starts with the field it is
    about (``holidays[1].last: …``; no field when it is about the whole entry), so the standard's
    loader and the calendar set-up can say which file or plugin, and which field."""

    def __init__(self, year: object, problems: Iterable[str]) -> None:
        self.year = year
        self.problems = tuple(problems)
        super().__init__(f"calendar year {year}: " + "; ".join(self.problems))


@attrs.define(frozen=True)
class Holiday:
    """One holiday of a State Council notice: days off from ``first`` to ``last``, both included
    (a one-day holiday when ``last`` is not given)."""

    name: str = attrs.field(validator=attrs.validators.instance_of(str))
    first: date = attrs.field(validator=attrs.validators.instance_of(date))
    last: date = attrs.field(default=attrs.Factory(lambda self: self.first, takes_self=True),
                             validator=attrs.validators.instance_of(date))

    def __attrs_post_init__(self) -> None:
        if isinstance(self.first, datetime) or isinstance(self.last, datetime):
            raise CalendarError(f"holiday {self.name!r}: first and last must be dates, not datetimes")

    def days(self) -> list[date]:
        one = timedelta(days=1)
        return [self.first + i * one for i in range((self.last - self.first).days + 1)]


def _as_tuple(value: Any) -> tuple[Any, ...]:
    # the values themselves are checked with the year (_year_problems), each naming its field
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise CalendarError(f"expected a list, not {value!r}")
    return tuple(value)


@attrs.define(frozen=True)
class CalendarYear:
    """A whole year of the working calendar, from the State Council holiday notice
    (for 2027: 国务院办公厅关于2027年部分节假日安排的通知): its holidays and its make-up workdays (调休).

    Every other day of the year follows the weekday rule (Monday–Friday work). Given to
    :meth:`WorkCalendar.chinese` (``calendar_years=``), the year is part of the calendar's data,
    and it replaces what ``chinese_calendar`` says about that year if the package knows it. A
    province gives it as a ``[year.2027]`` table in its standard's ``calendar.toml`` (read with
    :meth:`from_table`) or returns it from the ``complaintkit_calendar_overrides`` hook.

    Refused with :class:`CalendarYearError`: a day outside ``year``, a holiday whose ``last`` is
    before its ``first`` or that lasts more than 15 days, no holidays at all, a make-up workday on
    a Monday–Friday (it is a working day anyway: a mistyped date), a day both off and at work.
    """

    year: int
    holidays: tuple[Holiday, ...] = attrs.field(converter=_as_tuple)
    workdays: tuple[date, ...] = attrs.field(default=(), converter=_as_tuple)
    #: where the days come from, e.g. the notice's number (国办发明电〔2026〕…号)
    notice: str = ""

    def __attrs_post_init__(self) -> None:
        problems = _year_problems(self.year, list(enumerate(self.holidays)), list(enumerate(self.workdays)),
                                  given=bool(self.holidays))
        if not isinstance(self.notice, str):
            problems.append(f"notice: must be text, not {self.notice!r}")
        if problems:
            raise CalendarYearError(self.year, problems)

    @property
    def days_off(self) -> frozenset[date]:
        return frozenset(d for h in self.holidays for d in h.days())

    def is_workday(self, day: date) -> bool:
        """The notice's answer for a day of its year."""
        return day in self.workdays or (day.weekday() < 5 and day not in self.days_off)

    def __str__(self) -> str:
        return f"calendar year {self.year}" + (f" ({self.notice})" if self.notice else "")

    @classmethod
    def from_table(cls, year: str | int, table: Any) -> CalendarYear:
        """A year from its table in ``calendar.toml`` (or the same shape from any source)::

            [year.2027]
            notice = "国办发明电〔2026〕…号"
            holidays = [
              { name = "元旦", first = 2027-01-01, last = 2027-01-03 },
              { name = "清明节", first = 2027-04-05 },            # one day
            ]
            workdays = [2027-02-20]                               # make-up Saturdays and Sundays

        Dates are TOML dates or ``"2027-01-01"`` text. Every problem is reported at once, each
        naming its field (:class:`CalendarYearError`).
        """
        problems: list[str] = []
        number = _year_key(year)
        if number is None:
            raise CalendarYearError(year, [f"{year!r} is not a year; write the table as [year.2027]"])
        if not isinstance(table, dict):
            raise CalendarYearError(number, [f"must be a table with holidays and workdays, not {table!r}"])
        for key in table:
            if key not in ("notice", "holidays", "workdays"):
                problems.append(f"{key}: unknown field (a year has notice, holidays and workdays)")
        notice = table.get("notice", "")
        if not isinstance(notice, str):
            problems.append(f"notice: must be text, not {notice!r}")
            notice = ""
        holidays: list[tuple[int, Holiday]] = []
        raw_holidays = table.get("holidays", [])
        if not isinstance(raw_holidays, list):
            problems.append("holidays: must be a list of { name, first, last } tables")
            raw_holidays = []
        for i, entry in enumerate(raw_holidays):
            where = f"holidays[{i}]"
            if not isinstance(entry, dict):
                problems.append(f"{where}: must be a table like {{ name = \"元旦\", first = {number}-01-01, "
                                f"last = {number}-01-03 }}, not {entry!r}")
                continue
            for key in entry:
                if key not in ("name", "first", "last"):
                    problems.append(f"{where}.{key}: unknown field (a holiday has name, first and last)")
            name = entry.get("name", "")
            if not isinstance(name, str):
                problems.append(f"{where}.name: must be text, not {name!r}")
                name = ""
            if "first" not in entry:
                problems.append(f"{where}.first: required (the first day off)")
                continue
            first = _table_date(entry["first"], f"{where}.first", problems)
            last = _table_date(entry["last"], f"{where}.last", problems) if "last" in entry else first
            if first is not None and last is not None:
                holidays.append((i, Holiday(name, first, last)))
        workdays: list[tuple[int, date]] = []
        raw_workdays = table.get("workdays", [])
        if not isinstance(raw_workdays, list):
            problems.append(f"workdays: must be a list of dates, like [{number}-02-20]")
            raw_workdays = []
        for j, entry in enumerate(raw_workdays):
            day = _table_date(entry, f"workdays[{j}]", problems)
            if day is not None:
                workdays.append((j, day))
        # the checks of the values too, on what could be read, so every problem is told at once
        problems += _year_problems(number, holidays, workdays, given=bool(raw_holidays))
        if problems:
            raise CalendarYearError(number, problems)
        return cls(number, tuple(h for _, h in holidays), tuple(d for _, d in workdays), notice)


def _year_key(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}", value.strip()):
        return int(value)
    return None


def _table_date(value: Any, where: str, problems: list[str]) -> date | None:
    if isinstance(value, datetime):
        problems.append(f"{where}: {value.isoformat()} is a date-time; write the date only, like {value.date()}")
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(f"{where}: {value!r} is not a date like 2027-01-01")
    return None


def _year_problems(year: Any, holidays: Sequence[tuple[int, Any]], workdays: Sequence[tuple[int, Any]], *,
                   given: bool) -> list[str]:
    """What is wrong with a year's days; ``holidays`` and ``workdays`` keep their index in the
    entry, so each problem names its field."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
        return [f"year: must be a year like 2027, not {year!r}"]
    problems: list[str] = []
    hint = " (a day of another year belongs to that year's entry, or to a single-day [[day]] override)"

    def outside(day: date, where: str) -> None:
        nonlocal hint
        problems.append(f"{where}: {day} is not in {year}{hint}")
        hint = ""

    if not given:
        problems.append("holidays: none given; give every holiday of the State Council notice")
    off: dict[date, str] = {}
    for i, h in holidays:
        if not isinstance(h, Holiday):
            problems.append(f"holidays[{i}]: must be a Holiday(name, first, last), not {h!r}")
            continue
        where = f"holidays[{i}]"
        for field, day in (("first", h.first), ("last", h.last)):
            if day.year != year and (field == "first" or h.last != h.first):
                outside(day, f"{where}.{field}")
        if h.last < h.first:
            problems.append(f"{where}.last: {h.last} is before first ({h.first})")
            continue
        if (h.last - h.first).days + 1 > _LONGEST_HOLIDAY:
            problems.append(f"{where}: {h.first} to {h.last} is {(h.last - h.first).days + 1} days; a holiday "
                            f"of the notice lasts at most {_LONGEST_HOLIDAY} days (check the dates)")
            continue
        for day in h.days():
            off.setdefault(day, f"{where}" + (f" {h.name}" if h.name else ""))
    for j, day in workdays:
        where = f"workdays[{j}]"
        if not isinstance(day, date) or isinstance(day, datetime):
            problems.append(f"{where}: must be a date, not {day!r}")
            continue
        if day.year != year:
            outside(day, where)
        elif day in off:
            problems.append(f"{where}: {day} is also a holiday ({off[day]}); a day is either off or a make-up workday")
        elif day.weekday() < 5:
            problems.append(f"{where}: {day} is a {_WEEKDAYS[day.weekday()]}, a working day anyway; a make-up "
                            f"workday (调休) is a Saturday or Sunday (check the date)")
    return problems


_HOURS_HELP = "write periods as HH:MM-HH:MM separated by commas, e.g. 08:30-12:00,13:30-17:30"


def _parse_clock(text: str, whole: str, *, closing: bool) -> time:
    t = text.strip()
    if closing and t in ("24:00", "24:00:00"):
        return _MIDNIGHT
    try:
        if not re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", t):
            raise ValueError
        return time.fromisoformat(t.zfill(5) if len(t) == 4 else t)
    except ValueError:
        raise CalendarError(f"{whole!r}: bad time {t!r}; {_HOURS_HELP}") from None


def parse_hours(text: str) -> Hours:
    """``"08:30-12:00,13:30-17:30"`` → ``((08:30, 12:00), (13:30, 17:30))``.

    ``24:00`` is allowed as a closing time (returned as ``time(0)``).
    """
    if not isinstance(text, str) or not text.strip():
        raise CalendarError(f"{text!r}: no working hours; {_HOURS_HELP}")
    periods = []
    for part in text.split(","):
        opening, sep, closing = part.partition("-")
        if not sep:
            raise CalendarError(f"{text!r}: {part.strip()!r} is not a period; {_HOURS_HELP}")
        periods.append(
            (_parse_clock(opening, text, closing=False), _parse_clock(closing, text, closing=True))
        )
    return _check_hours(periods, text)


def format_hours(hours: Hours | None) -> str:
    if hours is None:
        return "00:00-24:00"

    def clock(t: time, closing: bool) -> str:
        if closing and t == _MIDNIGHT:
            return "24:00"
        return t.isoformat(timespec="minutes" if t.second == t.microsecond == 0 else "auto")

    return ",".join(f"{clock(a, False)}-{clock(b, True)}" for a, b in hours)


def _offset(t: time, closing: bool) -> timedelta:
    if closing and t == _MIDNIGHT:
        return timedelta(days=1)
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _check_hours(periods: Iterable[Any], text: Any = None) -> Hours:
    shown = text if text is not None else periods
    out: list[tuple[time, time]] = []
    previous_end = timedelta(0)
    for period in periods:
        try:
            opening, closing = period
        except (TypeError, ValueError):
            raise CalendarError(f"{shown!r}: each period must be an (opening, closing) pair of times") from None
        if isinstance(opening, str) or isinstance(closing, str):
            opening = _parse_clock(str(opening), str(shown), closing=False)
            closing = _parse_clock(str(closing), str(shown), closing=True)
        if not (isinstance(opening, time) and isinstance(closing, time)):
            raise CalendarError(f"{shown!r}: opening and closing must be datetime.time values")
        if opening.tzinfo is not None or closing.tzinfo is not None:
            raise CalendarError(f"{shown!r}: working hours are wall-clock times; drop the tzinfo")
        start, end = _offset(opening, False), _offset(closing, True)
        if end <= start:
            raise CalendarError(
                f"{shown!r}: period {format_hours(((opening, closing),))} closes before it opens "
                f"(overnight periods are not supported; split them at 24:00)"
            )
        if out and start < previous_end:
            raise CalendarError(
                f"{shown!r}: period {format_hours(((opening, closing),))} starts before the previous "
                f"one ends; give periods in order, without overlap"
            )
        out.append((opening.replace(fold=0), closing.replace(fold=0)))
        previous_end = end
    if not out:
        raise CalendarError(f"{shown!r}: no working hours; {_HOURS_HELP}")
    return tuple(out)


def _hours_converter(value: Any) -> Hours | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_hours(value)
    return _check_hours(value)


def _zone(value: Any) -> tzinfo:
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"unknown time zone {value!r} (use an IANA name like 'Asia/Shanghai')") from None
    if isinstance(value, tzinfo):
        return value
    raise CalendarError(f"time zone must be an IANA name or a tzinfo, not {value!r}")


def _years(value: Any) -> range:
    ys = sorted(set(value))
    if not ys:
        raise CalendarError("a calendar needs at least one year")
    if any(not isinstance(y, int) or isinstance(y, bool) for y in ys):
        raise CalendarError(f"years must be integers, not {ys!r}")
    gaps = [y for y in range(ys[0], ys[-1] + 1) if y not in set(ys)]
    if gaps:
        raise CalendarError(
            f"the calendar's years must follow each other: {ys[0]}–{ys[-1]} lacks {gaps}; add those years"
        )
    return range(ys[0], ys[-1] + 1)


@functools.cache
def chinese_data_years() -> range:
    """The years the installed ``chinese_calendar`` has holiday data for (2004–2026 in 1.11)."""
    import chinese_calendar as cc

    return range(min(cc.holidays).year, max(cc.holidays).year + 1)


def _frozen_days(days: Iterable[date]) -> frozenset[date]:
    return frozenset(days)


def _to_us(dt: datetime) -> int:
    return _td_us(dt - _EPOCH)


def _td_us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


# --------------------------------------------------------------------------------------------
# The calendar


@attrs.define(frozen=True, eq=False, repr=False)
class WorkCalendar:
    """Working days and hours over a run of known years, with deadline arithmetic.

    Build one with :meth:`chinese` (the statutory calendar) or :meth:`from_days` (tests, other
    sources) and keep it: the constructor does the work, queries are cheap.
    """

    #: the zone in which days, working hours and results are expressed
    tz: tzinfo = attrs.field(converter=_zone)
    #: working hours of every working day; None means the whole day
    hours: Hours | None = attrs.field(converter=_hours_converter)
    #: the years the calendar knows, contiguous
    years: range = attrs.field(converter=_years)
    #: every working day within ``years``
    workdays: frozenset[date] = attrs.field(converter=_frozen_days)
    #: where the data came from, for messages and ``repr``
    source: str = "custom"
    #: how many years after ``years`` the calendar still answers, on the weekday rule
    #: (Monday–Friday work, the same hours): results there are *provisional* (see :meth:`covers`).
    #: 0: a query past the data raises :class:`MissingCalendarYear`.
    provisional_years: int = attrs.field(default=0, kw_only=True)

    _first_ord: int = attrs.field(init=False)
    _flags: bytes = attrs.field(init=False)
    _starts: list[int] = attrs.field(init=False)
    _ends: list[int] = attrs.field(init=False)
    _cum: list[int] = attrs.field(init=False)
    _pday: list[int] = attrs.field(init=False)
    _wdates: list[date] = attrs.field(init=False)
    _lo: int = attrs.field(init=False)
    _hi: int = attrs.field(init=False)
    #: the years named in MissingCalendarYear (the data's, also for the weekday extension)
    _known: range = attrs.field(init=False)
    #: the calendar extended by ``provisional_years`` on the weekday rule, built on first use
    _extended: WorkCalendar | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        n = self.provisional_years
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100:
            raise CalendarError(f"provisional_years must be a whole number of years from 0 to 100, not {n!r}")
        first, last = date(self.years[0], 1, 1), date(self.years[-1], 12, 31)
        stray = sorted(d for d in self.workdays if not first <= d <= last)
        if stray:
            raise CalendarError(f"workdays outside the calendar's years {self.years[0]}–{self.years[-1]}: {stray[:5]}")
        tz = self.tz
        set_ = object.__setattr__
        n_days = last.toordinal() - first.toordinal() + 1
        flags = bytearray(n_days)
        # Periods are kept as wall-clock offsets and placed on each day through the zone, so a
        # zone with daylight saving still gets its periods at the right local times.
        periods = [(_offset(a, False), _offset(b, True)) for a, b in (self.hours or ((_MIDNIGHT, _MIDNIGHT),))]
        periods_us = [(_td_us(a), _td_us(b)) for a, b in periods]
        starts: list[int] = []
        ends: list[int] = []
        cum = [0]
        pday: list[int] = []
        wdates: list[date] = []
        first_ord = first.toordinal()
        one_day = timedelta(days=1)
        for day in sorted(self.workdays):
            flags[day.toordinal() - first_ord] = 1
            midnight = datetime.combine(day, _MIDNIGHT)
            at_midnight = midnight.replace(tzinfo=tz).utcoffset()
            if at_midnight is not None and at_midnight == (midnight + one_day).replace(tzinfo=tz).utcoffset():
                # no clock change this day (every day but a few in zones with daylight saving):
                # each period is the day's midnight in UTC plus its offset, without asking the zone
                # again — building the calendar is part of every worker's start
                base = (day.toordinal() - _EPOCH_ORD) * _DAY_US - _td_us(at_midnight)
                placed = [(base + a, base + b) for a, b in periods_us]
            else:
                placed = [(_to_us((midnight + a).replace(tzinfo=tz)), _to_us((midnight + b).replace(tzinfo=tz)))
                          for a, b in periods]
            for s, e in placed:
                if e <= s:  # a period swallowed by a clock change
                    continue
                starts.append(s)
                ends.append(e)
                cum.append(cum[-1] + e - s)
                pday.append(len(wdates))
            wdates.append(day)
        set_(self, "_first_ord", first.toordinal())
        set_(self, "_flags", bytes(flags))
        set_(self, "_starts", starts)
        set_(self, "_ends", ends)
        set_(self, "_cum", cum)
        set_(self, "_pday", pday)
        set_(self, "_wdates", wdates)
        set_(self, "_lo", _to_us(datetime.combine(first, _MIDNIGHT, tzinfo=tz)))
        set_(self, "_hi", _to_us(datetime.combine(last + timedelta(days=1), _MIDNIGHT, tzinfo=tz)))
        set_(self, "_known", self.years)

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def chinese(
        cls,
        *,
        tz: str | tzinfo = "Asia/Shanghai",
        hours: Hours | Sequence[tuple[time, time]] | str | None = None,
        overrides: Iterable[DayOverride] = (),
        years: Iterable[int] | None = None,
        extra_years: Iterable[int] = (),
        calendar_years: Iterable[CalendarYear] = (),
        provisional_years: int = 0,
    ) -> WorkCalendar:
        """The statutory calendar from ``chinese_calendar``, corrected by ``overrides``.

        ``calendar_years`` adds whole years from the State Council notice
        (:class:`CalendarYear`): each is part of the data from then on, and replaces the
        package's days of that year if the package knows it. ``extra_years`` declares bare years
        whose notice days are all given as ``overrides`` (the command line's ``--extra-year``);
        their other days follow the weekday rule. An override for a year that is neither in the
        package's data nor added is refused, so a forgotten year never turns into a silent
        guess. ``years`` restricts the calendar to some of the known years (a smaller index); it
        must be a contiguous run. ``provisional_years``: see :class:`WorkCalendar`.
        """
        import chinese_calendar as cc

        data = chinese_data_years()
        extra = set(extra_years)
        if any(not isinstance(y, int) or isinstance(y, bool) for y in extra):
            raise CalendarError(f"extra_years must be integers, not {sorted(extra, key=str)!r}")
        given: dict[int, CalendarYear] = {}
        for entry in calendar_years:
            if not isinstance(entry, CalendarYear):
                raise CalendarError(f"calendar_years must be CalendarYear values, not {entry!r}")
            if entry.year in given:
                raise CalendarError(f"{entry.year} is given twice: {given[entry.year]} and {entry}")
            given[entry.year] = entry
        available = set(data) | extra | set(given)
        if years is None:
            chosen = _years(available)
        else:
            wanted = set(years)
            missing = sorted(wanted - available)
            if missing:
                raise MissingCalendarYear(missing[0], data)
            chosen = _years(wanted)
        fixed: dict[date, DayOverride] = {}
        for o in overrides:
            if not isinstance(o, DayOverride):
                raise CalendarError(f"overrides must be DayOverride values, not {o!r}")
            if o.day.year not in available:
                raise CalendarError(
                    f"override {o} is for {o.day.year}, which chinese_calendar does not know "
                    f"({data[0]}–{data[-1]}); add the whole year from its State Council notice "
                    f"(calendar_years=[CalendarYear({o.day.year}, ...)]; in a standard: a "
                    f"[year.{o.day.year}] table in calendar.toml), or declare it with "
                    f"extra_years=[{o.day.year}] (CLI: --extra-year {o.day.year}) and give every holiday "
                    f"and make-up workday of the notice as overrides"
                )
            seen = fixed.get(o.day)
            if seen is not None and seen.workday != o.workday:
                raise CalendarError(f"conflicting overrides for {o.day}: {seen} and {o}")
            fixed[o.day] = o
        notice_days = {y: (e.days_off, frozenset(e.workdays)) for y, e in given.items()}
        workdays: set[date] = set()
        disagree: dict[int, list[date]] = {}
        day = date(chosen[0], 1, 1)
        end = date(chosen[-1], 12, 31)
        one = timedelta(days=1)
        while day <= end:
            fix = fixed.get(day)
            notice = notice_days.get(day.year)
            if notice is not None:
                off, on = notice
                work = day in on or (day.weekday() < 5 and day not in off)
                if day.year in data and work != (day in cc.workdays or (day.weekday() < 5 and day not in cc.holidays)):
                    disagree.setdefault(day.year, []).append(day)
            else:
                work = day in cc.workdays or (day.weekday() < 5 and day not in cc.holidays)
            if fix is not None:
                work = fix.workday
            if work:
                workdays.add(day)
            day += one
        for year, days in disagree.items():
            # the entry wins (a province may know better, or the package was wrong) but a
            # difference is worth a look: one of the two has a mistyped day
            log.warning("a whole-year calendar entry differs from chinese_calendar; the entry is used",
                        year=year, notice=given[year].notice, days=len(days), first=days[0].isoformat())
        source = f"chinese_calendar {getattr(cc, '__version__', '?')}"
        added = sorted(y for y in given if y in chosen)
        if added:
            source += " + " + ", ".join(str(y) for y in added) + " from the notice"
        if fixed:
            source += f" + {len(fixed)} override{'s' if len(fixed) != 1 else ''}"
        return cls(tz=tz, hours=hours, years=chosen, workdays=workdays, source=source,
                   provisional_years=provisional_years)

    @classmethod
    def from_days(
        cls,
        *,
        years: Iterable[int],
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        tz: str | tzinfo = "Asia/Shanghai",
        hours: Hours | Sequence[tuple[time, time]] | str | None = None,
        provisional_years: int = 0,
    ) -> WorkCalendar:
        """Monday–Friday work in ``years``, except ``holidays``; ``workdays`` are make-up days."""
        known = _years(years)
        off, on = set(holidays), set(workdays)
        both = sorted(off & on)
        if both:
            raise CalendarError(f"days given both as holidays and as workdays: {both[:5]}")
        for d in off | on:
            if d.year not in known:
                raise CalendarError(f"{d} is outside the calendar's years {known[0]}–{known[-1]}")
        days: set[date] = set()
        day, end, one = date(known[0], 1, 1), date(known[-1], 12, 31), timedelta(days=1)
        while day <= end:
            if day in on or (day.weekday() < 5 and day not in off):
                days.add(day)
            day += one
        return cls(tz=tz, hours=hours, years=known, workdays=days, source="from_days",
                   provisional_years=provisional_years)

    # ---- value behaviour ----------------------------------------------------------------------

    def __repr__(self) -> str:
        beyond = f", provisional_years={self.provisional_years}" if self.provisional_years else ""
        return (
            f"WorkCalendar(source={self.source!r}, tz={str(self.tz)!r}, "
            f"hours={format_hours(self.hours)!r}, years={self.years[0]}..{self.years[-1]}{beyond})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return (str(self.tz), self.hours, self.years, self.workdays, self.provisional_years) == (
            str(other.tz), other.hours, other.years, other.workdays, other.provisional_years)

    def __hash__(self) -> int:
        return hash((str(self.tz), self.hours, self.years, len(self.workdays)))

    @property
    def working_day_length(self) -> timedelta:
        """Working time in one working day (its wall-clock length; a clock change may alter it)."""
        periods = self.hours or ((_MIDNIGHT, _MIDNIGHT),)
        return sum((_offset(b, True) - _offset(a, False) for a, b in periods), timedelta(0))

    # ---- where the data ends ----------------------------------------------------------------

    @property
    def data_ends(self) -> date:
        """The last day the calendar has holiday data for (31 December of its last year)."""
        return date(self._known[-1], 12, 31)

    def covers(self, moment: date | datetime) -> bool:
        """Whether ``moment`` (a date, or an aware datetime taken in the calendar's zone) lies in
        the calendar's data, not in the weekday extension (``provisional_years``).

        A result of :meth:`add` that the calendar covers relied on data only: the arithmetic
        never looks past its result. One that it does not cover is *provisional*: computed on
        the weekday rule, it may change when the year is added. (A working-hours result landing
        exactly at midnight after :attr:`data_ends` counts as not covered: the safe side.)
        """
        if isinstance(moment, datetime):
            t = _to_us(self._aware(moment, "moment"))
            return self._lo <= t < self._hi
        if isinstance(moment, date):
            return self._known[0] <= moment.year <= self._known[-1]
        raise CalendarError(f"covers needs a date or a datetime, not {moment!r}")

    def _beyond(self, err: MissingCalendarYear) -> WorkCalendar:
        """After ``err``: the calendar extended on the weekday rule, or ``err`` again.

        The extension is a second index built on the first query that needs it, so a calendar
        whose queries stay inside its data pays nothing for it (neither at start-up nor per
        query: the callers catch the error, and a ``try`` costs nothing when nothing is raised).
        """
        if not self.provisional_years or err.year <= self._known[-1]:
            raise err
        extended = self._extended
        if extended is None:
            last = self.years[-1]
            tail = range(last + 1, last + 1 + self.provisional_years)
            day, end, one = date(tail[0], 1, 1), date(tail[-1], 12, 31), timedelta(days=1)
            weekdays = set(self.workdays)
            while day <= end:
                if day.weekday() < 5:
                    weekdays.add(day)
                day += one
            extended = WorkCalendar(tz=self.tz, hours=self.hours, years=range(self.years[0], tail[-1] + 1),
                                    workdays=weekdays, source=f"{self.source} + weekday rule {tail[0]}–{tail[-1]}")
            object.__setattr__(extended, "_known", self._known)
            # a race builds it twice at worst: both are equal
            object.__setattr__(self, "_extended", extended)
        return extended

    # ---- queries ----------------------------------------------------------------------------
    # Past the data, each query is answered again by the weekday extension (_beyond), when the
    # calendar has one; the hot paths are unchanged.

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day; an aware datetime is taken in the calendar's zone."""
        if isinstance(day, datetime):
            day = self._aware(day, "day").astimezone(self.tz).date()
        elif not isinstance(day, date):
            raise CalendarError(f"is_workday needs a date, not {day!r}")
        i = day.toordinal() - self._first_ord
        if 0 <= i < len(self._flags):
            return self._flags[i] == 1
        return self._beyond(MissingCalendarYear(day.year, self._known)).is_workday(day)

    def is_working_moment(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside a working period ``[opening, closing)``."""
        try:
            t = self._check(moment, "moment")
        except MissingCalendarYear as err:
            return self._beyond(err).is_working_moment(moment)
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is a working moment, else the next opening."""
        try:
            t = self._check(moment, "moment")
            i = bisect_right(self._starts, t) - 1
            if i >= 0 and t < self._ends[i]:
                return moment.astimezone(self.tz)
            if i + 1 >= len(self._starts):
                raise MissingCalendarYear(self.years[-1] + 1, self._known)
        except MissingCalendarYear as err:
            return self._beyond(err).next_working_moment(moment)
        return self._from_us(self._starts[i + 1])

    def add(self, start: datetime, duration: Duration | str) -> datetime:
        """``start`` plus a :class:`Duration` (or its text, e.g. ``"12wh"``)."""
        if isinstance(duration, str):
            duration = Duration.parse(duration)
        elif not isinstance(duration, Duration):
            raise CalendarError(f"duration must be a Duration or text like '12wh', not {duration!r}")
        unit = duration.unit
        if unit is DurationUnit.WORKING_HOURS:
            us = duration.microseconds
            try:
                return self._add_wh(start, us)
            except MissingCalendarYear as err:
                return self._beyond(err)._add_wh(start, us)
        if unit is DurationUnit.WORKING_DAYS:
            return self.add_working_days(start, int(duration.amount))
        return self._add_h(start, duration.microseconds)

    def add_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """Natural hours: the calendar is ignored (but the result is in its zone)."""
        return self._add_h(start, _amount_us(hours, "hours"))

    def add_working_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        us = _amount_us(hours, "working hours")
        try:
            return self._add_wh(start, us)
        except MissingCalendarYear as err:
            return self._beyond(err)._add_wh(start, us)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        if type(days) is not int or days < 0:
            days = _whole_days(days)
        try:
            t = self._check(start, "start")
            if days == 0:
                return start.astimezone(self.tz)
            starts = self._starts
            i = bisect_right(starts, t) - 1
            if i >= 0 and t < self._ends[i]:
                clock = start.astimezone(self.tz).time()
            else:
                i += 1
                if i >= len(starts):
                    raise MissingCalendarYear(self.years[-1] + 1, self._known)
                clock = self._from_us(starts[i]).time()
            k = self._pday[i] + days
            if k >= len(self._wdates):
                raise MissingCalendarYear(self.years[-1] + 1, self._known)
        except MissingCalendarYear as err:
            return self._beyond(err).add_working_days(start, days)
        return datetime.combine(self._wdates[k], clock, tzinfo=self.tz)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside ``[a, b)``; negative when ``b`` is before ``a``."""
        try:
            return timedelta(microseconds=self._w(self._check(b, "b")) - self._w(self._check(a, "a")))
        except MissingCalendarYear as err:
            return self._beyond(err).working_time_between(a, b)

    # ---- internals --------------------------------------------------------------------------

    def _aware(self, moment: Any, name: str) -> datetime:
        if not isinstance(moment, datetime):
            raise CalendarError(f"{name} must be a datetime, not {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CalendarError(
                f"{name} {moment.isoformat()} is naive; give a timezone-aware datetime, "
                f"e.g. {moment.isoformat()}+08:00 or tzinfo=ZoneInfo('Asia/Shanghai')"
            )
        return moment

    def _check(self, moment: datetime, name: str) -> int:
        """Epoch microseconds of an aware ``moment`` inside the known years."""
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            self._aware(moment, name)
        try:
            t = _to_us(moment)
        except TypeError:  # a tzinfo whose utcoffset() is None: naive in disguise
            self._aware(moment, name)
            raise
        if t < self._lo or t > self._hi:
            raise MissingCalendarYear(moment.astimezone(self.tz).year, self._known)
        return t

    def _from_us(self, t: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=t)).astimezone(self.tz)

    def _w(self, t: int) -> int:
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        e = self._ends[i]
        return self._cum[i] + (t if t < e else e) - self._starts[i]  # noqa: FURB136 (min() is slower here)

    def _add_wh(self, start: datetime, us: int) -> datetime:
        t = self._check(start, "start")
        if us == 0:
            return start.astimezone(self.tz)
        target = self._w(t) + us
        cum = self._cum
        if target > cum[-1]:
            raise MissingCalendarYear(self.years[-1] + 1, self._known)
        j = bisect_left(cum, target) - 1
        return self._from_us(self._starts[j] + target - cum[j])

    def _add_h(self, start: datetime, us: int) -> datetime:
        self._aware(start, "start")
        return (start.astimezone(UTC) + timedelta(microseconds=us)).astimezone(self.tz)


def _whole_days(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CalendarError(f"working days must be a whole number >= 0, not {value!r}")
    return value


def _amount_us(value: Any, what: str) -> int:
    if isinstance(value, timedelta):
        us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        us = round(value * _US_PER_HOUR)
    else:
        raise CalendarError(f"{what} must be a number of hours or a timedelta, not {value!r}")
    if us < 0:
        raise CalendarError(f"{what} must not be negative ({value!r})")
    return us
