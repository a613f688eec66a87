"""``complaintkit deadline``: deadline arithmetic on the Chinese working calendar, from a shell.

    complaintkit deadline 2026-02-13T17:00 +12wh --hours 09:00-18:00
    2026-02-24T11:00:00+08:00

    complaintkit deadline 2026-02-13T17:00 --between 2026-02-24T11:00 --hours 09:00-18:00
    12wh
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from complaintkit.core.calendar import (
    CalendarError,
    DayOverride,
    Duration,
    Hours,
    WorkCalendar,
    parse_hours,
)

__all__ = ["deadline"]


class _Parsed(click.ParamType):
    """A click type over one of the calendar's parsers; its CalendarError becomes BadParameter."""

    def __init__(self, name: str, parse: Any) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except CalendarError as e:
            self.fail(str(e), param, ctx)


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise CalendarError(
            f"{text!r} is not a date-time; write e.g. 2026-02-13T17:00 or 2026-02-13T17:00+08:00"
        ) from None


def _zone(text: str) -> tzinfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone {text!r}; use an IANA name like Asia/Shanghai") from None


def _hours(text: str) -> Hours | None:
    return None if text.strip().lower() in ("all", "whole", "00:00-24:00") else parse_hours(text)


DURATION = _Parsed("duration", Duration.parse)
MOMENT = _Parsed("datetime", _moment)
HOURS = _Parsed("hours", _hours)
OVERRIDE = _Parsed("override", DayOverride.parse)
ZONE = _Parsed("zone", _zone)


def _format_working_time(us: int) -> str:
    hours = us / 3_600_000_000
    text = str(int(hours)) if hours.is_integer() else repr(hours)
    return f"{text}wh"


@click.command("deadline")
@click.argument("start", type=MOMENT)
@click.argument("duration", type=DURATION, required=False)
@click.option("--hours", "hours", type=HOURS, default=None, metavar="HH:MM-HH:MM[,...]",
              help="Working hours of a working day, e.g. 08:30-12:00,13:30-17:30. Default: the whole day.")
@click.option("--tz", "zone", type=ZONE, default="Asia/Shanghai", show_default=True,
              help="Time zone of the calendar, of the result, and of a START/END given without an offset.")
@click.option("--between", "end", type=MOMENT, default=None, metavar="END",
              help="Print the working time in [START, END) instead of adding a duration.")
@click.option("--override", "overrides", type=OVERRIDE, multiple=True, metavar="DATE=off|work",
              help="Correct or add a day, e.g. 2027-01-01=off or 2027-02-06=work. Repeatable.")
@click.option("--extra-year", "extra_years", type=int, multiple=True, metavar="YEAR",
              help="Declare a year the calendar data lacks; give its holidays and make-up days with --override.")
def deadline(
    start: datetime,
    duration: Duration | None,
    hours: Hours | None,
    zone: tzinfo,
    end: datetime | None,
    overrides: tuple[DayOverride, ...],
    extra_years: tuple[int, ...],
) -> None:
    """Print START + DURATION on the Chinese working calendar (holidays and make-up workdays).

    DURATION is natural hours (48h), working hours (12wh) or working days (3wd); a leading +
    is allowed. START without a UTC offset is read in --tz. A start out of hours counts from the
    next opening; a result that lands at closing time stays there.
    """
    if (duration is None) == (end is None):
        raise click.UsageError("give either a DURATION (e.g. +12wh) or --between END, not both or neither")
    try:
        calendar = WorkCalendar.chinese(tz=zone, hours=hours, overrides=overrides, extra_years=extra_years)
    except CalendarError as e:
        raise click.BadParameter(str(e), param_hint="'--override' / '--extra-year'") from None
    # The core refuses naive datetimes; on the command line a bare wall-clock time is the user's
    # local time in --tz, which is what anyone typing it means.
    start = start if start.tzinfo is not None else start.replace(tzinfo=zone)
    try:
        if end is not None:
            end = end if end.tzinfo is not None else end.replace(tzinfo=zone)
            spent = calendar.working_time_between(start, end)
            us = (spent.days * 86_400 + spent.seconds) * 1_000_000 + spent.microseconds
            click.echo(_format_working_time(us))
        else:
            assert duration is not None
            click.echo(calendar.add(start, duration).isoformat())
    except CalendarError as e:
        hint = "'START' / '--between'" if end is not None else "'START' / 'DURATION'"
        raise click.BadParameter(str(e), param_hint=hint) from None

