"""The time-limit engine (SPEC C1–C5): near-overdue and overdue, internal targets, pausing,
re-computation on forward / reclassification / re-activation, start-up validation, the digest."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from complaintkit_baseline import DATA
from complaintkit_baseline import standard as baseline

from complaintkit import hookimpl
from complaintkit.core.calendar import DayOverride
from complaintkit.core.errors import (
    IllegalTransition,
    PluginError,
    RuleRefused,
    StandardInvalid,
    UnknownCategory,
)
from complaintkit.core.model import Actor, DeadlineState, Marker, Role, TicketState
from complaintkit.engine.store import Store
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.standard import load_standard
from complaintkit.testing import VirtualClock

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
#: dispatching is the back office's (and the specialist's), not the front desk's (roles.toml, SPEC H2)
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
DEPT = Actor("net01", Role.DEPARTMENT, "network_dept")
START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")  # Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def kit_with(url: str, clock: VirtualClock, **settings: Any) -> ComplaintKit:
    std = baseline()
    std = attrs.evolve(std, settings=attrs.evolve(std.settings, **settings))
    return ComplaintKit(Store.open(url), standard=std, plugins=Plugins.discover(), clock=clock)


def accept(kit: ComplaintKit, category: str = "hotline", **kw: Any) -> Any:
    return kit.accept(DESK, msisdn=kw.pop("msisdn", "13812345678"), channel="hotline", category=category,
                      description="等待过久", **kw)


def kinds(kit: ComplaintKit, ticket_id: str) -> Counter[tuple[str, str]]:
    return Counter((e.kind, e.data.get("deadline", "")) for e in kit.history(ticket_id))


def pending(kit: ComplaintKit, ticket_id: str) -> dict[str, datetime]:
    """Every deadline moment still to fire: each deadline's pending timer and the timers it will
    set in turn when it fires (a deadline holds one pending timer at a time)."""
    with kit.store.read() as tx:
        timers = tx.pending_timers(ticket_id)
    ticket = kit.ticket(ticket_id)
    ctx = kit.context()
    out: dict[str, datetime] = {}
    for timer in timers:
        out[timer.name] = timer.due_at
        kind, _, name = timer.name.partition(":")
        deadline = ticket.deadline(name)
        if deadline is None or kind not in ("internal", "near", "overdue"):
            continue
        chain = time_limits.next_timer(ticket_id, deadline, ctx, (timer.due_at, kind))
        while chain:
            out[chain[0].name] = chain[0].due_at
            chain = time_limits.next_timer(ticket_id, deadline, ctx,
                                           (chain[0].due_at, chain[0].name.partition(":")[0]))
    return out


def recomputed(kit: ComplaintKit, ticket_id: str) -> list[dict[str, Any]]:
    return [e.data for e in kit.history(ticket_id) if e.kind == "deadlines_recomputed"]


# -- C3: near-overdue and overdue --------------------------------------------------------------


def test_C3_near_overdue_then_overdue_fire_once_each(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                    ck_mail: Any) -> None:
    t = accept(ck_kit)  # general: dispatch 2 h, stays in the pool
    ck_clock.advance_to(at("2026-03-02T09:59:59+08:00"))
    assert kinds(ck_kit, t.id)[("near_overdue", "dispatch")] == 0
    ck_clock.advance_to(at("2026-03-02T10:00:00+08:00"))  # 1 h before the 2 h dispatch limit
    assert kinds(ck_kit, t.id)[("near_overdue", "dispatch")] == 1
    assert Marker.NEAR_OVERDUE in ck_kit.ticket(t.id).markers
    assert ck_kit.ticket(t.id).deadline("dispatch").state is DeadlineState.NEAR_OVERDUE
    ck_clock.advance_to(at("2026-03-02T10:59:59+08:00"))
    assert kinds(ck_kit, t.id)[("overdue", "dispatch")] == 0
    ck_clock.advance_to(at("2026-03-02T11:00:00+08:00"))
    ticket = ck_kit.ticket(t.id)
    assert ticket.deadline("dispatch").state is DeadlineState.OVERDUE
    assert Marker.OVERDUE in ticket.markers and Marker.NEAR_OVERDUE not in ticket.markers
    ck_clock.advance(days=5)
    counts = kinds(ck_kit, t.id)
    for name in ("dispatch", "reply", "total"):
        assert counts[("near_overdue", name)] == 1, name
        assert counts[("overdue", name)] == 1, name
    subjects = Counter(m.subject for m in ck_mail.sent)
    assert subjects[f"[near_overdue] {t.id}"] == 3 and subjects[f"[overdue] {t.id}"] == 3
    assert all(m.to == ("service_centre",) for m in ck_mail.sent)


def test_C3_met_deadline_fires_nothing(ck_kit: Any, ck_clock: Any, ck_worker: Any) -> None:
    t = accept(ck_kit)
    ck_kit.dispatch(t.id, "network_dept", BACK)
    ck_clock.advance(hours=3)
    assert kinds(ck_kit, t.id)[("near_overdue", "dispatch")] == 0
    assert kinds(ck_kit, t.id)[("overdue", "dispatch")] == 0


def test_C3_due_timers_fire_once_on_first_pass_after_worker_restart(ck_db_url: str) -> None:
    clock = VirtualClock(START)
    kit = kit_with(ck_db_url, clock)
    t = accept(kit)
    kit.close()
    # the worker is down for 25 h; a new kit on the same database, nothing attached meanwhile
    clock = VirtualClock(START)
    clock.set(START + timedelta(hours=25))
    kit = kit_with(ck_db_url, clock)
    # due by then: near/overdue dispatch (10:00, 11:00), internal reply (20 h), near/overdue reply
    assert kit.fire_due_timers() == 5
    assert kit.fire_due_timers() == 0
    counts = kinds(kit, t.id)
    assert counts[("near_overdue", "dispatch")] == counts[("overdue", "dispatch")] == 1
    assert counts[("near_overdue", "reply")] == counts[("overdue", "reply")] == 1
    assert counts[("internal_target_missed", "reply")] == 1
    assert counts[("near_overdue", "total")] == 0
    kit.close()


def test_C3_near_overdue_share_of_the_limit(ck_db_url: str) -> None:
    clock = VirtualClock(START)
    kit = kit_with(ck_db_url, clock, near_overdue_share=0.8)
    t = accept(kit)
    timers = pending(kit, t.id)
    assert timers["near:dispatch"] == at("2026-03-02T10:36:00+08:00")  # 80 % of 2 h
    assert timers["near:reply"] == at("2026-03-03T04:12:00+08:00")  # 80 % of 24 h
    assert timers["near:total"] == at("2026-03-03T23:24:00+08:00")  # 80 % of 48 h
    clock.advance_to(at("2026-03-02T10:35:59+08:00"))
    assert kinds(kit, t.id)[("near_overdue", "dispatch")] == 0
    clock.advance_to(at("2026-03-02T10:36:00+08:00"))
    assert kinds(kit, t.id)[("near_overdue", "dispatch")] == 1
    kit.close()


def test_C3_near_overdue_hours_before_setting(ck_db_url: str) -> None:
    clock = VirtualClock(START)
    kit = kit_with(ck_db_url, clock, near_overdue_before="3h")
    t = accept(kit)
    timers = pending(kit, t.id)
    assert timers["near:reply"] == at("2026-03-03T06:00:00+08:00")  # 24 h − 3 h
    assert "near:dispatch" not in timers  # 3 h before a 2 h limit is before its start: no reminder
    assert timers["overdue:dispatch"] == at("2026-03-02T11:00:00+08:00")
    kit.close()


def test_C3_default_near_overdue_is_one_hour_before(ck_kit: Any) -> None:
    t = accept(ck_kit)
    timers = pending(ck_kit, t.id)
    assert timers["near:dispatch"] == at("2026-03-02T10:00:00+08:00")
    assert timers["near:total"] == at("2026-03-04T08:00:00+08:00")


# -- C4: internal targets ----------------------------------------------------------------------


def test_C4_internal_target_missed_is_recorded_without_customer_effect(ck_kit: Any, ck_clock: Any,
                                                                       ck_worker: Any, ck_mail: Any,
                                                                       ck_sms: Any) -> None:
    t = accept(ck_kit)
    ck_kit.dispatch(t.id, "network_dept", BACK)
    assert pending(ck_kit, t.id)["internal:reply"] == at("2026-03-02T05:00:00+08:00") + timedelta(days=1)
    ck_clock.advance_to(at("2026-03-03T05:00:00+08:00"))  # reply: 24 h, internal target 20 h
    events = [e for e in ck_kit.history(t.id) if e.kind == "internal_target_missed"]
    assert [e.data["deadline"] for e in events] == ["reply"]
    assert events[0].data["internal_due_at"] == "2026-03-03T05:00:00+08:00"
    ticket = ck_kit.ticket(t.id)
    assert ticket.markers == frozenset()  # no marker, and no message
    assert ck_mail.sent == [] and ck_sms.sent == []
    views = {v.name: v for v in ck_kit.deadlines(t.id)}
    assert views["reply"].internal_state == "missed"
    assert views["reply"].state is DeadlineState.RUNNING
    assert views["total"].internal_state == "pending"
    ck_clock.advance(days=3)
    assert kinds(ck_kit, t.id)[("internal_target_missed", "reply")] == 1


def test_C4_internal_target_kept_cancels_its_timer(ck_kit: Any, ck_clock: Any, ck_worker: Any) -> None:
    t = accept(ck_kit, "call_quality")
    ck_clock.advance(hours=2)
    ck_kit.reply(t.id, DEPT, result="已修复基站")
    assert "internal:reply" not in pending(ck_kit, t.id)
    ck_clock.advance(days=2)
    assert kinds(ck_kit, t.id)[("internal_target_missed", "reply")] == 0
    views = {v.name: v for v in ck_kit.deadlines(t.id)}
    assert views["reply"].internal_state == "kept" and views["reply"].state is DeadlineState.MET


# -- C5: pausing while waiting on the customer ----------------------------------------------------


def test_C5_pause_refused_when_the_province_option_is_off(ck_kit: Any) -> None:
    t = accept(ck_kit)
    with pytest.raises(RuleRefused, match="pause_while_waiting"):
        ck_kit.pause(t.id, DESK, "等待客户提供详单")
    assert ck_kit.ticket(t.id).deadline("dispatch").state is DeadlineState.RUNNING
    assert "pause" not in kinds(ck_kit, t.id).elements()


def test_C5_pause_and_resume_shift_natural_limits(ck_db_url: str) -> None:
    clock = VirtualClock(START)
    kit = kit_with(ck_db_url, clock, pause_while_waiting=True)
    t = accept(kit)
    clock.advance(hours=1, minutes=30)  # 10:30: dispatch is near-overdue
    assert kit.ticket(t.id).deadline("dispatch").state is DeadlineState.NEAR_OVERDUE
    kit.pause(t.id, DESK, "等待客户提供详单")
    ticket = kit.ticket(t.id)
    assert {d.state for d in ticket.deadlines} == {DeadlineState.PAUSED}
    assert pending(kit, t.id) == {}
    assert {v.state for v in kit.deadlines(t.id)} == {DeadlineState.PAUSED}
    with pytest.raises(RuleRefused, match="already paused"):
        kit.pause(t.id, DESK, "again")
    clock.advance(hours=5)  # 15:30: nothing fires while paused
    assert kinds(kit, t.id)[("overdue", "dispatch")] == 0
    kit.resume(t.id, DESK)
    ticket = kit.ticket(t.id)
    # natural limits move on by the natural paused time (5 h)
    assert ticket.deadline("dispatch").due_at == at("2026-03-02T16:00:00+08:00")
    assert ticket.deadline("reply").due_at == at("2026-03-03T14:00:00+08:00")
    assert ticket.deadline("reply").internal_due_at == at("2026-03-03T10:00:00+08:00")
    assert ticket.deadline("total").due_at == at("2026-03-04T14:00:00+08:00")
    # the near-overdue reminder went out before the pause: it is not sent again
    assert ticket.deadline("dispatch").state is DeadlineState.NEAR_OVERDUE
    timers = pending(kit, t.id)
    assert "near:dispatch" not in timers and timers["overdue:dispatch"] == at("2026-03-02T16:00:00+08:00")
    assert timers["near:reply"] == at("2026-03-03T13:00:00+08:00")
    resume = next(e for e in kit.history(t.id) if e.kind == "resume")
    assert resume.data["paused_natural_seconds"] == 5 * 3600
    assert resume.data["deadlines"]["reply"]["old_due_at"] == "2026-03-03T09:00:00+08:00"
    assert resume.data["deadlines"]["reply"]["new_due_at"] == "2026-03-03T14:00:00+08:00"
    pause = next(e for e in kit.history(t.id) if e.kind == "pause")
    assert pause.reason == "等待客户提供详单" and pause.actor == "fd001"
    clock.advance_to(at("2026-03-02T16:00:00+08:00"))
    counts = kinds(kit, t.id)
    assert counts[("near_overdue", "dispatch")] == 1 and counts[("overdue", "dispatch")] == 1
    with pytest.raises(RuleRefused, match="not paused"):
        kit.resume(t.id, DESK)
    kit.close()


def test_C5_working_day_limits_shift_by_paused_working_time(ck_db_url: str) -> None:
    clock = VirtualClock(at("2026-03-06T09:00:00+08:00"))  # Friday
    kit = kit_with(ck_db_url, clock, pause_while_waiting=True)
    t = accept(kit, "call_quality")
    clock.advance(hours=1)
    kit.reply(t.id, DEPT, result="已修复")  # return visit: 3 working days → Wed 11 Mar 10:00
    assert kit.ticket(t.id).deadline("return_visit").due_at == at("2026-03-11T10:00:00+08:00")
    clock.advance(hours=2)  # Fri 12:00
    kit.pause(t.id, DEPT, "客户出差，周一再回访")
    clock.set(at("2026-03-09T12:00:00+08:00"))  # Mon 12:00: 72 natural hours, 1 working day
    kit.resume(t.id, DEPT, "客户已回")
    # working-day limits move on by the working time paused (Fri 12–24 h + Mon 0–12 h = 1 day)
    assert kit.ticket(t.id).deadline("return_visit").due_at == at("2026-03-12T10:00:00+08:00")
    resume = next(e for e in kit.history(t.id) if e.kind == "resume")
    assert resume.data["paused_working_seconds"] == 24 * 3600
    assert resume.data["paused_natural_seconds"] == 72 * 3600
    kit.close()


# -- re-computation: forward, reclassify, reactivate -------------------------------------------


def test_D4_forward_restarts_the_handling_stage_and_keeps_history(ck_kit: Any, ck_clock: Any) -> None:
    t = accept(ck_kit, "call_quality")  # direct dispatch to network_dept at 09:00: handling 36 h
    assert t.deadline("handling").due_at == at("2026-03-03T21:00:00+08:00")
    ck_clock.advance(hours=2)
    ck_kit.forward(t.id, "city_north", DEPT, reason="属地问题，转北部分公司")
    ticket = ck_kit.ticket(t.id)
    assert ticket.deadline("handling").started_at == at("2026-03-02T11:00:00+08:00")
    assert ticket.deadline("handling").due_at == at("2026-03-03T23:00:00+08:00")
    assert ticket.deadline("reply").due_at == at("2026-03-03T09:00:00+08:00")  # customer-facing: unchanged
    [data] = recomputed(ck_kit, t.id)
    assert data["cause"] == "forward"
    assert data["deadlines"]["handling"]["old_due_at"] == "2026-03-03T21:00:00+08:00"
    assert data["deadlines"]["handling"]["new_due_at"] == "2026-03-03T23:00:00+08:00"
    assert list(data["deadlines"]) == ["handling"]
    handling = {name: due for name, due in pending(ck_kit, t.id).items() if name.endswith(":handling")}
    assert sorted(handling.items()) == [
        ("near:handling", at("2026-03-03T22:00:00+08:00")), ("overdue:handling", at("2026-03-03T23:00:00+08:00"))]
    with ck_kit.store.read() as tx:  # the old department's timer is gone; one pending for the new one
        assert [tm.name for tm in tx.pending_timers(t.id) if tm.name.endswith(":handling")] == ["near:handling"]


def test_C1_reclassify_looks_limits_up_again_from_the_original_start(ck_kit: Any, ck_clock: Any,
                                                                     ck_worker: Any) -> None:
    t = accept(ck_kit)  # hotline: general, 09:00
    ck_clock.advance(minutes=30)
    with pytest.raises(UnknownCategory):
        ck_kit.reclassify(t.id, "no_such_category", DESK, "wrong")
    ticket = ck_kit.reclassify(t.id, "no_signal", DESK, "客户补充：室内无信号")  # important tier
    assert ticket.category == "no_signal" and ticket.urgency.value == "important"
    assert ticket.deadline("dispatch").due_at == at("2026-03-02T10:00:00+08:00")  # 1 h from 09:00
    assert ticket.deadline("reply").due_at == at("2026-03-02T21:00:00+08:00")  # 12 h
    assert ticket.deadline("reply").internal_due_at == at("2026-03-02T19:00:00+08:00")  # 10 h
    assert ticket.deadline("total").due_at == at("2026-03-03T09:00:00+08:00")  # 24 h
    [data] = recomputed(ck_kit, t.id)
    assert data["cause"] == "reclassify"
    assert data["deadlines"]["total"] == {
        "old_due_at": "2026-03-04T09:00:00+08:00", "new_due_at": "2026-03-03T09:00:00+08:00",
        "old_limit": "48h", "new_limit": "24h",
        "old_internal_due_at": "2026-03-04T01:00:00+08:00", "new_internal_due_at": "2026-03-03T05:00:00+08:00",
        "old_state": "running", "new_state": "running", "started_at": "2026-03-02T09:00:00+08:00"}
    rec = next(e for e in ck_kit.history(t.id) if e.kind == "reclassify")
    assert rec.data["from_category"] == "hotline" and rec.reason == "客户补充：室内无信号"
    # the old timers are replaced; 1 h before a 1 h limit is its start: no near-overdue reminder
    timers = pending(ck_kit, t.id)
    assert timers["overdue:dispatch"] == at("2026-03-02T10:00:00+08:00") and "near:dispatch" not in timers
    assert timers["near:reply"] == at("2026-03-02T20:00:00+08:00")
    ck_clock.advance(hours=1)
    counts = kinds(ck_kit, t.id)
    assert counts[("near_overdue", "dispatch")] == 0 and counts[("overdue", "dispatch")] == 1
    ck_clock.advance(days=3)
    assert kinds(ck_kit, t.id)[("overdue", "total")] == 1  # the old 48 h timer never fires


def test_C1_reclassify_keeps_an_explicit_urgency_and_refuses_archived(ck_kit: Any) -> None:
    t = accept(ck_kit, urgency="urgent")
    ticket = ck_kit.reclassify(t.id, "no_signal", DESK, "客户补充")
    assert ticket.urgency.value == "urgent"
    assert recomputed(ck_kit, t.id) == []  # same tier: nothing to re-compute, no empty event


def test_A2_reactivate_restarts_reply_and_handling(ck_kit: Any, ck_clock: Any) -> None:
    t = accept(ck_kit, "call_quality")
    with pytest.raises(IllegalTransition):
        ck_kit.reactivate(t.id, DEPT, "not replied yet")
    ck_clock.advance(hours=4)
    ck_kit.reply(t.id, DEPT, result="已修复")
    ck_clock.advance(hours=20)  # Tue 09:00
    ticket = ck_kit.reactivate(t.id, DESK, "客户反映问题复现")
    assert ticket.state is TicketState.IN_HANDLING
    assert ticket.deadline("reply").due_at == at("2026-03-04T09:00:00+08:00")
    assert ticket.deadline("reply").state is DeadlineState.RUNNING
    assert ticket.deadline("handling").due_at == at("2026-03-04T21:00:00+08:00")
    assert ticket.deadline("return_visit").state is DeadlineState.CANCELLED
    assert ticket.deadline("total").due_at == at("2026-03-04T09:00:00+08:00")  # keeps running
    timers = pending(ck_kit, t.id)
    assert not any(n.endswith(":return_visit") for n in timers)
    assert timers["overdue:reply"] == at("2026-03-04T09:00:00+08:00")
    [data] = recomputed(ck_kit, t.id)
    assert data["cause"] == "reactivate"
    assert data["deadlines"]["reply"]["old_due_at"] == "2026-03-03T09:00:00+08:00"
    assert data["deadlines"]["reply"]["old_state"] == "met"
    assert data["deadlines"]["reply"]["new_due_at"] == "2026-03-04T09:00:00+08:00"
    assert data["deadlines"]["return_visit"]["new_state"] == "cancelled"
    # and the reply meets the new deadline; a new return visit starts
    ck_kit.reply(t.id, DEPT, result="已彻底修复")
    ticket = ck_kit.ticket(t.id)
    assert ticket.deadline("reply").state is DeadlineState.MET
    assert ticket.deadline("return_visit").state is DeadlineState.RUNNING


# -- start-up validation ---------------------------------------------------------------------------


def test_C1_broken_time_limit_table_is_refused_naming_plugin_file_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(str(DATA), folder)
    table = folder / "time_limits.toml"
    table.write_text(table.read_text(encoding="utf-8").replace('reply = "12h"', 'reply = "12x"', 1),
                     encoding="utf-8")
    with pytest.raises(StandardInvalid) as info:
        load_standard(folder, plugin="complaintkit-province-x")
    message = str(info.value)
    assert "complaintkit-province-x" in message
    assert "time_limits.toml: $.rule[1].limits.reply" in message
    assert "'12x'" in message


def test_C2_bad_calendar_override_from_a_plugin_is_refused_naming_the_plugin(ck_db_url: str) -> None:
    class TextOverrides:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return ["2026-10-10=off"]  # text instead of DayOverride values

    class UnknownYear:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [DayOverride.parse("2031-01-02=off")]  # a year the calendar data does not know

    for plugin, expected in ((TextOverrides(), "not a DayOverride"), (UnknownYear(), "2031")):
        with pytest.raises(PluginError) as info:
            ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(extra=(plugin,)),
                         clock=VirtualClock(START))
        assert info.value.plugin == type(plugin).__name__
        assert info.value.hook == "complaintkit_calendar_overrides"
        assert expected in str(info.value)


def test_C2_good_calendar_override_from_a_plugin_is_used(ck_db_url: str) -> None:
    class LocalHoliday:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [DayOverride.parse("2026-03-03=off:local holiday")]

    kit = ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(extra=(LocalHoliday(),)),
                       clock=VirtualClock(START))
    assert not kit.calendar.is_workday(at("2026-03-03T00:00:00+08:00").date())
    kit.close()


# -- the daily digest ---------------------------------------------------------------------------


def test_C3_daily_digest_once_per_department_per_day(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                     ck_mail: Any) -> None:
    late = accept(ck_kit, "call_quality")  # network_dept
    pool = accept(ck_kit, msisdn="13912345678")  # stays with the service centre
    fine = accept(ck_kit, "bill_dispute", msisdn="13712345678")  # billing_dept
    ck_clock.advance_to(at("2026-03-03T08:30:00+08:00"))  # reply (24 h) is near-overdue at 08:00
    ck_kit.reply(fine.id, Actor("bill01", Role.DEPARTMENT, "billing_dept"), result="已退费")
    ck_mail.sent.clear()
    assert ck_kit.send_daily_digest() == 2
    assert ck_kit.send_daily_digest() == 0  # the same day: nothing new
    ck_worker.run_once()
    digests = {m.to[0]: m for m in ck_mail.sent if m.key.startswith("digest:")}
    assert sorted(digests) == ["network_dept", "service_centre"]
    assert digests["network_dept"].key == "digest:network_dept:2026-03-03"
    assert late.id in digests["network_dept"].body and pool.id in digests["service_centre"].body
    assert "near-overdue: reply" in digests["network_dept"].body
    assert "overdue: dispatch" in digests["service_centre"].body
    ck_clock.advance(days=1)
    ck_mail.sent.clear()
    # the next day a new digest; billing's total (48 h) is near-overdue now too
    assert ck_kit.send_daily_digest() == 3


def test_C2_contradicting_calendar_overrides_of_two_plugins_name_both(ck_db_url: str) -> None:
    class HolidayPlugin:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [DayOverride.parse("2026-03-04=off")]

    class WorkdayPlugin:
        @hookimpl
        def complaintkit_calendar_overrides(self, standard: Any) -> Any:
            return [DayOverride.parse("2026-03-04=work")]

    with pytest.raises(PluginError) as info:
        ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(extra=(HolidayPlugin(), WorkdayPlugin())),
                     clock=VirtualClock(START))
    assert "HolidayPlugin" in str(info.value) and "WorkdayPlugin" in str(info.value)
    assert "conflicting overrides for 2026-03-04" in str(info.value)
