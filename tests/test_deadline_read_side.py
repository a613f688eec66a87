"""The time limits' read side (SPEC C3, C4, C5, E1, E3) and the KPIs (SPEC L1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from complaintkit.core.model import Actor, DeadlineState, Role
from complaintkit.parts.reports import queries as reports

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
#: dispatching is the back office's (and the specialist's), not the front desk's (roles.toml, SPEC H2)
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NET = Actor("net01", Role.DEPARTMENT, "network_dept")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def accept(kit: Any, number: str, category: str = "hotline", **kw: Any) -> Any:
    return kit.accept(DESK, msisdn=number, channel="hotline", category=category, description="投诉", **kw)


def test_C3_read_side_shows_every_deadline_with_its_state(ck_kit: Any, ck_clock: Any) -> None:
    t = accept(ck_kit, "13812345678", "call_quality")  # direct dispatch at 09:00
    views = {v.name: v for v in ck_kit.deadlines(t.id)}
    assert list(views) == ["total", "dispatch", "reply", "handling"]
    assert views["dispatch"].state is DeadlineState.MET and views["dispatch"].late is False
    assert views["reply"].state is DeadlineState.RUNNING
    assert views["reply"].remaining == timedelta(hours=24)
    assert views["reply"].near_at == at("2026-03-03T08:00:00+08:00")
    assert views["reply"].internal_due_at == at("2026-03-03T05:00:00+08:00")
    assert views["reply"].internal_state == "pending"
    assert views["handling"].internal_state == "none"
    # the worker is down: nothing fired, yet the read side shows the state at now
    ck_clock.set(at("2026-03-03T08:30:00+08:00"))
    views = {v.name: v for v in ck_kit.deadlines(t.id)}
    assert ck_kit.ticket(t.id).deadline("reply").state is DeadlineState.RUNNING
    assert views["reply"].state is DeadlineState.NEAR_OVERDUE
    assert views["reply"].internal_state == "missed"
    ck_clock.set(at("2026-03-03T09:00:00+08:00"))
    assert {v.name: v.state for v in ck_kit.deadlines(t.id)}["reply"] is DeadlineState.OVERDUE
    ck_kit.reply(t.id, NET, result="已修复")
    views = {v.name: v for v in ck_kit.deadlines(t.id)}
    assert views["reply"].state is DeadlineState.MET and views["reply"].late is False  # met at the due time
    assert views["reply"].remaining is None
    assert views["return_visit"].state is DeadlineState.RUNNING


def test_E1_E3_department_queue_overdue_first_then_major_and_repeat_then_due_time(ck_kit: Any,
                                                                                  ck_clock: Any) -> None:
    old = accept(ck_kit, "13800000001")  # 09:00, dispatch due 11:00
    ck_clock.advance_to(at("2026-03-02T11:30:00+08:00"))
    plain = accept(ck_kit, "13800000002")  # dispatch due 13:30
    ck_clock.advance(minutes=5)
    major = accept(ck_kit, "13800000003", markers=["major"])  # urgent: dispatch due 12:05
    ck_clock.advance(minutes=5)
    repeat = accept(ck_kit, "13800000004", markers=["repeat"])  # dispatch due 13:40
    ck_clock.advance(minutes=5)
    later = accept(ck_kit, "13800000005")  # dispatch due 13:50
    accept(ck_kit, "13800000006", "call_quality")  # network_dept: not in this queue
    queue = ck_kit.queue("service_centre")
    assert [e.ticket.id for e in queue] == [old.id, major.id, repeat.id, plain.id, later.id]
    assert queue[0].state is DeadlineState.OVERDUE and queue[0].overdue == ("dispatch",)
    assert queue[1].priority and queue[1].next_due_at == at("2026-03-02T12:05:00+08:00")
    assert queue[3].next_deadline == "dispatch" and not queue[3].priority
    assert [e.ticket.id for e in ck_kit.queue("billing_dept")] == []


def test_C5_paused_ticket_shows_paused_and_goes_last_in_the_queue(ck_db_url: str) -> None:
    import attrs
    from complaintkit_baseline import standard

    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit
    from complaintkit.testing import VirtualClock

    std = standard()
    std = attrs.evolve(std, settings=attrs.evolve(std.settings, pause_while_waiting=True))
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(ck_db_url), standard=std, plugins=Plugins.discover(), clock=clock)
    waiting = accept(kit, "13800000001")
    other = accept(kit, "13800000002")
    kit.pause(waiting.id, DESK, "等待客户补充材料")
    assert {v.state for v in kit.deadlines(waiting.id)} == {DeadlineState.PAUSED}
    clock.set(clock.now() + timedelta(hours=5))
    queue = kit.queue("service_centre")
    assert [e.ticket.id for e in queue] == [other.id, waiting.id]
    assert queue[1].state is DeadlineState.PAUSED and queue[1].next_due_at is None
    kit.close()


@pytest.fixture
def kpi_scenario(ck_kit: Any, ck_clock: Any) -> dict[str, Any]:
    """Three tickets accepted Monday 09:00 (general: dispatch 2 h, reply 24 h, handling 36 h):

    fast — direct dispatch to network_dept, replied after 10 h: 3 deadlines met on time;
    slow — dispatched at 12:00 (late), replied after 49 h: dispatch, handling, reply all late;
    open — stays with the service centre, never replied.
    """
    fast = accept(ck_kit, "13800000001", "call_quality")
    slow = accept(ck_kit, "13800000002")
    still_open = accept(ck_kit, "13800000003")
    ck_clock.advance_to(at("2026-03-02T12:00:00+08:00"))
    ck_kit.dispatch(slow.id, "network_dept", BACK)
    ck_clock.advance_to(at("2026-03-02T19:00:00+08:00"))
    ck_kit.reply(fast.id, NET, result="已修复")
    ck_clock.advance_to(at("2026-03-04T10:00:00+08:00"))
    ck_kit.reply(slow.id, NET, result="已修复")
    return {"fast": fast, "slow": slow, "open": still_open}


def test_L1_kpis_over_a_period(ck_kit: Any, kpi_scenario: Any) -> None:
    k = reports.kpis(ck_kit, at("2026-03-02T00:00:00+08:00"), at("2026-03-05T00:00:00+08:00"))
    assert k.accepted == 3
    assert k.completed_within_48h == 1
    assert k.completion_rate_48h == pytest.approx(1 / 3)
    assert k.replied == 2
    assert k.average_handling_hours == pytest.approx((10 + 49) / 2)
    assert (k.deadlines_met, k.deadlines_met_on_time) == (6, 3)
    assert k.timeliness_rate == pytest.approx(0.5)
    # the first day only: the same population, but only the deadlines met that day
    day = reports.kpis(ck_kit, at("2026-03-02T00:00:00+08:00"), at("2026-03-03T00:00:00+08:00"))
    assert day.accepted == 3 and (day.deadlines_met, day.deadlines_met_on_time) == (4, 3)
    assert day.timeliness_rate == pytest.approx(0.75)
    # a period with nothing accepted
    empty = reports.kpis(ck_kit, at("2026-03-10T00:00:00+08:00"), at("2026-03-11T00:00:00+08:00"))
    assert empty.accepted == 0 and empty.completion_rate_48h is None and empty.timeliness_rate is None


def test_L1_kpis_per_department(ck_kit: Any, kpi_scenario: Any) -> None:
    start, end = at("2026-03-02T00:00:00+08:00"), at("2026-03-05T00:00:00+08:00")
    net = reports.kpis(ck_kit, start, end, department="network_dept")
    assert (net.accepted, net.completed_within_48h, net.replied) == (2, 1, 2)
    assert net.completion_rate_48h == pytest.approx(0.5)
    assert net.timeliness_rate == pytest.approx(0.5)
    centre = reports.kpis(ck_kit, start, end, department="service_centre")
    assert (centre.accepted, centre.completed_within_48h, centre.replied) == (1, 0, 0)
    assert centre.completion_rate_48h == 0.0
    assert centre.average_handling_hours is None and centre.timeliness_rate is None
