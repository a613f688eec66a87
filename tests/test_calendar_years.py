"""The working calendar past its data (C2, G1): a province adds a year from the State Council
notice, deadlines past the data are computed on the weekday rule and marked provisional, and are
computed again once the year is there; the worker's warning before the data ends.

C2: time limits in working hours and days follow the Chinese working calendar (statutory holidays
and make-up workdays). G1: the return visit is due 3 working days after the reply.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import structlog
from complaintkit_baseline import DATA

from complaintkit import hookimpl
from complaintkit.core.calendar import (
    CalendarError,
    CalendarYear,
    CalendarYearError,
    DayOverride,
    Holiday,
    MissingCalendarYear,
    WorkCalendar,
)
from complaintkit.core.calendar_warning import calendar_warning
from complaintkit.core.codec import converter
from complaintkit.core.errors import PluginError, StandardInvalid
from complaintkit.core.model import Actor, Deadline, Role, Ticket
from complaintkit.engine.calendar_setup import build_calendar
from complaintkit.engine.context import Context
from complaintkit.engine.store import Store
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.standard import Standard, load_standard
from complaintkit.testing import VirtualClock

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NETWORK = Actor("net-01", Role.DEPARTMENT, "network_dept")
PHONE = "13812345678"

# AN EXAMPLE YEAR, NOT THE STATE COUNCIL'S NOTICE: the notice for 2027 was not published when
# these tests were written, so the days below are invented (plausible dates, a real notice's
# shape). Only the New Year days matter to the scenario: 2027-01-01 (Fri) to 01-03 off.
EXAMPLE_2027_TOML = """
[year.2027]
notice = "EXAMPLE for the tests, not the State Council notice"
holidays = [
  { name = "元旦", first = 2027-01-01, last = 2027-01-03 },
  { name = "春节", first = 2027-02-06, last = 2027-02-14 },
  { name = "清明节", first = 2027-04-05 },
]
workdays = [2027-02-20]
"""
EXAMPLE_2027 = CalendarYear(
    2027,
    holidays=[Holiday("元旦", date(2027, 1, 1), date(2027, 1, 3)),
              Holiday("春节", date(2027, 2, 6), date(2027, 2, 14)),
              Holiday("清明节", date(2027, 4, 5))],
    workdays=[date(2027, 2, 20)],
    notice="EXAMPLE for the tests, not the State Council notice",
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def data_folder(tmp_path: Path, calendar_toml: str | None) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(str(DATA), folder)
    if calendar_toml is not None:
        (folder / "calendar.toml").write_text(calendar_toml, encoding="utf-8")
    return folder


def standard_with(tmp_path: Path, calendar_toml: str | None) -> Standard:
    return load_standard(data_folder(tmp_path, calendar_toml), plugin="complaintkit-province-x")


# -- the scenario on real dates ------------------------------------------------------------------


def test_G1_reply_on_2026_12_30_gives_a_provisional_return_visit_recomputed_when_2027_is_added(
        tmp_path: Path) -> None:
    clock = VirtualClock(at("2026-12-30T09:00:00+08:00"))  # a Wednesday; the data ends 2026-12-31
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), standard=standard_with(tmp_path, None),
                       plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn=PHONE, channel="hotline", category="call_quality", description="信号差")
    clock.advance(hours=1)
    with structlog.testing.capture_logs() as logs:
        kit.reply(t.id, NETWORK, result="故障已修复")  # 2026-12-30 10:00: no MissingCalendarYear

    ticket = kit.ticket(t.id)  # read back from the store: the flag survives it
    visit = ticket.deadline("return_visit")
    assert visit is not None and visit.provisional
    # 3 working days on the weekday rule: Thu 12-31, Fri 01-01, Mon 01-04 (2026 days from the data)
    assert visit.due_at == at("2027-01-04T10:00:00+08:00")
    # natural hours do not depend on the calendar: the 48 h total, due in 2027 too, is exact
    total = ticket.deadline("total")
    assert total is not None and total.due_at.year == 2027 and not total.provisional
    reply = next(e for e in kit.history(t.id) if e.kind == "reply")
    assert reply.data["deadlines_started"]["return_visit"]["provisional"] is True
    assert [v.provisional for v in kit.deadlines(t.id) if v.name == "return_visit"] == [True]
    warned = [e for e in logs if e["log_level"] == "warning" and e.get("deadline") == "return_visit"]
    assert len(warned) == 1 and warned[0]["ticket_id"] == t.id
    assert warned[0]["calendar_data_ends"] == "2026-12-31"
    assert PHONE not in repr(logs)
    kit.close()

    # The province adds 2027 to its calendar.toml; the kit starts again with it.
    standard = standard_with(tmp_path / "with2027", EXAMPLE_2027_TOML)
    calendar = build_calendar(standard, Plugins.discover())
    assert calendar.covers(date(2027, 1, 4)) and calendar.data_ends == date(2027, 12, 31)
    ctx = Context(standard, calendar, at("2026-12-31T09:00:00+08:00"), Actor.system())
    decision = time_limits.recompute_provisional(ticket, ctx)
    assert decision is not None
    visit = decision.ticket.deadline("return_visit")
    # Thu 12-31, then 01-01 to 01-03 off: Mon 01-04, Tue 01-05
    assert visit is not None and visit.due_at == at("2027-01-05T10:00:00+08:00") and not visit.provisional
    assert visit.started_at == at("2026-12-30T10:00:00+08:00")
    [event] = decision.events
    assert event.kind == "deadlines_recomputed" and event.data["cause"] == "calendar_year_added"
    change = event.data["deadlines"]["return_visit"]
    assert change["old_due_at"] == "2027-01-04T10:00:00+08:00"
    assert change["new_due_at"] == "2027-01-05T10:00:00+08:00"
    assert change["old_provisional"] is True and change["new_provisional"] is False
    assert list(event.data["deadlines"]) == ["return_visit"]  # the exact ones are left alone
    # the timers follow the new due time: the first pending moment is near-overdue, 1 h before
    assert [(tm.name, tm.due_at) for tm in decision.set_timers] == [
        ("near:return_visit", at("2027-01-05T09:00:00+08:00"))]
    assert "overdue:return_visit" in decision.cancel_timers
    # once exact, there is nothing more to do
    assert time_limits.recompute_provisional(decision.ticket, ctx) is None


def test_recompute_provisional_does_nothing_while_the_year_is_still_missing(tmp_path: Path) -> None:
    clock = VirtualClock(at("2026-12-30T09:00:00+08:00"))
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), standard=standard_with(tmp_path, None),
                       plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn=PHONE, channel="hotline", category="call_quality", description="信号差")
    ticket = kit.reply(t.id, NETWORK, result="故障已修复")
    assert time_limits.recompute_provisional(ticket, kit.context()) is None
    # a strict calendar (no weekday extension) cannot say more either, and does not raise
    strict = Context(kit.standard, WorkCalendar.chinese(), kit.clock.now(), Actor.system())
    assert time_limits.recompute_provisional(ticket, strict) is None
    kit.close()


def test_a_provisional_deadline_met_stays_as_it_was_judged(tmp_path: Path) -> None:
    clock = VirtualClock(at("2026-12-30T09:00:00+08:00"))
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), standard=standard_with(tmp_path, None),
                       plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn=PHONE, channel="hotline", category="call_quality", description="信号差")
    kit.record(t.id, NETWORK, verification="基站故障已修复")
    kit.reply(t.id, NETWORK, result="故障已修复")
    kit.return_visit(t.id, BACK)
    kit.record(t.id, BACK, contact_attempt=True, satisfaction="满意")
    ticket = kit.archive(t.id, BACK, reason="回访满意")  # meets the return visit's deadline
    visit = ticket.deadline("return_visit")
    assert visit is not None and visit.provisional and visit.state.value == "met"
    kit.close()
    calendar = WorkCalendar.chinese(calendar_years=[EXAMPLE_2027], provisional_years=1)
    ctx = Context(kit.standard, calendar, at("2026-12-31T09:00:00+08:00"), Actor.system())
    assert time_limits.recompute_provisional(ticket, ctx) is None


def test_C5_a_resume_that_pushes_a_deadline_past_the_data_marks_it_provisional(tmp_path: Path) -> None:
    # C5: the clock may pause while waiting on the customer; a resume moves a working-day
    # deadline on by the working time paused
    clock = VirtualClock(at("2026-12-28T09:00:00+08:00"))  # Monday
    standard = standard_with(tmp_path, None)
    standard = attrs.evolve(standard, settings=attrs.evolve(standard.settings, pause_while_waiting=True))
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), standard=standard,
                       plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn=PHONE, channel="hotline", category="call_quality", description="信号差")
    clock.advance(hours=1)
    visit = kit.reply(t.id, NETWORK, result="已修复").deadline("return_visit")
    assert visit is not None and visit.due_at == at("2026-12-31T10:00:00+08:00") and not visit.provisional
    kit.pause(t.id, NETWORK, "客户出差")
    clock.advance(days=1)  # one working day paused
    visit = kit.resume(t.id, NETWORK, "客户已回").deadline("return_visit")
    assert visit is not None and visit.due_at == at("2027-01-01T10:00:00+08:00") and visit.provisional
    resume = next(e for e in kit.history(t.id) if e.kind == "resume")
    assert resume.data["deadlines"]["return_visit"]["provisional"] is True
    kit.close()


# -- a deadline record without the flag still loads ------------------------------------------------


def test_stored_tickets_without_the_provisional_key_still_load(tmp_path: Path) -> None:
    clock = VirtualClock(at("2026-12-30T09:00:00+08:00"))
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), standard=standard_with(tmp_path, None),
                       plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn=PHONE, channel="hotline", category="call_quality", description="信号差")
    ticket = kit.reply(t.id, NETWORK, result="故障已修复")
    kit.close()
    data = converter.unstructure(ticket)
    assert any(d["provisional"] for d in data["deadlines"])
    assert converter.structure(data, Ticket) == ticket
    for d in data["deadlines"]:
        del d["provisional"]  # as stored before the field existed
    old = converter.structure(data, Ticket)
    assert all(not d.provisional for d in old.deadlines)
    assert converter.structure(converter.unstructure(Deadline("x", clock.now(), clock.now())), Deadline).provisional is False


# -- the calendar past its data ------------------------------------------------------------------


def test_weekday_extension_past_the_data_and_covers() -> None:
    strict = WorkCalendar.chinese(years=range(2025, 2027))
    cal = WorkCalendar.chinese(years=range(2025, 2027), provisional_years=2)
    assert cal.data_ends == date(2026, 12, 31)
    start = at("2026-12-30T10:00:00+08:00")
    with pytest.raises(MissingCalendarYear):
        strict.add(start, "3wd")
    due = cal.add(start, "3wd")
    assert due == at("2027-01-04T10:00:00+08:00") and not cal.covers(due)
    assert cal.add(start, "40wh") == at("2027-01-01T02:00:00+08:00")  # 14 h + 24 h in the data, 2 h past it
    assert cal.is_workday(date(2027, 1, 1)) and not cal.is_workday(date(2027, 1, 2))
    assert cal.working_time_between(start, at("2027-01-04T10:00:00+08:00")).total_seconds() == 3 * 24 * 3600
    assert cal.next_working_moment(at("2027-01-02T10:00:00+08:00")) == at("2027-01-04T00:00:00+08:00")
    assert cal.is_working_moment(at("2028-06-01T10:00:00+08:00"))
    # inside the data both agree, and the data decides what is covered
    for text in ("2025-09-30T16:00:00+08:00", "2026-02-13T17:00:00+08:00", "2026-12-24T11:00:00+08:00"):
        s = at(text)
        for amount in ("1wd", "3wd", "12wh", "48h"):
            if strict.covers(s):
                try:
                    expected = strict.add(s, amount)
                except MissingCalendarYear:
                    continue
                assert cal.add(s, amount) == expected and cal.covers(expected)
    assert cal.covers(at("2026-12-31T23:59:59+08:00")) and not cal.covers(at("2027-01-01T00:00:00+08:00"))
    assert cal.covers(date(2025, 1, 1)) and not cal.covers(date(2024, 12, 31))
    # past the extension, and before the data, the calendar still refuses, naming its data
    with pytest.raises(MissingCalendarYear, match=r"2029 \(it knows 2025–2026\)"):
        cal.is_workday(date(2029, 1, 2))
    with pytest.raises(MissingCalendarYear, match="2024"):
        cal.add(at("2024-12-31T10:00:00+08:00"), "1wd")
    with pytest.raises(CalendarError, match="provisional_years"):
        WorkCalendar.chinese(years=[2026], provisional_years=-1)


def test_a_year_given_whole_is_data_and_replaces_the_package() -> None:
    cal = WorkCalendar.chinese(calendar_years=[EXAMPLE_2027], provisional_years=1)
    assert cal.years == range(2004, 2028) and cal.data_ends == date(2027, 12, 31)
    assert not cal.is_workday(date(2027, 1, 1)) and not cal.is_workday(date(2027, 2, 8))  # holidays
    assert cal.is_workday(date(2027, 2, 20))  # make-up Saturday
    assert cal.is_workday(date(2027, 1, 4)) and not cal.is_workday(date(2027, 1, 9))  # weekday rule
    assert cal.covers(cal.add(at("2026-12-30T10:00:00+08:00"), "3wd"))
    assert "2027 from the notice" in repr(cal)
    # single days of the added year are accepted now, and correct it
    local = WorkCalendar.chinese(calendar_years=[EXAMPLE_2027], overrides=[DayOverride.parse("2027-01-04=off")])
    assert not local.is_workday(date(2027, 1, 4))
    # a known year given whole replaces the package's days (here: a 2026 without its Spring Festival)
    with structlog.testing.capture_logs() as logs:
        only_new_year = WorkCalendar.chinese(calendar_years=[CalendarYear(2026, [Holiday("元旦", date(2026, 1, 1))])])
    assert only_new_year.is_workday(date(2026, 2, 16)) and not only_new_year.is_workday(date(2026, 2, 14))
    assert [e["year"] for e in logs if e["log_level"] == "warning"] == [2026]
    with pytest.raises(CalendarError, match="given twice"):
        WorkCalendar.chinese(calendar_years=[EXAMPLE_2027, EXAMPLE_2027])


def test_missing_year_message_says_how_a_province_adds_the_year() -> None:
    with pytest.raises(MissingCalendarYear) as err:
        WorkCalendar.chinese().is_workday(date(2027, 1, 4))
    message = str(err.value)
    assert "extra_years=" not in message
    assert "[year.2027]" in message and "calendar.toml" in message
    assert "complaintkit_calendar_overrides" in message and "CalendarYear(2027" in message


# -- calendar.toml and the hook -----------------------------------------------------------------


def test_C2_whole_year_from_calendar_toml(tmp_path: Path) -> None:
    standard = standard_with(tmp_path, EXAMPLE_2027_TOML + """
