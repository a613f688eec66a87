"""The working calendar a kit runs on: the standard's ``calendar.toml``, then every plugin's overrides."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from complaintkit.core.calendar import CalendarError, DayOverride, WorkCalendar, parse_hours
from complaintkit.core.errors import PluginError, StandardInvalid
from complaintkit.hooks.manager import Plugins
from complaintkit.standard import Standard


def build_calendar(standard: Standard, plugins: Plugins) -> WorkCalendar:
    """The working calendar: the standard's ``calendar.toml``, then every plugin's overrides.

    A bad override is refused at start-up naming where it came from: the standard's file
    (:class:`StandardInvalid`) or the plugin (:class:`PluginError`)."""
    hook = "complaintkit_calendar_overrides"
    where = standard.source or standard.name
    sources: list[tuple[str, list[Any]]] = [("", list(standard.calendar_overrides))]
    for plugin, answer in plugins.calendar_overrides(standard):
        if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
            raise PluginError(plugin, hook, f"must return a list of DayOverride values, not {answer!r}")
        items = list(answer)
        for i, item in enumerate(items):
            if not isinstance(item, DayOverride):
                raise PluginError(plugin, hook, f"item [{i}] is {item!r}, not a DayOverride "
                                  "(build it with DayOverride.parse('2027-01-01=off'))")
        sources.append((plugin, items))
    try:
        hours = parse_hours(standard.settings.working_hours) if standard.settings.working_hours else None
    except CalendarError as exc:
        raise StandardInvalid(where, [f"standard.toml: $.settings.working_hours: {exc}"]) from exc
    try:
        return WorkCalendar.chinese(hours=hours, overrides=[o for _, items in sources for o in items])
    except CalendarError as exc:
        blamed = []
        for name, items in sources:
            try:
                WorkCalendar.chinese(hours=hours, overrides=items, years=range(2024, 2025))
            except CalendarError as own:
                blamed.append((name, own))
        for name, problem in blamed:
            if not name:
                raise StandardInvalid(where, [f"calendar.toml: $.day: {problem}"]) from exc
            raise PluginError(name, hook, str(problem)) from exc
        names = ", ".join(n or f"calendar.toml of {where}" for n, items in sources if items)
        raise PluginError(names, hook, f"{exc} (overrides given by: {names})") from exc
