"""The working calendar a kit runs on: the standard's ``calendar.toml``, then every plugin's answer.

Both give whole years from the State Council notice (:class:`CalendarYear`) and single days
(:class:`DayOverride`). A problem is refused at start-up naming where it came from: the
standard's file and field (:class:`StandardInvalid`) or the plugin (:class:`PluginError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from complaintkit.core.calendar import (
    CalendarError,
    CalendarYear,
    DayOverride,
    WorkCalendar,
    chinese_data_years,
    parse_hours,
)
from complaintkit.core.errors import PluginError, StandardInvalid
from complaintkit.hooks.manager import Plugins
from complaintkit.standard import Standard

HOOK = "complaintkit_calendar_overrides"

#: how long past its data the kit's calendar still computes deadlines, on the weekday rule
#: (provisional, recomputed when the year is added): a command never fails for want of a year,
#: while the worker warns from 60 days before the data ends (calendar_warning)
PROVISIONAL_YEARS = 10


@attrs.define(frozen=True)
class _Source:
    #: "" for the standard's calendar.toml, else the plugin's name
    plugin: str
    days: tuple[DayOverride, ...]
    years: tuple[CalendarYear, ...]


def build_calendar(standard: Standard, plugins: Plugins) -> WorkCalendar:
    """The working calendar: the standard's ``calendar.toml``, then every plugin's answer to
    ``complaintkit_calendar_overrides``, with the standard's working hours; past its data it
    answers on the weekday rule for :data:`PROVISIONAL_YEARS` years (results there are
    provisional: ``calendar.covers(result)`` is false)."""
    where = standard.source or standard.name
    sources = [_Source("", tuple(standard.calendar_overrides), tuple(standard.calendar_years))]
    for plugin, answer in plugins.calendar_overrides(standard):
        sources.append(_answer(plugin, answer))
    try:
        hours = parse_hours(standard.settings.working_hours) if standard.settings.working_hours else None
    except CalendarError as exc:
        raise StandardInvalid(where, [f"standard.toml: $.settings.working_hours: {exc}"]) from exc
    _check(sources, where)
    try:
        return WorkCalendar.chinese(
            hours=hours,
            overrides=[o for s in sources for o in s.days],
            calendar_years=[y for s in sources for y in s.years],
            provisional_years=PROVISIONAL_YEARS,
        )
    except CalendarError as exc:  # what _check does not foresee: name every source that gave days
        names = ", ".join(_name(s, where) for s in sources if s.days or s.years)
        raise PluginError(names, HOOK, f"{exc} (calendar days given by: {names})") from exc


def _answer(plugin: str, answer: Any) -> _Source:
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        raise PluginError(plugin, HOOK, f"must return a list of DayOverride and CalendarYear values, not {answer!r}")
    days: list[DayOverride] = []
    years: list[CalendarYear] = []
    for i, item in enumerate(answer):
        if isinstance(item, DayOverride):
            days.append(item)
        elif isinstance(item, CalendarYear):
            years.append(item)
        else:
            raise PluginError(plugin, HOOK, f"item [{i}] is {item!r}, not a DayOverride or a CalendarYear "
                              "(build them with DayOverride.parse('2027-01-01=off') and "
                              "CalendarYear(2027, holidays=[Holiday(...)], workdays=[...]))")
    return _Source(plugin, tuple(days), tuple(years))


def _name(source: _Source, where: str) -> str:
    return source.plugin or f"calendar.toml of {where}"


def _refuse(source: _Source, where: str, field: str, message: str) -> None:
    """Raise the problem against the standard's file (with the field) or the plugin."""
    if not source.plugin:
        raise StandardInvalid(where, [f"calendar.toml: {field}: {message}"])
    raise PluginError(source.plugin, HOOK, message)


def _check(sources: list[_Source], where: str) -> None:
    """The problems that involve more than one entry, blamed on the source that causes them."""
    data = chinese_data_years()
    given: dict[int, _Source] = {}
    for source in sources:
        for entry in source.years:
            first = given.get(entry.year)
            if first is not None:
                both = _name(first, where) if first is source else f"{_name(first, where)} and {_name(source, where)}"
                _refuse(source, where, f"$.year.{entry.year}",
                        f"{entry.year} is given twice (by {both}); give each year once")
            given[entry.year] = source
    known = set(data) | set(given)
    for year, source in sorted(given.items()):
        gap = [y for y in range(min(known), year) if y not in known]
        if gap:
            _refuse(source, where, f"$.year.{year}",
                    f"the calendar has no data for {_years_text(gap)}, before {year}; the years must follow "
                    f"each other: add {_years_text(gap)} from the State Council notice too")
    for source in sources:
        for i, o in enumerate(source.days):
            if o.day.year not in known:
                y = o.day.year
                how = (f"add the whole year as a [year.{y}] table in calendar.toml" if not source.plugin else
                       f"return the whole year as a CalendarYear({y}, holidays=[...], workdays=[...]) from "
                       f"this hook, or add a [year.{y}] table to the standard's calendar.toml")
                _refuse(source, where, f"$.day[{i}]",
                        f"{o} is in {y}, which the calendar has no data for (chinese_calendar knows "
                        f"{data[0]}–{data[-1]}); a single day cannot add a year: {how}, with every holiday "
                        f"and make-up workday of the State Council notice (docs/calendar.md, 'Adding a year')")
    seen: dict[Any, tuple[_Source, int, DayOverride]] = {}
    for source in sources:
        for i, o in enumerate(source.days):
            before = seen.get(o.day)
            if before is not None and before[2].workday != o.workday:
                other = before[0]
                message = f"conflicting overrides for {o.day}: {before[2]} and {o}"
                if other is source:
                    _refuse(source, where, f"$.day[{i}]", message)
                names = f"{_name(other, where)}, {_name(source, where)}"
                raise PluginError(names, HOOK, f"{message} (given by: {names})")
            seen.setdefault(o.day, (source, i, o))


def _years_text(years: list[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
