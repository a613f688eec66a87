"""Special tickets (SPEC E1, E2, E3, E5) and the follow-up converted by phone (B3), on SQLite and
PostgreSQL, from Monday 2026-03-02 09:00."""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit import hookimpl
from complaintkit.core.errors import InvalidInput, RuleRefused
from complaintkit.core.model import Actor, DeadlineState, Marker, Role, TicketState, Urgency

pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NETWORK = Actor("net-01", Role.DEPARTMENT, "network_dept")
BILLING = Actor("bil-01", Role.DEPARTMENT, "billing_dept")


def accept(kit: Any, category: str = "hotline", number: str = "13812345678", **kw: Any) -> Any:
    return kit.accept(DESK, msisdn=number, channel="hotline", category=category, description="客户反映问题", **kw)


class Recorder:
    def __init__(self) -> None:
        self.major: list[str] = []
        self.sensitive: list[tuple[str, str]] = []

    @hookimpl
    def complaintkit_major_complaint(self, ticket: Any) -> None:
        self.major.append(ticket.id)

    @hookimpl
    def complaintkit_sensitive_ticket(self, ticket: Any, marker: str) -> None:
        self.sensitive.append((ticket.id, marker))


@pytest.fixture
def hooks(ck_kit: Any) -> Recorder:
    recorder = Recorder()
    ck_kit.plugins.pm.register(recorder, name="province-flows")
    return recorder


# -- E1: major complaints ------------------------------------------------------------------------------


def test_E1_marked_major_later_is_urgent_first_in_every_queue_and_the_plan_runs_once(
        ck_kit: Any, ck_clock: Any, hooks: Recorder) -> None:
    old = accept(ck_kit, number="13800000001")  # general: dispatch due 11:00
    ck_clock.advance(hours=3)  # 12:00: old is overdue
    later = accept(ck_kit, number="13800000002")
    assert later.urgency is Urgency.GENERAL and later.deadline("total").limit == "48h"
    major = ck_kit.parts.special.mark_major(later.id, BACK, reason="涉及媒体曝光")
    assert Marker.MAJOR in major.markers and major.urgency is Urgency.URGENT
    assert major.deadline("total").limit == "4h"  # its running deadlines re-computed from their start
    assert hooks.major == [later.id]
    with pytest.raises(RuleRefused, match="already marked major"):
        ck_kit.parts.special.mark_major(later.id, BACK, reason="再次")
    assert hooks.major == [later.id]  # once
    queue = ck_kit.parts.dispatch.queue("pool:service_quality")
    assert [e.ticket.id for e in queue] == [later.id, old.id]  # above the older overdue general ticket
    assert queue[1].state is DeadlineState.OVERDUE
    # a department's queue too
    ck_kit.dispatch(old.id, "network_dept", BACK)
    ck_kit.dispatch(later.id, "network_dept", BACK)
    assert next(e.ticket.id for e in ck_kit.parts.dispatch.queue("network_dept")) == later.id


def test_E1_major_at_acceptance_calls_the_plan_once(ck_kit: Any, hooks: Recorder) -> None:
    t = accept(ck_kit, markers=["major"])
    assert hooks.major == [t.id]
    ck_kit.parts.dispatch.pick_up(t.id, BACK)
    assert hooks.major == [t.id]


# -- E5: sensitive and potential escalation ------------------------------------------------------------


def test_E5_markings_call_the_province_flow_once_each(ck_kit: Any, hooks: Recorder) -> None:
    t = accept(ck_kit)
    ck_kit.parts.special.mark(t.id, "sensitive", BACK, reason="人大代表")
    ck_kit.parts.special.mark(t.id, Marker.POTENTIAL_ESCALATION, BACK, reason="扬言向工信部投诉")
    assert hooks.sensitive == [(t.id, "sensitive"), (t.id, "potential_escalation")]
    with pytest.raises(RuleRefused, match="already marked sensitive"):
        ck_kit.parts.special.mark(t.id, "sensitive", BACK, reason="重复")
    with pytest.raises(InvalidInput, match="cannot be set by hand"):
        ck_kit.parts.special.mark(t.id, "repeat", BACK, reason="手工")
    with pytest.raises(InvalidInput, match="reason"):
        ck_kit.parts.special.mark(t.id, "major", BACK, reason=" ")
    assert hooks.sensitive == [(t.id, "sensitive"), (t.id, "potential_escalation")]
    assert {e.data["marker"] for e in ck_kit.history(t.id) if e.kind == "mark"} == {"sensitive", "potential_escalation"}


# -- E3: repeat complaints -----------------------------------------------------------------------------


def test_E3_repeat_within_the_window_same_family_after_handling(ck_kit: Any, ck_clock: Any) -> None:
    first = accept(ck_kit, "sms_failure")
    # a second call while the first is still open is a reminder, not a repeat
    assert Marker.REPEAT not in accept(ck_kit, "sms_failure").markers
    ck_kit.parts.dispatch.pick_up(first.id, BACK)
    ck_kit.reply(first.id, BACK, result="已处理")
    ck_clock.advance(days=29)
    repeat = accept(ck_kit, "gprs_failure")  # another leaf of 基础通信: the same family
    assert Marker.REPEAT in repeat.markers
    assert repeat.urgency is Urgency.IMPORTANT and repeat.deadline("total").limit == "24h"  # E3: 24 h
    assert ck_kit.history(repeat.id)[0].data["repeat_of"] == first.id
    other_family = accept(ck_kit, "bill_dispute")
    assert Marker.REPEAT not in other_family.markers
    assert Marker.REPEAT not in accept(ck_kit, "sms_failure", "13900000001").markers  # another customer
    ck_clock.advance(days=2)  # 31 days after the first; the complaints since are still open
    assert Marker.REPEAT not in accept(ck_kit, "sms_failure", "13812345678").markers
    assert ck_kit.parts.special.counts()["repeat"] == 1


