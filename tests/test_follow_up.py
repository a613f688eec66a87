"""SPEC B1–B5: the online follow-up flow end to end on the virtual clock, with the SMS fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from complaintkit_baseline import standard as baseline

from complaintkit.core.model import Actor, Role, TicketKind, TicketState

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
NUMBER = "13912345678"
TYPES = [(t.code, t.name, t.delay) for t in baseline().follow_up_types]


def open_follow_up(kit: Any, problem: str, number: str = NUMBER) -> Any:
    return kit.open_follow_up(DESK, msisdn=number, problem_type=problem, category="hotline",
                              description="已指导客户重启，恢复正常")


def hours(text: str) -> float:
    return float(text.removesuffix("h"))


def test_B2_table_matches_the_standard() -> None:
    assert {code: delay for code, _, delay in TYPES} == {
        "payment_not_reopened": "1h", "suspended_with_balance": "1h", "call_quality": "2h",
        "sms_failure": "4h", "mms_failure": "4h", "gprs_failure": "4h", "ringback_change_failed": "1h",
        "mobile_newspaper": "6h", "fetion_messaging": "2h", "fetion_login": "2h",
    }


@pytest.mark.parametrize(("code", "name", "delay"), TYPES, ids=[t[0] for t in TYPES])
def test_B1_B2_B3_reply_in_time_converts_to_a_normal_complaint(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any, code: str, name: str, delay: str) -> None:
    start = ck_clock.now()
    ticket = open_follow_up(ck_kit, code)
    assert (ticket.kind, ticket.state) == (TicketKind.ONLINE_FOLLOW_UP, TicketState.FOLLOW_UP)
    assert ticket.deadlines == ()  # B1: no normal routing, no normal limits

    ck_clock.advance(hours=hours(delay), minutes=-1)
    assert ck_sms.sent == []  # not a minute early
    ck_clock.advance(minutes=1)
    assert len(ck_sms.sent) == 1
    sms = ck_sms.sent[0]
    assert (sms.to, sms.sender) == (NUMBER, "10086")
    assert name in sms.text and "回复1至10086" in sms.text and "12小时" in sms.text
    sent_at = ck_clock.now()
    assert sent_at - start == timedelta(hours=hours(delay))

    ck_clock.advance(hours=11, minutes=59)
    ck_sms.reply(NUMBER, " 1 ")
    ck_clock.run_due()
    converted = ck_kit.ticket(ticket.id)
    assert (converted.kind, converted.state) == (TicketKind.NORMAL, TicketState.ACCEPTED)
    assert {d.name for d in converted.deadlines} >= {"total", "reply"}
    assert ck_sms.sent[-1].to == NUMBER and ticket.id in ck_sms.sent[-1].text  # B3: customer told
    assert [e.kind for e in ck_kit.history(ticket.id)] == ["open_follow_up", "follow_up_sms_sent", "convert"]
    # the window timer was cancelled: nothing archives it later
    ck_clock.advance(hours=13)
    assert ck_kit.ticket(ticket.id).state is not TicketState.ARCHIVED


@pytest.mark.parametrize(("code", "name", "delay"), TYPES, ids=[t[0] for t in TYPES])
def test_B4_no_reply_in_12_hours_archives(ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any,
                                          code: str, name: str, delay: str) -> None:
    ticket = open_follow_up(ck_kit, code)
    ck_clock.advance(hours=hours(delay) + 12, minutes=-1)
    assert ck_kit.ticket(ticket.id).state is TicketState.FOLLOW_UP
    ck_clock.advance(minutes=1)
    closed = ck_kit.ticket(ticket.id)
    assert closed.state is TicketState.ARCHIVED and closed.kind is TicketKind.ONLINE_FOLLOW_UP
    assert ck_kit.history(ticket.id)[-1].reason == "no reply within the window: solved"


def test_B5_late_reply_is_recorded_and_answered(ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    ticket = open_follow_up(ck_kit, "call_quality")
    ck_clock.advance(hours=2 + 12, minutes=30)
    ck_sms.reply(NUMBER, "1")
    ck_clock.run_due()
    assert ck_kit.ticket(ticket.id).state is TicketState.ARCHIVED
    with ck_kit.store.read() as tx:
        assert [(r["outcome"], r["ticket_id"]) for r in tx.inbound()] == [("late", ticket.id)]
    assert "超过12小时" in ck_sms.sent[-1].text and ck_sms.sent[-1].to == NUMBER


def test_B5_unknown_code_is_recorded_answered_and_the_window_stays_open(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    ticket = open_follow_up(ck_kit, "sms_failure")
    ck_clock.advance(hours=5)
    ck_sms.reply(NUMBER, "还是不行啊")
    ck_clock.run_due()
    assert ck_kit.ticket(ticket.id).state is TicketState.FOLLOW_UP
    assert "未能识别" in ck_sms.sent[-1].text
    ck_sms.reply(NUMBER, "1")
    ck_clock.run_due()
    assert ck_kit.ticket(ticket.id).state is TicketState.ACCEPTED
    with ck_kit.store.read() as tx:
        assert [r["outcome"] for r in tx.inbound()] == ["unknown_code", "converted"]


def test_B5_reply_matching_nothing_is_recorded_and_answered(ck_kit: Any, ck_worker: Any, ck_sms: Any,
                                                            ck_clock: Any) -> None:
    ck_sms.reply("13700000000", "1")
    ck_sms.reply("not-a-number", "1")
    ck_clock.run_due()
    with ck_kit.store.read() as tx:
        assert [r["outcome"] for r in tx.inbound()] == ["unmatched", "malformed"]
    assert [s.to for s in ck_sms.sent] == ["13700000000"]


def test_B5_reply_before_the_sms_went_out_does_not_convert(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                          ck_sms: Any) -> None:
    ticket = open_follow_up(ck_kit, "mobile_newspaper")
    ck_clock.advance(hours=1)
    ck_sms.reply(NUMBER, "1")
    ck_clock.run_due()
    assert ck_kit.ticket(ticket.id).state is TicketState.FOLLOW_UP
    with ck_kit.store.read() as tx:
        assert [r["outcome"] for r in tx.inbound()] == ["unmatched"]


def test_B3_several_open_follow_ups_the_latest_sms_wins(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                       ck_sms: Any) -> None:
    first = open_follow_up(ck_kit, "mobile_newspaper")  # SMS at +6 h
    second = open_follow_up(ck_kit, "call_quality")  # SMS at +2 h
    ck_clock.advance(hours=7)
    assert len(ck_sms.sent) == 2
    ck_sms.reply(NUMBER, "1")
    ck_clock.run_due()
    assert ck_kit.ticket(first.id).state is TicketState.ACCEPTED  # its SMS (6 h) is the latest
    assert ck_kit.ticket(second.id).state is TicketState.FOLLOW_UP
    ck_sms.reply(NUMBER, "1")
    ck_clock.run_due()
    assert ck_kit.ticket(second.id).state is TicketState.ACCEPTED


def test_B2_unknown_problem_type_is_refused(ck_kit: Any) -> None:
    from complaintkit.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown online follow-up problem type 'reboot'"):
        open_follow_up(ck_kit, "reboot")
    assert ck_kit.tickets() == []


def test_N4_follow_up_description_is_checked_like_any_intake(ck_kit: Any) -> None:
    from complaintkit.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="description"):
        ck_kit.open_follow_up(DESK, msisdn=NUMBER, problem_type="call_quality", category="hotline",
                              description=" ")
    with pytest.raises(InvalidInput, match="customer.msisdn"):
        ck_kit.open_follow_up(DESK, msisdn="1391234567", problem_type="call_quality", category="hotline",
                              description="x")
    assert ck_kit.tickets() == []


def test_B3_a_full_width_reply_code_converts(ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    """A phone's IME may send the full-width "１": it is the reply code all the same."""
    ticket = open_follow_up(ck_kit, "call_quality")
    ck_clock.advance(hours=2)
    assert len(ck_sms.sent) == 1
    ck_sms.reply(NUMBER, "１")
    ck_clock.run_due()
    assert ck_kit.ticket(ticket.id).state is TicketState.ACCEPTED
    assert ck_kit.history(ticket.id)[-1].data["reply"] == "１"  # what the customer sent is kept as sent
