"""SPEC H1, H2 through the kit: each BOSS/CRM action is permission-checked, recorded on the
ticket, and reaches a stateful BOSS — an unsubscribe unsubscribes, a refund changes the bill."""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit.core.errors import InvalidInput, PermissionDenied
from complaintkit.core.model import Actor, Role
from complaintkit.ports.boss import Bill, BossServices, Subscription
from complaintkit.testing import FakeBoss

PHONE = "13812345678"
DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")


@pytest.fixture
def ticket(ck_kit: Any, ck_boss: FakeBoss) -> Any:
    ck_boss.add_customer(PHONE, name="张三", city="north")
    return ck_kit.accept(DESK, msisdn=PHONE, channel="hotline", category="hotline", description="乱扣费")


def boss_events(kit: Any, ticket_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, e.data) for e in kit.history(ticket_id) if e.kind.startswith("boss_")]


def test_the_fake_boss_provides_every_action() -> None:
    assert isinstance(FakeBoss(), BossServices)


def test_H1_a_monternet_unsubscribe_unsubscribes_and_is_recorded(ck_kit: Any, ck_boss: FakeBoss, ticket: Any) -> None:
    ck_boss.subscriptions_of[PHONE] = [Subscription("MN001", "彩信天气", monternet=True), Subscription("PK58", "58元套餐")]
    assert [s.code for s in ck_kit.parts.boss.monternet_query(ticket.id, DESK)] == ["MN001"]
    assert ck_kit.parts.boss.monternet_unsubscribe(ticket.id, DESK, "MN001") is True
    assert ck_kit.parts.boss.monternet_query(ticket.id, DESK) == []
    assert ck_kit.parts.boss.monternet_unsubscribe(ticket.id, DESK, "MN001") is False  # gone already
    assert boss_events(ck_kit, ticket.id)[:4] == [
        ("boss_query", {"action": "monternet_query"}),
        ("boss_request", {"action": "monternet_unsubscribe", "code": "MN001"}),
        ("boss_done", {"action": "monternet_unsubscribe", "result": True}),
        ("boss_query", {"action": "monternet_query"}),
    ]


def test_H1_group_service_package_change_and_the_info_switch_change_the_boss(ck_kit: Any, ck_boss: FakeBoss,
                                                                           ticket: Any) -> None:
    ck_boss.subscriptions_of[PHONE] = [Subscription("GRP01", "集团V网", group=True)]
    assert [s.code for s in ck_kit.parts.boss.group_services(ticket.id, DESK)] == ["GRP01"]
    assert ck_kit.parts.boss.group_service_unsubscribe(ticket.id, DESK, "GRP01") is True
    assert ck_kit.parts.boss.group_services(ticket.id, DESK) == ()
    reference = ck_kit.parts.boss.change_package(ticket.id, DESK, "PK38")
    assert ck_boss.packages[PHONE] == "PK38" and reference.startswith("PC")
    assert ck_kit.parts.boss.monternet_info_switch(ticket.id, DESK, False) is True
    assert ck_boss.monternet_info[PHONE] is False
    ck_boss.scripts["outage"] = "北区基站故障，预计今晚修复"
    assert ck_kit.parts.boss.script_outage(ticket.id, DESK) == "北区基站故障，预计今晚修复"
    assert ck_kit.parts.boss.script_coverage(ticket.id, DESK) is None


def test_H2_a_refund_changes_the_bill_and_the_front_desk_cannot_refund(ck_kit: Any, ck_boss: FakeBoss,
                                                                      ticket: Any) -> None:
    ck_boss.bills[(PHONE, "2026-02")] = Bill("2026-02", 12800, (("套餐费", 5800), ("梦网", 7000)))
    with pytest.raises(PermissionDenied, match="refund.execute"):
        ck_kit.parts.boss.refund(ticket.id, DESK, "20.00", reason="梦网误扣")
    assert ck_boss.refunds == []  # a refused action never reaches the BOSS
    reference = ck_kit.parts.boss.refund(ticket.id, BACK, "70.00", reason="梦网误扣")
    bill = ck_kit.parts.boss.monthly_bill(ticket.id, DESK, "2026-02")
    assert bill.total_fen == 5800 and bill.items[-1] == (f"退费 {reference}", -7000)
    kinds = [k for k, _ in boss_events(ck_kit, ticket.id)]
    assert kinds == ["boss_request", "boss_done", "boss_query"]
    assert [e.kind for e in ck_kit.history(ticket.id)].count("permission_refused") == 1


def test_H2_a_failed_boss_change_is_recorded_as_failed(ck_kit: Any, ck_boss: FakeBoss, ticket: Any) -> None:
    with pytest.raises(ValueError, match="no package code"):
        ck_kit.parts.boss._act(ticket.id, DESK, "change_package", "change_package", {"package": ""}, "")
    assert boss_events(ck_kit, ticket.id)[-1][0] == "boss_failed"


@pytest.mark.parametrize(("call", "field"), [
    (lambda k, t: k.parts.boss.monthly_bill(t, DESK, "2026-13"), "month"),
    (lambda k, t: k.parts.boss.refund_promise(t, DESK, 50.0, reason="x"), "amount"),
    (lambda k, t: k.parts.boss.refund_promise(t, DESK, "50.001", reason="x"), "amount"),
    (lambda k, t: k.parts.boss.refund_promise(t, DESK, 0, reason="x"), "amount"),
    (lambda k, t: k.parts.boss.refund_promise(t, DESK, "10", reason=""), "reason"),
    (lambda k, t: k.parts.boss.monternet_info_switch(t, DESK, 1), "enabled"),
])
def test_N4_bad_input_to_a_boss_action_names_the_field_and_stores_nothing(ck_kit: Any, ticket: Any, call: Any,
                                                                          field: str) -> None:
    before = len(ck_kit.history(ticket.id))
    with pytest.raises(InvalidInput) as info:
        call(ck_kit, ticket.id)
    assert info.value.field == field
    assert len(ck_kit.history(ticket.id)) == before
