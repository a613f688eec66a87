"""SPEC A1–A5: the lifecycle as a state machine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from complaintkit.core.errors import IllegalTransition, InvalidInput, RuleRefused, UnknownCategory
from complaintkit.core.model import Actor, Channel, Marker, Role, TicketState
from complaintkit.parts.intake.rules import TRANSITIONS, allowed_actions

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
SPECIALIST = Actor("sp007", Role.SPECIALIST, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NETWORK = Actor("net-01", Role.DEPARTMENT, "network_dept")


def accept(kit: Any, **overrides: Any) -> Any:
    args = {"msisdn": "13812345678", "channel": "hotline", "category": "hotline",
            "description": "客户反映热线等待时间过长"}
    args.update(overrides)
    return kit.accept(DESK, **args)


def snapshot(kit: Any, ticket_id: str) -> tuple[Any, int, int]:
    with kit.store.read() as tx:
        return tx.load_ticket(ticket_id, lock=False), len(tx.events(ticket_id)), len(tx.pending_timers(ticket_id))


@pytest.mark.complaintkit(boss="strict")  # the customer's facts come from the CRM
def test_A1_ticket_records_customer_channel_category_and_deadlines(ck_kit: Any, ck_boss: Any) -> None:
    ck_boss.add_customer("13812345678", name="王伟", value_tier="high", star_level=5)
    ticket = accept(ck_kit, channel=Channel.BUSINESS_HALL)
    stored = ck_kit.ticket(ticket.id)
    assert stored == ticket
    assert stored.customer.msisdn.digits == "13812345678"
    assert (stored.customer.value_tier, stored.customer.star_level) == ("high", 5)
    assert stored.channel is Channel.BUSINESS_HALL
    assert stored.category == "hotline"
    assert {d.name for d in stored.deadlines} == {"total", "dispatch", "reply"}
    # a high-value customer gets the stricter rule of the baseline table: 24 h total
    total = stored.deadline("total")
    assert total is not None and (total.due_at - total.started_at).total_seconds() == 24 * 3600


def test_A2_happy_path_every_transition_is_an_event(ck_kit: Any, ck_clock: Any) -> None:
    t = accept(ck_kit)
    ck_clock.advance(minutes=20)
    t = ck_kit.dispatch(t.id, "network_dept", BACK, reason="信号问题")
    assert t.state is TicketState.IN_HANDLING
    ck_clock.advance(hours=3)
    ck_kit.record(t.id, NETWORK, verification="基站故障已修复")
    t = ck_kit.reply(t.id, NETWORK, result="故障已修复")
    assert t.state is TicketState.REPLIED
    t = ck_kit.return_visit(t.id, BACK)
    ck_kit.record(t.id, BACK, contact_attempt=True, satisfaction="满意")
    t = ck_kit.archive(t.id, BACK, reason="回访满意")
    assert t.state is TicketState.ARCHIVED

    history = ck_kit.history(t.id)
    transitions = [(e.kind, e.actor, e.from_state, e.to_state) for e in history if e.to_state is not None]
    assert transitions == [
        ("accept", "fd001", None, TicketState.ACCEPTED),
        ("dispatch", "bo001", TicketState.ACCEPTED, TicketState.IN_HANDLING),
        ("record", "net-01", TicketState.IN_HANDLING, TicketState.IN_HANDLING),
        ("reply", "net-01", TicketState.IN_HANDLING, TicketState.REPLIED),
        ("return_visit", "bo001", TicketState.REPLIED, TicketState.RETURN_VISIT),
        ("record", "bo001", TicketState.RETURN_VISIT, TicketState.RETURN_VISIT),
        ("archive", "bo001", TicketState.RETURN_VISIT, TicketState.ARCHIVED),
    ]
    dispatch = next(e for e in history if e.kind == "dispatch")
    assert dispatch.reason == "信号问题"
    assert dispatch.at == t.created_at + timedelta(minutes=20)
    # an archived ticket leaves no timer behind
    assert snapshot(ck_kit, t.id)[2] == 0


@pytest.mark.parametrize("action", ["reply", "return_visit", "archive"])
def test_A2_illegal_transition_is_refused_and_changes_nothing(ck_kit: Any, action: str) -> None:
    t = accept(ck_kit)
    before = snapshot(ck_kit, t.id)
    command = {"reply": lambda: ck_kit.reply(t.id, BACK, result="x"),
               "return_visit": lambda: ck_kit.return_visit(t.id, BACK),
               "archive": lambda: ck_kit.archive(t.id, BACK)}[action]
    with pytest.raises(IllegalTransition) as info:
        command()
    message = str(info.value)
    assert t.id in message and "'accepted'" in message and action in message
    assert "dispatch" in message  # says what is allowed instead
    assert snapshot(ck_kit, t.id) == before


def test_A2_every_state_lists_its_allowed_actions() -> None:
    for state in TicketState:
        if state is TicketState.ARCHIVED:
            assert allowed_actions(state) == []
        else:
            assert allowed_actions(state), state
    assert all(target in TicketState for target in TRANSITIONS.values())


def test_A3_first_responder_stays_owner_of_record(ck_kit: Any) -> None:
    t = accept(ck_kit)
    t = ck_kit.warm_transfer(t.id, "sp007", DESK, notes="客户已说明：晚间通话断续")
    t = ck_kit.dispatch(t.id, "network_dept", SPECIALIST)
    t = ck_kit.forward(t.id, "city_north", NETWORK, reason="属地问题")
    t = ck_kit.reply(t.id, Actor("north-01", Role.DEPARTMENT, "city_north"), result="已处理")
    assert t.owner == "fd001"
    assert t.handler == "dept:city_north"


def test_A4_warm_transfer_carries_what_the_customer_said(ck_kit: Any) -> None:
    t = accept(ck_kit)
    t = ck_kit.warm_transfer(t.id, "sp007", DESK, notes="客户已说明：晚间通话断续，已重启无效")
    assert t.handler == "sp007"
    assert t.notes == ("客户已说明：晚间通话断续，已重启无效",)
    event = ck_kit.history(t.id)[-1]
    assert event.kind == "warm_transfer" and event.data["to"] == "sp007"
    assert event.data["notes"] == "客户已说明：晚间通话断续，已重启无效"
    with pytest.raises(InvalidInput, match="notes"):
        ck_kit.warm_transfer(t.id, "sp008", DESK, notes="  ")


def _to_return_visit(kit: Any) -> Any:
    t = accept(kit)
    t = kit.handle(t.id, BACK)
    t = kit.reply(t.id, BACK, result="已向客户解释等待原因")
    return kit.return_visit(t.id, BACK)


def test_A5_archive_refused_until_the_record_is_complete(ck_kit: Any) -> None:
    t = _to_return_visit(ck_kit)
    for facts, still_missing in [
        ({}, "verification, contact_attempts, satisfaction"),
        ({"verification": "已核实"}, "contact_attempts, satisfaction"),
        ({"contact_attempt": True}, "satisfaction"),
    ]:
        if facts:
            ck_kit.record(t.id, BACK, **facts)
        before = snapshot(ck_kit, t.id)
        with pytest.raises(RuleRefused, match=f"not yet recorded: {still_missing}$"):
            ck_kit.archive(t.id, BACK)
        assert snapshot(ck_kit, t.id) == before
    ck_kit.record(t.id, BACK, satisfaction="满意")
    archived = ck_kit.archive(t.id, BACK)
    assert archived.state is TicketState.ARCHIVED
    assert archived.record.final_result == "已向客户解释等待原因"
    assert len(archived.record.contact_attempts) == 1


def test_A5_self_handling_stays_in_the_service_centre(ck_kit: Any) -> None:
    t = accept(ck_kit)
    t = ck_kit.handle(t.id, BACK)
    assert (t.state, t.handler, t.department) == (TicketState.IN_HANDLING, "bo001", "service_centre")
    dispatch = t.deadline("dispatch")
    assert dispatch is not None and dispatch.state.value == "met"


def test_D2_known_department_gets_the_ticket_directly(ck_kit: Any) -> None:
    t = accept(ck_kit, category="call_quality")
    assert t.state is TicketState.IN_HANDLING
    assert t.department == "network_dept"
    kinds = [e.kind for e in ck_kit.history(t.id)]
    assert kinds == ["accept", "dispatch"]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"msisdn": "1381234567"}, "customer.msisdn", "not a valid Chinese mobile number"),
        ({"msisdn": "23812345678"}, "customer.msisdn", "not a valid Chinese mobile number"),
        ({"msisdn": "138-1234-567x"}, "customer.msisdn", "not a valid Chinese mobile number"),
        ({"category": "no_such_category"}, "category", "unknown complaint category 'no_such_category'"),
        ({"channel": "fax"}, "channel", "unknown channel 'fax'"),
        ({"description": "   "}, "description", "needs a description"),
        ({"description": "长" * 4001}, "description", "more than the 4000 allowed"),
        ({"urgency": "whenever"}, "urgency", "unknown urgency"),
    ],
)
def test_N4_bad_input_is_refused_with_the_field_and_stores_nothing(
        ck_kit: Any, overrides: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        accept(ck_kit, **overrides)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert ck_kit.tickets() == []
    with ck_kit.store.read() as tx:
        assert tx.pending_timers() == []


def test_N4_refused_number_is_masked_in_the_message(ck_kit: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        accept(ck_kit, msisdn="2381234567899")
    assert "2381234567899" not in str(info.value)


def test_unknown_category_lists_known_ones(ck_kit: Any) -> None:
    with pytest.raises(UnknownCategory, match="known: "):
        accept(ck_kit, category="nope")


def test_major_complaint_is_urgent_and_calls_the_emergency_plan(ck_kit: Any) -> None:
    calls: list[str] = []

    from complaintkit import hookimpl

    class Plan:
        @hookimpl
        def complaintkit_major_complaint(self, ticket: Any) -> None:
            calls.append(ticket.id)

    ck_kit.plugins.pm.register(Plan(), name="emergency-plan")
    t = accept(ck_kit, markers=[Marker.MAJOR])
    assert t.urgency.value == "urgent"
    assert calls == [t.id]


def test_concurrent_change_is_detected_and_the_command_rerun(ck_kit: Any) -> None:
    """Two handlers change the same ticket: the second command re-runs on the fresh ticket."""
    t = accept(ck_kit)
    stale = t
    ck_kit.record(t.id, BACK, verification="第一次核实")
    from complaintkit.core.errors import ConcurrentChange

    with ck_kit.store.transaction() as tx, pytest.raises(ConcurrentChange):
        tx.update_ticket(stale)
    final = ck_kit.record(t.id, BACK, final_result="已解决")
    assert final.record.verification == "第一次核实" and final.record.final_result == "已解决"
    assert final.version == 3
