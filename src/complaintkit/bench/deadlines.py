"""``complaintkit bench deadlines``: our WorkCalendar against businesstimedelta, same cases.

Both libraries get the same Chinese calendar (statutory holidays and make-up workdays from
``chinese_calendar``) and the same working hours, and answer the same random cases: add working
hours, add working days, working time between two instants. Every answer must be identical;
the first case that differs stops the run with a non-zero exit.

businesstimedelta is given its best configuration: one WorkDayRule per working period, a rule
for the make-up workdays (it has none of its own), and a HolidayRule whose lookup bisects a
sorted list instead of walking day by day. It has no notion of working days, so those are
counted on its rules with the same convention as ours: move the start to the next working
moment, step over N working days, keep the clock time.
"""

from __future__ import annotations

import datetime as dt
import random
import time as _time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

import click

from complaintkit.bench.report import emit
from complaintkit.core.calendar import WorkCalendar, format_hours, parse_hours

YEARS = range(2024, 2027)
# Starts stop early enough that the longest case still ends inside the data.
LAST_START = dt.datetime(2026, 9, 30, 23, 59, 59)
MAX_WORKING_HOURS = 200
MAX_WORKING_DAYS = 20
MAX_SPAN_DAYS = 60
ZONE = "Asia/Shanghai"


# ---- businesstimedelta, configured for the Chinese calendar -----------------------------------