[[day]]
day = 2027-01-04
workday = false
note = "a local holiday, in the added year"
""")
    assert standard.calendar_years == (EXAMPLE_2027,)
    calendar = build_calendar(standard, Plugins.discover())
    assert calendar.data_ends == date(2027, 12, 31)
    assert not calendar.is_workday(date(2027, 1, 1)) and calendar.is_workday(date(2027, 2, 20))
    assert not calendar.is_workday(date(2027, 1, 4))
    assert calendar.add(at("2026-12-31T10:00:00+08:00"), "1wd") == at("2027-01-05T10:00:00+08:00")


def test_C2_a_single_2027_day_without_the_year_says_how_to_add_it(tmp_path: Path) -> None:
    standard = standard_with(tmp_path, '[[day]]\nday = 2027-01-01\nworkday = false\n')
    with pytest.raises(StandardInvalid) as info:
        build_calendar(standard, Plugins.discover())
    message = str(info.value)
    assert "calendar.toml: $.day[0]" in message and "[year.2027]" in message
    assert "extra_years" not in message


def test_C2_whole_year_from_the_hook(tmp_path: Path) -> None:
    class Notice2027:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [EXAMPLE_2027, DayOverride.parse("2027-01-04=off:local holiday")]

    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"),
                       plugins=Plugins.discover(extra=(Notice2027(),)),
                       clock=VirtualClock(at("2026-12-30T09:00:00+08:00")))
    assert kit.calendar.data_ends == date(2027, 12, 31)
    assert not kit.calendar.is_workday(date(2027, 1, 1)) and not kit.calendar.is_workday(date(2027, 1, 4))
    kit.close()

    # the same table as calendar.toml, read by a plugin from elsewhere
    year = CalendarYear.from_table("2027", {"holidays": [{"name": "元旦", "first": "2027-01-01",
                                                          "last": "2027-01-03"}]})
    assert year.days_off == {date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda: [EXAMPLE_2027, EXAMPLE_2027], "2027 is given twice"),
        (lambda: [CalendarYear(2029, [Holiday("元旦", date(2029, 1, 1))])], "no data for 2027–2028"),
        (lambda: [DayOverride.parse("2027-01-01=off")], "return the whole year as a CalendarYear(2027"),
        (lambda: [CalendarYear(2027, [Holiday("元旦", date(2027, 1, 1), date(2028, 1, 1))])],
         "holidays[0].last: 2028-01-01 is not in 2027"),
        (lambda: [{"year": 2027}], "not a DayOverride or a CalendarYear"),
    ],
)
def test_C2_bad_year_from_the_hook_is_refused_naming_the_plugin(tmp_path: Path, answer: Any,
                                                                   expected: str) -> None:
    class Province:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return answer()

    with pytest.raises(PluginError) as info:
        ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), plugins=Plugins.discover(extra=(Province(),)),
                     clock=VirtualClock())
    assert info.value.plugin == "Province" and info.value.hook == "complaintkit_calendar_overrides"
    assert expected in str(info.value)


def test_C2_a_year_both_in_calendar_toml_and_from_a_plugin_names_both(tmp_path: Path) -> None:
    class Province:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [EXAMPLE_2027]

    standard = standard_with(tmp_path, EXAMPLE_2027_TOML)
    with pytest.raises(PluginError) as info:
        build_calendar(standard, Plugins.discover(extra=(Province(),)))
    assert "2027 is given twice" in str(info.value)
    assert "calendar.toml of complaintkit-province-x" in str(info.value) and "Province" in str(info.value)


BAD_YEARS = [
    ('[year.2027]\nholidays = [{ name = "元旦", first = 2027-01-01, last = 2028-01-02 }]\n',
     "calendar.toml: $.year.2027.holidays[0].last: 2028-01-02 is not in 2027"),
    ('[year.2027]\nholidays = [{ name = "元旦", first = 2027-01-03, last = 2027-01-01 }]\n',
     "calendar.toml: $.year.2027.holidays[0].last: 2027-01-01 is before first (2027-01-03)"),
    ('[year.2027]\nholidays = [{ name = "春节", first = 2027-02-06, last = 2027-02-14 }]\nworkdays = [2027-02-07]\n',
     "calendar.toml: $.year.2027.workdays[0]: 2027-02-07 is also a holiday (holidays[0] 春节)"),
    ('[year.2027]\nholidays = [{ name = "元旦", first = 2027-01-01 }]\nworkdays = [2027-02-08]\n',
     "calendar.toml: $.year.2027.workdays[0]: 2027-02-08 is a Monday, a working day anyway"),
    ('[year.2027]\nholidays = [{ name = "元旦", first = 2027-01-01 }]\nworkdays = [2026-12-27]\n',
     "calendar.toml: $.year.2027.workdays[0]: 2026-12-27 is not in 2027"),
    ('[year.2027]\nholidays = [{ name = "元旦", first = "2027-13-01" }]\n',
     "calendar.toml: $.year.2027.holidays[0].first: '2027-13-01' is not a date like 2027-01-01"),
    ('[year.2027]\nholidays = [{ name = "元旦", from = 2027-01-01 }]\n',
     "calendar.toml: $.year.2027.holidays[0].from: unknown field (a holiday has name, first and last)"),
    ('[year.2027]\nholiday = [{ name = "元旦", first = 2027-01-01 }]\n',
     "calendar.toml: $.year.2027.holidays: none given"),
    ('[year.2027]\nholidays = [{ name = "国庆节", first = 2027-10-01, last = 2027-12-07 }]\n',
     "calendar.toml: $.year.2027.holidays[0]: 2027-10-01 to 2027-12-07 is 68 days"),
    ('[year.27]\nholidays = [{ name = "元旦", first = 2027-01-01 }]\n',
     "calendar.toml: $.year.27: '27' is not a year; write the table as [year.2027]"),
    ('[years.2027]\nholidays = [{ name = "元旦", first = 2027-01-01 }]\n',
     "calendar.toml: $.years: unknown table"),
]


@pytest.mark.parametrize(("toml", "expected"), BAD_YEARS)
def test_C2_bad_year_in_calendar_toml_is_refused_naming_the_file_and_field(tmp_path: Path, toml: str,
                                                                             expected: str) -> None:
    with pytest.raises(StandardInvalid) as info:
        standard_with(tmp_path, toml)
    assert "complaintkit-province-x" in str(info.value)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_every_problem_of_a_year_is_told_at_once() -> None:
    with pytest.raises(CalendarYearError) as info:
        CalendarYear.from_table(2027, {"holidays": [{"first": "x"}, {"first": date(2027, 1, 1), "last": date(2027, 1, 1)}],
                                       "workdays": [date(2027, 1, 1)]})
    assert [p.split(":")[0] for p in info.value.problems] == ["holidays[0].first", "workdays[0]"]


# -- the worker's warning ------------------------------------------------------------------------


def test_calendar_warning_from_60_days_before_the_data_ends() -> None:
    cal = WorkCalendar.chinese(years=[2026], provisional_years=1)
    assert calendar_warning(cal, date(2026, 10, 31)) is None  # 61 days before
    first = calendar_warning(cal, date(2026, 11, 1))  # 60 days before
    assert first is not None
    assert "2026-12-31" in first and "in 60 days" in first
    assert "[year.2027]" in first and "calendar.toml" in first and "complaintkit_calendar_overrides" in first
    assert "provisional" in first
    today = calendar_warning(cal, date(2026, 11, 23))
    assert today is not None and "in 38 days" in today
    after = calendar_warning(cal, date(2027, 1, 2))
    assert after is not None and "ended on 2026-12-31" in after and "[year.2027]" in after
    # once the year is added, the warning waits for the next year's end
    added = WorkCalendar.chinese(calendar_years=[EXAMPLE_2027])
    assert calendar_warning(added, date(2026, 11, 23)) is None
    assert "[year.2028]" in (calendar_warning(added, date(2027, 11, 1)) or "")
