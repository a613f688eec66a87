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
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from complaintkit.core.errors import ComplaintKitError

__all__ = [
    "CalendarError",
    "DayOverride",
    "Duration",
    "DurationUnit",
    "Hours",
    "MissingCalendarYear",
    "WorkCalendar",
    "format_hours",
    "parse_hours",
]

#: Working hours of a day: ordered, non-overlapping ``(opening, closing)`` pairs of naive
#: wall-clock times. A closing time of ``time(0)`` means midnight at the end of the day (24:00).
Hours = tuple[tuple[time, time], ...]

_US_PER_HOUR = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIDNIGHT = time(0)


class CalendarError(ComplaintKitError, ValueError):
    """A calendar, a duration or a time given to the calendar is not usable."""


class MissingCalendarYear(CalendarError):
    """A query needs a year the calendar has no holiday data for."""

    def __init__(self, year: int, known: range | None = None) -> None:
        self.year = year
        self.known = known
        span = f" (it knows {known[0]}–{known[-1]})" if known else ""
        super().__init__(
            f"no working-calendar data for {year}{span}. Add the year from the State Council "
            f"holiday notice (国务院办公厅关于{year}年部分节假日安排的通知): "
            f"WorkCalendar.chinese(extra_years=[{year}], overrides=[DayOverride(date({year}, 1, 1), "
            f"workday=False, note='元旦'), ...]) — every holiday and make-up workday of the notice — "
            f"or on the command line: --extra-year {year} --override {year}-01-01=off ..."
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


def _frozen_days(days: Iterable[date]) -> frozenset[date]:
    return frozenset(days)


def _to_us(dt: datetime) -> int:
    d = dt - _EPOCH
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

    _first_ord: int = attrs.field(init=False)
    _flags: bytes = attrs.field(init=False)
    _starts: list[int] = attrs.field(init=False)
    _ends: list[int] = attrs.field(init=False)
    _cum: list[int] = attrs.field(init=False)
    _pday: list[int] = attrs.field(init=False)
    _wdates: list[date] = attrs.field(init=False)
    _lo: int = attrs.field(init=False)
    _hi: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
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
        starts: list[int] = []
        ends: list[int] = []
        cum = [0]
        pday: list[int] = []
        wdates: list[date] = []
        for i in range(n_days):
            day = date.fromordinal(first.toordinal() + i)
            if day not in self.workdays:
                continue
            flags[i] = 1
            midnight = datetime.combine(day, _MIDNIGHT)
            for a, b in periods:
                s = _to_us((midnight + a).replace(tzinfo=tz))
                e = _to_us((midnight + b).replace(tzinfo=tz))
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
    ) -> WorkCalendar:
        """The statutory calendar from ``chinese_calendar``, corrected by ``overrides``.

        ``extra_years`` declares years the package does not know yet (e.g. 2027 before a
        release carries it): give the State Council notice's holidays and make-up workdays of
        that year as ``overrides``; its other days follow the weekday rule. An override for a
        year that is neither in the package's data nor declared is refused, so a forgotten
        declaration never turns into a silent guess. ``years`` restricts the calendar to some
        of the known years (a smaller index); it must be a contiguous run.
        """
        import chinese_calendar as cc

        data = range(min(cc.holidays).year, max(cc.holidays).year + 1)
        extra = set(extra_years)
        if any(not isinstance(y, int) or isinstance(y, bool) for y in extra):
            raise CalendarError(f"extra_years must be integers, not {sorted(extra, key=str)!r}")
        available = set(data) | extra
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
                    f"({data[0]}–{data[-1]}); declare the year with extra_years=[{o.day.year}] "
                    f"(CLI: --extra-year {o.day.year}) and give every holiday and make-up workday "
                    f"of its State Council notice"
                )
            seen = fixed.get(o.day)
            if seen is not None and seen.workday != o.workday:
                raise CalendarError(f"conflicting overrides for {o.day}: {seen} and {o}")
            fixed[o.day] = o
        workdays: set[date] = set()
        day = date(chosen[0], 1, 1)
        end = date(chosen[-1], 12, 31)
        one = timedelta(days=1)
        while day <= end:
            fix = fixed.get(day)
            if fix is not None:
                work = fix.workday
            elif day in cc.workdays:
                work = True
            elif day in cc.holidays:
                work = False
            else:
                work = day.weekday() < 5
            if work:
                workdays.add(day)
            day += one
        source = f"chinese_calendar {getattr(cc, '__version__', '?')}"
        if fixed:
            source += f" + {len(fixed)} override{'s' if len(fixed) != 1 else ''}"
        return cls(tz=tz, hours=hours, years=chosen, workdays=workdays, source=source)

    @classmethod
    def from_days(
        cls,
        *,
        years: Iterable[int],
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        tz: str | tzinfo = "Asia/Shanghai",
        hours: Hours | Sequence[tuple[time, time]] | str | None = None,
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
        return cls(tz=tz, hours=hours, years=known, workdays=days, source="from_days")

    # ---- value behaviour ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(source={self.source!r}, tz={str(self.tz)!r}, "
            f"hours={format_hours(self.hours)!r}, years={self.years[0]}..{self.years[-1]})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return (str(self.tz), self.hours, self.years, self.workdays) == (
            str(other.tz), other.hours, other.years, other.workdays)

    def __hash__(self) -> int:
        return hash((str(self.tz), self.hours, self.years, len(self.workdays)))

    @property
    def working_day_length(self) -> timedelta:
        """Working time in one working day (its wall-clock length; a clock change may alter it)."""
        periods = self.hours or ((_MIDNIGHT, _MIDNIGHT),)
        return sum((_offset(b, True) - _offset(a, False) for a, b in periods), timedelta(0))

    # ---- queries ----------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day; an aware datetime is taken in the calendar's zone."""
        if isinstance(day, datetime):
            day = self._aware(day, "day").astimezone(self.tz).date()
        elif not isinstance(day, date):
            raise CalendarError(f"is_workday needs a date, not {day!r}")
        i = day.toordinal() - self._first_ord
        if 0 <= i < len(self._flags):
            return self._flags[i] == 1
        raise MissingCalendarYear(day.year, self.years)

    def is_working_moment(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside a working period ``[opening, closing)``."""
        t = self._check(moment, "moment")
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is a working moment, else the next opening."""
        t = self._check(moment, "moment")
        i = bisect_right(self._starts, t) - 1
        if i >= 0 and t < self._ends[i]:
            return moment.astimezone(self.tz)
        if i + 1 >= len(self._starts):
            raise MissingCalendarYear(self.years[-1] + 1, self.years)
        return self._from_us(self._starts[i + 1])

    def add(self, start: datetime, duration: Duration | str) -> datetime:
        """``start`` plus a :class:`Duration` (or its text, e.g. ``"12wh"``)."""
        if isinstance(duration, str):
            duration = Duration.parse(duration)
        elif not isinstance(duration, Duration):
            raise CalendarError(f"duration must be a Duration or text like '12wh', not {duration!r}")
        unit = duration.unit
        if unit is DurationUnit.WORKING_HOURS:
            return self._add_wh(start, duration.microseconds)
        if unit is DurationUnit.WORKING_DAYS:
            return self.add_working_days(start, int(duration.amount))
        return self._add_h(start, duration.microseconds)

    def add_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """Natural hours: the calendar is ignored (but the result is in its zone)."""
        return self._add_h(start, _amount_us(hours, "hours"))

    def add_working_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        return self._add_wh(start, _amount_us(hours, "working hours"))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        if type(days) is not int or days < 0:
            days = _whole_days(days)
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
                raise MissingCalendarYear(self.years[-1] + 1, self.years)
            clock = self._from_us(starts[i]).time()
        k = self._pday[i] + days
        if k >= len(self._wdates):
            raise MissingCalendarYear(self.years[-1] + 1, self.years)
        return datetime.combine(self._wdates[k], clock, tzinfo=self.tz)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside ``[a, b)``; negative when ``b`` is before ``a``."""
        return timedelta(microseconds=self._w(self._check(b, "b")) - self._w(self._check(a, "a")))

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
            raise MissingCalendarYear(moment.astimezone(self.tz).year, self.years)
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
            raise MissingCalendarYear(self.years[-1] + 1, self.years)
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