def test_E3_outside_the_window_is_not_a_repeat(ck_kit: Any, ck_clock: Any) -> None:
    first = accept(ck_kit, "sms_failure")
    ck_kit.parts.dispatch.pick_up(first.id, BACK)
    ck_kit.reply(first.id, BACK, result="已处理")
    ck_clock.advance(days=30, minutes=1)
    assert Marker.REPEAT not in accept(ck_kit, "sms_failure").markers


# -- E2: batch complaints ------------------------------------------------------------------------------


def test_E2_batch_warning_starts_at_the_threshold_and_clearing_texts_every_caller_once(
        ck_kit: Any, ck_worker: Any, ck_sms: Any, ck_mail: Any, ck_clock: Any) -> None:
    numbers = [f"1390000{i:04d}" for i in range(30)]
    for n in numbers[:29]:
        result = ck_kit.parts.special.record_caller(DESK, msisdn=n, category="call_quality")
        assert not result.warning_started
    again = ck_kit.parts.special.record_caller(DESK, msisdn=numbers[0], category="call_quality")
    assert again.new_callers == 0 and again.batch.callers == 29  # each caller counts once
    started = ck_kit.parts.special.record_caller(DESK, msisdn=numbers[29], category="call_quality")
    batch = started.batch
    assert started.warning_started and batch.state == "warning"
    assert (batch.threshold, batch.lead_department, batch.callers) == (30, "network_dept", 30)  # network: 30
    ck_clock.advance(minutes=1)
    assert [m.addresses for m in ck_mail.sent] == [("network_dept@departments.invalid",)]
    assert "已达 30 人" in ck_mail.sent[0].body
    # more callers while the warning is on are recorded too
    ck_kit.parts.special.record_callers(DESK, numbers=["13900009999", numbers[3]], category="call_quality")
    assert len(ck_kit.parts.special.callers(batch.id)) == 31

    with pytest.raises(RuleRefused, match="only the lead department"):
        ck_kit.parts.special.clear_warning(batch.id, BILLING, result="已恢复")
    cleared = ck_kit.parts.special.clear_warning(batch.id, NETWORK, result="基站已恢复")
    assert cleared.sms_queued == 31 and cleared.batch.state == "cleared"
    with pytest.raises(RuleRefused, match="already cleared"):
        ck_kit.parts.special.clear_warning(batch.id, NETWORK, result="再次")
    ck_clock.advance(minutes=1)
    texts = [s for s in ck_sms.sent if "已解决" in s.text]
    assert sorted(s.to for s in texts) == sorted([*numbers, "13900009999"])
    # a caller after the clearing opens a new request
    fresh = ck_kit.parts.special.record_caller(DESK, msisdn=numbers[0], category="call_quality")
    assert fresh.batch.id != batch.id and fresh.batch.callers == 1


def test_E2_area_threshold_and_bad_input(ck_kit: Any) -> None:
    capital = ck_kit.parts.special.record_caller(DESK, msisdn="13900000001", category="no_signal", area="capital")
    assert capital.batch.threshold == 50
    billing = ck_kit.parts.special.record_caller(DESK, msisdn="13900000001", category="bill_dispute")
    assert (billing.batch.threshold, billing.batch.lead_department) == (20, "billing_dept")  # the default
    with pytest.raises(InvalidInput, match=r"numbers\[1\]"):
        ck_kit.parts.special.record_callers(DESK, numbers=["13900000001", "12345"], category="bill_dispute")
    with pytest.raises(RuleRefused, match="no batch warning to clear"):
        ck_kit.parts.special.clear_warning(billing.batch.id, BILLING, result="?")
    with pytest.raises(InvalidInput, match="no batch request"):
        ck_kit.parts.special.clear_warning("BATCHNOPE", BILLING, result="?")
    assert ck_kit.parts.special.batch(billing.batch.id).callers == 1


# -- B3: converting a follow-up by phone ---------------------------------------------------------------


def test_B3_a_call_to_the_fast_service_number_converts_like_a_reply(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                                    ck_sms: Any) -> None:
    f = ck_kit.open_follow_up(DESK, msisdn="13812345678", problem_type="sms_failure", category="sms_failure",
                              description="已指导开关机")
    ck_clock.advance(hours=4)
    assert len(ck_sms.sent) == 1
    ck_clock.advance(hours=11)
    call = ck_kit.parts.follow_up.call(msisdn="13812345678")
    assert call.outcome == "converted" and call.ticket_id == f.id
    assert call.prompt == ck_kit.standard.render("fast_service_prompt", ticket_id=f.id)
    t = ck_kit.ticket(f.id)
    assert t.state is TicketState.ACCEPTED and t.handler == "pool:basic_comms"
    convert = next(e for e in ck_kit.history(f.id) if e.kind == "convert")
    assert convert.data["by"] == "call"
    ck_clock.advance(minutes=1)
    assert len(ck_sms.sent) == 1  # the voice prompt told the customer; no SMS
    # a call after the window, and a call with nothing open
    g = ck_kit.open_follow_up(DESK, msisdn="13900000001", problem_type="sms_failure", category="sms_failure",
                              description="已指导开关机")
    ck_clock.advance(hours=4 + 13)
    late = ck_kit.parts.follow_up.call(msisdn="13900000001")
    assert late.outcome == "late" and late.ticket_id == g.id
    assert ck_kit.parts.follow_up.call(msisdn="13900000002").outcome == "unmatched"
    with pytest.raises(InvalidInput, match="msisdn"):
        ck_kit.parts.follow_up.call(msisdn="123")