def _bt_rules(hours: Sequence[tuple[dt.time, dt.time]], holidays: list[dt.date], makeup: list[dt.date]) -> Any:
    import businesstimedelta as btd
    import pytz

    # Asia/Shanghai has kept +08:00 without daylight saving since 1991; pytz's fixed offset
    # localizes far faster than its DstTzInfo and gives the same instants for these years.
    tz = pytz.FixedOffset(8 * 60)
    far = dt.date(9999, 1, 1)

    class SortedHolidayRule(btd.HolidayRule):
        """The stock rule walks day by day testing ``date in holidays``; bisect instead."""

        def __init__(self, days: list[dt.date], **kwargs: Any) -> None:
            super().__init__(sorted(days) + [far], **kwargs)

        def next_holiday(self, date: dt.date, reverse: bool = False, max_days: int = 0) -> dt.date:
            days = self.holidays
            i = bisect_left(days, date)
            if reverse:
                return days[i] if days[i] == date else days[i - 1]
            return days[i]

    class MakeupDayRule(btd.Rule):
        """Working hours on specific dates (调休): the make-up Saturdays and Sundays."""

        def __init__(self, days: list[dt.date], start_time: dt.time, end_time: dt.time, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.days = sorted(days) + [far]
            self.start_time, self.end_time = start_time, end_time

        def next(self, moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
            local = moment.astimezone(self.tz)
            i = bisect_left(self.days, local.date())
            if self.days[i] == local.date() and local.time() >= self.end_time:
                i += 1
            day = self.days[i]
            start = self.tz.localize(dt.datetime.combine(day, self.start_time))
            end = self.tz.localize(dt.datetime.combine(day, self.end_time))
            return (moment if start < moment < end else start), end

        def previous(self, moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
            local = moment.astimezone(self.tz)
            i = bisect_left(self.days, local.date())
            if not (self.days[i] == local.date() and local.time() > self.start_time):
                i -= 1
            day = self.days[i]
            start = self.tz.localize(dt.datetime.combine(day, self.start_time))
            end = self.tz.localize(dt.datetime.combine(day, self.end_time))
            return start, (moment if start < moment < end else end)

    rules: list[Any] = []
    for opening, closing in hours:
        rules.append(btd.WorkDayRule(start_time=opening, end_time=closing, working_days=[0, 1, 2, 3, 4], tz=tz))
        rules.append(MakeupDayRule(makeup, opening, closing, tz=tz))
    rules.append(SortedHolidayRule(holidays, tz=tz))
    return btd.Rules(rules), tz


class _Baseline:
    def __init__(self, hours: Sequence[tuple[dt.time, dt.time]]) -> None:
        import businesstimedelta as btd
        import chinese_calendar as cc

        days = [dt.date(YEARS[0], 1, 1) + dt.timedelta(days=i) for i in range(366 * len(YEARS))]
        days = [d for d in days if d.year in YEARS]
        holidays = [d for d in days if d.weekday() < 5 and not cc.is_workday(d)]
        makeup = [d for d in days if d.weekday() >= 5 and cc.is_workday(d)]
        self.rules, self.tz = _bt_rules(hours, holidays, makeup)
        self._delta = btd.BusinessTimeDelta
        self._one_day = dt.timedelta(days=1)

    def add_working_hours(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        return self._delta(self.rules, timedelta=amount) + start

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        first = self.rules.next(start)[0].astimezone(self.tz)
        clock, day = first.time(), first.date()
        for _ in range(days):
            midnight = self.tz.localize(dt.datetime.combine(day + self._one_day, dt.time(0)))
            day = self.rules.next(midnight)[0].astimezone(self.tz).date()
        return self.tz.localize(dt.datetime.combine(day, clock))

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        return self.rules.difference(a, b).timedelta


# ---- cases -----------------------------------------------------------------------------------


def _cases(calendar: WorkCalendar, n: int, seed: int) -> list[tuple[dt.datetime, dt.timedelta, int, dt.datetime]]:
    """(start, working hours, working days, end for 'between'); whole seconds throughout,
    because businesstimedelta's difference drops microseconds."""
    rng = random.Random(seed)
    tz = calendar.tz
    first = dt.datetime(YEARS[0], 1, 1, tzinfo=tz)
    span = int((LAST_START.replace(tzinfo=tz) - first).total_seconds())
    workdays = sorted(d for d in calendar.workdays if d <= LAST_START.date())
    periods = calendar.hours or ((dt.time(0), dt.time(0)),)
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            # a working moment: a working day, a period, a whole second inside it
            day = rng.choice(workdays)
            opening, closing = rng.choice(periods)
            lo = dt.datetime.combine(day, opening, tzinfo=tz)
            hi = dt.datetime.combine(day if closing != dt.time(0) else day + dt.timedelta(days=1), closing, tzinfo=tz)
            start = lo + dt.timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))
        else:
            start = first + dt.timedelta(seconds=rng.randrange(span))
        hours = dt.timedelta(seconds=rng.randint(1, MAX_WORKING_HOURS * 3600))
        days = rng.randint(1, MAX_WORKING_DAYS)
        end = start + dt.timedelta(seconds=rng.randint(0, MAX_SPAN_DAYS * 86400))
        out.append((start, hours, days, end))
    return out


def _timed(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[Any], float]:
    t0 = _time.perf_counter()
    results = [fn(item) for item in items]
    return results, _time.perf_counter() - t0


@click.command("deadlines")
@click.option("--cases", default=10_000, show_default=True, help="Number of random cases.")
@click.option("--seed", default=1, show_default=True, help="Seed of the random cases.")
@click.option("--hours", default="08:30-12:00,13:30-17:30", show_default=True,
              help="Working hours used by both libraries.")
def deadlines(cases: int, seed: int, hours: str) -> None:
    """Deadline arithmetic: WorkCalendar against businesstimedelta on identical cases."""
    if cases < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--cases'")
    try:
        periods = parse_hours(hours)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--hours'") from None
    if any(closing == dt.time(0) for _, closing in periods):
        # businesstimedelta reads a 00:00 closing time as an overnight shift or an empty day
        raise click.BadParameter("the baseline cannot close a period at 24:00; use 23:59", param_hint="'--hours'")
    t0 = _time.perf_counter()
    ours = WorkCalendar.chinese(tz=ZONE, hours=periods, years=YEARS)
    build_ms = (_time.perf_counter() - t0) * 1000
    theirs = _Baseline(periods)
    items = _cases(ours, cases, seed)

    operations: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], str]]] = [
        ("add working hours",
         lambda c: ours.add_working_hours(c[0], c[1]),
         lambda c: theirs.add_working_hours(c[0], c[1]),
         lambda c: f"start={c[0].isoformat()} + {c[1].total_seconds() / 3600:g}wh"),
        ("add working days",
         lambda c: ours.add_working_days(c[0], c[2]),
         lambda c: theirs.add_working_days(c[0], c[2]),
         lambda c: f"start={c[0].isoformat()} + {c[2]}wd"),
        ("working time between",
         lambda c: ours.working_time_between(c[0], c[3]),
         lambda c: theirs.working_time_between(c[0], c[3]),
         lambda c: f"between {c[0].isoformat()} and {c[3].isoformat()}"),
    ]
    rows: list[list[Any]] = []
    ours_rate: dict[str, float] = {}
    their_rate: dict[str, float] = {}
    ratios: dict[str, float] = {}
    ours_total = their_total = 0.0
    for name, mine, baseline, describe in operations:
        got, t_ours = _timed(mine, items)
        want, t_theirs = _timed(baseline, items)
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b or (isinstance(a, dt.datetime) and a.utcoffset() != b.utcoffset()):
                raise click.ClickException(
                    f"case {i} ({name}) differs: {describe(items[i])}: WorkCalendar gives "
                    f"{_show(a)}, businesstimedelta gives {_show(b)} (seed {seed})"
                )
        ours_total += t_ours
        their_total += t_theirs
        ours_rate[name] = cases / t_ours
        their_rate[name] = cases / t_theirs
        ratios[name] = round(t_theirs / t_ours, 1)
        rows.append(["complaintkit WorkCalendar", name, ours_rate[name], f"{ratios[name]:.1f}x"])
        rows.append(["businesstimedelta", name, their_rate[name], "1.0x"])
    ratio = round(their_total / ours_total, 1)
    figures = {
        "cases": cases,
        "seed": seed,
        "hours": format_hours(periods),
        "years": f"{YEARS[0]}-{YEARS[-1]}",
        "identical": True,
        "index_build_ms": round(build_ms, 1),
        "ours_per_s": {k: round(v) for k, v in ours_rate.items()},
        "businesstimedelta_per_s": {k: round(v) for k, v in their_rate.items()},
        "ratios": ratios,
        "ratio": ratio,
        "ratio_min": min(ratios.values()),
        "target_ratio": 30,
    }
    emit(
        f"deadlines: {cases} cases (seed {seed}), hours {format_hours(periods)}, all answers identical",
        ["library", "operation", "computations/s", "ratio"],
        rows,
        figures,
    )


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
