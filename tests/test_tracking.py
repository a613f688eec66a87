"""SPEC F1–F2: tracking long cases on real 2026 dates, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from complaintkit import hookimpl
from complaintkit.core.errors import RuleRefused
from complaintkit.core.model import Actor, Marker, Role, TicketState

pytestmark = pytest.mark.complaintkit(boss="lenient")

TZ = ZoneInfo("Asia/Shanghai")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NUMBER = "13912345678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def handled(kit: Any) -> Any:
    t = kit.accept(BACK, msisdn=NUMBER, channel="hotline", category="no_signal", description="家中无信号，需新建基站")
    assert t.state is TicketState.IN_HANDLING  # dispatched straight to the network department (D2)
    kit.record(t.id, BACK, verification="已核实：弱覆盖区域")
    return t


@pytest.mark.complaintkit(clock="2026-09-25T10:00:00+08:00")
def test_F1_F2_two_rounds_then_escalation_and_archive_only_after_the_final_reply(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    calls = []

    class Province:
        @hookimpl
        def complaintkit_escalation(self, ticket: Any, source: str, reason: str) -> None:
            calls.append((ticket.id, source))

    ck_kit.plugins.pm.register(Province())
    tracking = ck_kit.parts.tracking
    t = handled(ck_kit)
    with pytest.raises(RuleRefused, match="not more than 10 days away"):
        tracking.mark(t.id, BACK, expected=at("2026-10-05T10:00"))
    # expected 25 Oct: the first reply (Fri 25 Sep) sets the tracking times 10 Oct and 25 Oct
    marked = tracking.mark(t.id, BACK, expected=at("2026-10-25T10:00"))
    assert Marker.TRACKING in marked.markers
    with pytest.raises(RuleRefused, match="kit.parts.tracking.reply"):
        ck_kit.reply(t.id, BACK, result="正在规划基站")
    tracking.reply(t.id, BACK, result="已立项新建基站，预计10月下旬完成")
    row = tracking.tracking(t.id)
    assert row.first_reply_at == at("2026-09-25T10:00") and row.rounds == 0
    with ck_kit.store.read() as tx:
        assert [tm.due_at for tm in tx.pending_timers(t.id) if tm.name.startswith("tracking")] == [at("2026-10-10T10:00")]

    ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="basically_satisfied")
    with pytest.raises(RuleRefused, match="before its final result has been replied"):
        ck_kit.archive(t.id, BACK)

    ck_clock.advance_to(at("2026-10-10T10:00"))  # round 1, on the make-up Saturday
    ticket = ck_kit.ticket(t.id)
    assert ticket.state is TicketState.IN_HANDLING
    assert [e.data["round"] for e in ck_kit.history(t.id) if e.kind == "tracking_round"] == [1]
    progress = [s for s in ck_sms.sent if s.to == NUMBER and "第1次进展" in s.text]
    assert len(progress) == 1 and "2026-10-25" in progress[0].text
    assert calls == []
    tracking.reply(t.id, BACK, result="基站施工中")

    ck_clock.advance_to(at("2026-10-25T10:00"))  # round 2 without resolution: escalation, once
    assert tracking.tracking(t.id).rounds == 2
    assert calls == [(t.id, "tracking")]
    ck_clock.advance(days=30)
    assert calls == [(t.id, "tracking")] and tracking.tracking(t.id).rounds == 2

    tracking.reply(t.id, BACK, result="新基站已开通，信号恢复", final=True)
    ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="satisfied")
    archived = ck_kit.archive(t.id, BACK, reason="最终结果已回复")
    assert archived.state is TicketState.ARCHIVED
    assert archived.record.final_result == "新基站已开通，信号恢复"


@pytest.mark.complaintkit(clock="2026-09-30T15:00:00+08:00")
def test_F1_marked_after_the_first_reply_and_resolved_before_the_first_round(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    t = handled(ck_kit)
    ck_kit.reply(t.id, BACK, result="需要新建基站")  # not tracked yet: the plain reply
    ck_clock.advance(hours=1)
    ck_kit.parts.tracking.mark(t.id, BACK, expected=at("2026-10-20T15:00"))
    with ck_kit.store.read() as tx:  # half-way from the first reply (30 Sep 15:00) to 20 Oct
        assert [tm.due_at for tm in tx.pending_timers(t.id) if tm.name.startswith("tracking")] == [at("2026-10-10T15:00")]
    ck_kit.reactivate(t.id, BACK, "客户再次来电")
    ck_kit.parts.tracking.reply(t.id, BACK, result="已解决", final=True)
    ck_clock.advance_to(at("2026-10-21T00:00"))
    assert [e for e in ck_kit.history(t.id) if e.kind == "tracking_round"] == []
    assert not [s for s in ck_sms.sent if "进展" in s.text]
