"""The warning that the working calendar's data is about to end (or has ended).

The State Council publishes the next year's holidays late in the year (November or December) and
``chinese_calendar`` ships them some time after; a province that adds the year itself must hear
about it in time. The worker says this sentence from :data:`WARN_DAYS` days before the end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from complaintkit.core.calendar import WorkCalendar

__all__ = ["WARN_DAYS", "calendar_warning"]

#: how many days before the data ends the warning starts
WARN_DAYS = 60


def calendar_warning(calendar: WorkCalendar, today: date) -> str | None:
    """One sentence saying when the calendar's data ends and how to add the next year, from
    :data:`WARN_DAYS` days before the end (``today`` on or after ``data_ends - 60 days``) and on
    every day after it; ``None`` before. A datetime is taken in the calendar's zone."""
    if isinstance(today, datetime):
        today = today.astimezone(calendar.tz).date()
    ends = calendar.data_ends
    if today < ends - timedelta(days=WARN_DAYS):
        return None
    following = ends.year + 1
    how = (f"add {following} from the State Council holiday notice (国务院办公厅关于{following}年部分节假日安排的通知) "
           f"as a [year.{following}] table in the standard's calendar.toml, or return it as a CalendarYear from "
           f"the complaintkit_calendar_overrides hook, then restart")
    # a calendar without the weekday extension refuses what lies past its data
    after = ("computed on the weekday rule (Monday–Friday) and marked provisional" if calendar.provisional_years
             else "refused (MissingCalendarYear)")
    if today > ends:
        return (f"The working calendar's holiday data ended on {ends.isoformat()}, so deadlines after it are "
                f"{after}: {how}.")
    left = (ends - today).days
    when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    return (f"The working calendar's holiday data ends on {ends.isoformat()} ({when}), after which deadlines "
            f"are {after}: {how}.")
