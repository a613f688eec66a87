"""Dispatch standards, the transfer graph and misdispatch arbitration (SPEC A6, B3, D1–D6, E6),
on the baseline's dispatch.toml, on SQLite and PostgreSQL, from Monday 2026-03-02 09:00."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from complaintkit_baseline import DATA

from complaintkit.core.errors import (
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
    RuleRefused,
    StandardInvalid,
    TransferRefused,
)
from complaintkit.core.model import Actor, Marker, Role, TicketKind, TicketState
from complaintkit.standard import load_standard

pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
EXPERT = Actor("bo101", Role.BACK_OFFICE, "service_centre")
MANAGER = Actor("cm001", Role.BACK_OFFICE, "service_centre")  # the complaint-management department
NETWORK = Actor("net-01", Role.DEPARTMENT, "network_dept")
BILLING = Actor("bil-01", Role.DEPARTMENT, "billing_dept")
DATA_DEPT = Actor("data-01", Role.DEPARTMENT, "data_dept")
MARKET = Actor("mkt-01", Role.DEPARTMENT, "market_dept")
NORTH = Actor("north-01", Role.DEPARTMENT, "city_north")
SECOND = Actor("sl-01", Role.DEPARTMENT, "second_line")


def accept(kit: Any, category: str = "gprs_failure", number: str = "13812345678", **kw: Any) -> Any:
    return kit.accept(DESK, msisdn=number, channel="hotline", category=category, description="客户反映问题", **kw)


def messages(kit: Any, ticket_id: str) -> list[dict[str, Any]]:
    with kit.store.read() as tx:
        return tx.messages(ticket_id=ticket_id)  # type: ignore[no-any-return]


# -- D1, D2: the dispatch standard ---------------------------------------------------------------------


def test_D2_known_department_is_dispatched_directly_by_category_and_area(ck_kit: Any) -> None:
    t = accept(ck_kit, "call_quality")
    assert (t.state, t.department, t.handler) == (TicketState.IN_HANDLING, "network_dept", "dept:network_dept")
    # a route for the customer's area beats the category's own department
    north = accept(ck_kit, "no_signal", "13900000001", city="north")
    assert north.department == "city_north"
    elsewhere = accept(ck_kit, "no_signal", "13900000002", city="capital")
    assert elsewhere.department == "network_dept"
    # a direct route without a department in the category tree
    assert accept(ck_kit, "fetion_login", "13900000003").department == "data_dept"
    dispatch = [e for e in ck_kit.history(north.id) if e.kind == "dispatch"]
    assert [e.reason for e in dispatch] == ["direct dispatch"]


def test_D1_back_office_dispatches_from_the_pool_by_the_standard(ck_kit: Any) -> None:
    t = accept(ck_kit, "gprs_failure")  # data → data_dept, not direct: the pool first
    assert (t.state, t.handler) == (TicketState.ACCEPTED, "pool:basic_comms")
    assert ck_kit.history(t.id)[0].data["queue"] == "pool:basic_comms"
    t = ck_kit.parts.dispatch.route(t.id, BACK)
    assert (t.state, t.department) == (TicketState.IN_HANDLING, "data_dept")
    hotline = accept(ck_kit, "hotline", "13900000009")  # the standard names no department
    with pytest.raises(RuleRefused, match="names no department for category 'hotline'"):
        ck_kit.parts.dispatch.route(hotline.id, BACK)
    assert ck_kit.ticket(hotline.id).state is TicketState.ACCEPTED


def test_B3_D2_a_converted_follow_up_enters_routing_like_a_new_complaint(ck_kit: Any, ck_clock: Any,
                                                                         ck_worker: Any, ck_sms: Any) -> None:
    f = ck_kit.open_follow_up(DESK, msisdn="13812345678", problem_type="fetion_login", category="fetion_login",
                              description="已指导重新登录")
    ck_clock.advance(hours=2)
    assert len(ck_sms.sent) == 1
    ck_sms.reply("13812345678", "1")
    ck_clock.run_due()
    t = ck_kit.ticket(f.id)
    assert (t.kind, t.state, t.department) == (TicketKind.NORMAL, TicketState.IN_HANDLING, "data_dept")
    assert [e.kind for e in ck_kit.history(f.id)][-2:] == ["convert", "dispatch"]


# -- D3, D4: the transfer graph ------------------------------------------------------------------------


def test_D3_D4_transfers_go_along_the_graph_without_the_service_centre(ck_kit: Any) -> None:
    t = accept(ck_kit, "call_quality")  # network_dept
    t = ck_kit.parts.dispatch.transfer(t.id, "billing_dept", NETWORK, reason="实为计费问题")  # province ↔ province
    t = ck_kit.parts.dispatch.transfer(t.id, "city_north", BILLING, reason="属地处理")  # province ↔ city
    t = ck_kit.parts.dispatch.transfer(t.id, "city_south", NORTH, reason="客户在南部")  # city ↔ city
    assert t.department == "city_south"
    kinds = [(e.data.get("from_department"), e.data.get("department")) for e in ck_kit.history(t.id) if e.kind == "forward"]
    assert kinds == [("network_dept", "billing_dept"), ("billing_dept", "city_north"), ("city_north", "city_south")]


def test_D3_a_transfer_outside_the_graph_is_refused_with_the_allowed_targets(ck_kit: Any) -> None:
    t = accept(ck_kit, "gprs_failure")
    t = ck_kit.dispatch(t.id, "second_line", BACK)
    before = ck_kit.ticket(t.id)
    with pytest.raises(TransferRefused) as refused:
        ck_kit.forward(t.id, "city_north", SECOND, reason="属地")
    assert refused.value.allowed == ["billing_dept", "data_dept", "market_dept", "network_dept", "service_centre"]
    assert "allowed: billing_dept, data_dept" in str(refused.value)
    assert ck_kit.ticket(t.id) == before  # nothing stored
    assert ck_kit.parts.dispatch.transfer_targets("other_province") == ["service_centre"]


def test_D3_the_graph_is_checked_when_the_standard_loads(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(str(DATA), tmp_path / "province"))
    text = (folder / "dispatch.toml").read_text(encoding="utf-8")
    # an edge to a department that does not exist; the other province's only edge removed
    text = text.replace('between = ["other_province", "service_centre"]', 'between = ["other_province", "nowhere"]')
    text += '\n[[transfer]]\nbetween = ["level:county", "service_centre"]\n'
    (folder / "dispatch.toml").write_text(text, encoding="utf-8")
    with pytest.raises(StandardInvalid) as invalid:
        load_standard(folder)
    problems = invalid.value.problems
    assert "dispatch.toml: $.transfer[7].between[1]: 'nowhere' is not in organisation.toml" in problems
    assert "dispatch.toml: $.transfer[8].between[0]: no department of level 'county' in organisation.toml" in problems
    # with the bad edges gone the unreachable department is named
    (folder / "dispatch.toml").write_text(
        (folder / "dispatch.toml").read_text(encoding="utf-8")
        .replace('between = ["other_province", "nowhere"]', 'between = ["other_province", "other_province"]')
        .replace('between = ["level:county", "service_centre"]', 'between = ["second_line", "service_centre"]'),
        encoding="utf-8")
    with pytest.raises(StandardInvalid) as invalid:
        load_standard(folder)
    assert invalid.value.problems == [("dispatch.toml: $.transfer: department 'other_province' cannot reach the "
                                      "complaint-management department 'service_centre'")]


# -- D5: misdispatch and arbitration -------------------------------------------------------------------


def test_D5_misdispatch_bounces_then_arbitration_decides_a_binding_lead(ck_kit: Any, ck_clock: Any) -> None:
    t = accept(ck_kit, "call_quality")  # network_dept
    t = ck_kit.parts.dispatch.misdispatch(t.id, "billing_dept", NETWORK, reason="非网络问题，疑似计费")
    assert Marker.MISDISPATCHED in t.markers and t.bounces == 1 and t.department == "billing_dept"
    with pytest.raises(RuleRefused, match="only the department holding it"):
        ck_kit.parts.dispatch.misdispatch(t.id, "market_dept", NETWORK, reason="再转")
    ck_clock.advance(hours=1)
    t = ck_kit.parts.dispatch.misdispatch(t.id, "market_dept", BILLING, reason="计费正常，应为营销活动")
    assert (t.bounces, t.department) == (2, "market_dept")
    ck_clock.advance(hours=1)
    # the third bounce (misdispatch_limit = 3) goes to the complaint-management department instead
    t = ck_kit.parts.dispatch.misdispatch(t.id, "network_dept", MARKET, reason="无相关营销活动")
    assert (t.bounces, t.department, t.handler) == (3, "service_centre", "dept:service_centre")
    last = ck_kit.history(t.id)
    assert [e for e in last if e.kind == "misdispatch"][-1].data == {
        "from_department": "market_dept", "requested": "network_dept", "department": "service_centre",
        "bounces": 3, "arbitration": True}
    waiting = ck_kit.parts.dispatch.awaiting_arbitration()
    assert [w.ticket.id for w in waiting] == [t.id]
    assert [(r["from_department"], r["reason"]) for r in waiting[0].reasons] == [
        ("network_dept", "非网络问题，疑似计费"), ("billing_dept", "计费正常，应为营销活动"),
        ("market_dept", "无相关营销活动")]
    mails = [m for m in messages(ck_kit, t.id) if m["channel"] == "email"]
    assert len(mails) == 1 and mails[0]["recipient"] == "service_centre" and "无相关营销活动" in mails[0]["text"]
    assert len(ck_kit.parts.dispatch.misdispatches(ticket_id=t.id)) == 3

    # arbitration by the wrong department is refused: a department's role may not arbitrate at all
    # (H3), and a back-office seat of another department is not the complaint-management one
    with pytest.raises(PermissionDenied, match="ticket.arbitrate"):
        ck_kit.parts.dispatch.arbitrate(t.id, "network_dept", NETWORK, reason="我们来")
    with pytest.raises(RuleRefused, match="only the complaint-management department"):
        ck_kit.parts.dispatch.arbitrate(t.id, "network_dept", Actor("bo-net", Role.BACK_OFFICE, "network_dept"),
                                        reason="我们来")
    with pytest.raises(InvalidInput, match="unknown department"):
        ck_kit.parts.dispatch.arbitrate(t.id, "nowhere", MANAGER)
    t = ck_kit.parts.dispatch.arbitrate(t.id, "network_dept", MANAGER, reason="基站参数导致计费异常，网络部牵头")
    assert (t.department, t.lead_department, t.bounces) == ("network_dept", "network_dept", 0)
    arbitrate = ck_kit.history(t.id)[-2 if ck_kit.history(t.id)[-1].kind == "deadlines_recomputed" else -1]
    assert arbitrate.kind == "arbitrate" and len(arbitrate.data["reasons"]) == 3
    # binding: the lead department can neither forward it nor call it misdispatched
    with pytest.raises(RuleRefused, match="binding"):
        ck_kit.parts.dispatch.misdispatch(t.id, "billing_dept", NETWORK, reason="还是不归我们")
    with pytest.raises(RuleRefused, match="binding"):
        ck_kit.forward(t.id, "billing_dept", NETWORK, reason="还是不归我们")
    with pytest.raises(RuleRefused, match="not awaiting arbitration"):
        ck_kit.parts.dispatch.arbitrate(t.id, "billing_dept", MANAGER)
    t = ck_kit.reply(t.id, NETWORK, result="已修复并退还多收费用")
    assert t.state is TicketState.REPLIED


def test_D5_misdispatch_needs_a_reason_and_follows_the_graph(ck_kit: Any) -> None:
    t = accept(ck_kit, "gprs_failure")
    with pytest.raises(IllegalTransition):
        ck_kit.parts.dispatch.misdispatch(t.id, "data_dept", BACK, reason="在池中")
    t = ck_kit.dispatch(t.id, "second_line", BACK)
    before = ck_kit.ticket(t.id)
    with pytest.raises(InvalidInput, match="reason"):
        ck_kit.parts.dispatch.misdispatch(t.id, "data_dept", SECOND, reason="  ")
    with pytest.raises(TransferRefused):
        ck_kit.parts.dispatch.misdispatch(t.id, "city_north", SECOND, reason="属地")
    assert ck_kit.ticket(t.id) == before
    assert ck_kit.parts.dispatch.misdispatches() == []


# -- A6: processing modes ------------------------------------------------------------------------------


def test_A6_back_office_pool_is_picked_up_by_a_handler_of_its_line(ck_kit: Any) -> None:
    t = accept(ck_kit, "bill_dispute", "13900000001")  # billing_dept directly
    pooled = accept(ck_kit, "payment_not_reopened", "13900000002")  # tariff line, high_skill route
    assert pooled.handler == "bo101"  # the only back-office handler of the line at level 4+ (D6)
    ordinary = accept(ck_kit, "sms_failure", "13900000003")
    assert ordinary.handler == "pool:basic_comms"
    assert t.department == "billing_dept"
    with pytest.raises(PermissionDenied, match="for back_office"):
        ck_kit.parts.dispatch.pick_up(ordinary.id, Actor("sp007", Role.SPECIALIST, "service_centre"))
    with pytest.raises(PermissionDenied, match="not a handler of 'basic_comms'"):
        ck_kit.parts.dispatch.pick_up(ordinary.id, Actor("bo002", Role.BACK_OFFICE, "service_centre"))
    picked = ck_kit.parts.dispatch.pick_up(ordinary.id, BACK)
    assert (picked.state, picked.handler) == (TicketState.IN_HANDLING, "bo001")
    assert [e.id for e in ck_kit.parts.dispatch.queue("pool:basic_comms")] == []


def test_A6_specialist_mode_seats_own_their_line(ck_db_url: str, ck_clock: Any, tmp_path: Path) -> None:
    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit

    folder = Path(shutil.copytree(str(DATA), tmp_path / "specialist"))
    head = folder / "standard.toml"
    head.write_text(head.read_text(encoding="utf-8").replace('processing_mode = "back_office"',
                                                             'processing_mode = "specialist"'), encoding="utf-8")
    kit = ComplaintKit(Store.open(ck_db_url), standard=load_standard(folder), plugins=Plugins.discover(),
                       clock=ck_clock)
    try:
        seat = Actor("sp007", Role.SPECIALIST, "service_centre")  # basic_comms seat
        own = kit.accept(seat, msisdn="13900000001", channel="hotline", category="sms_failure", description="短信发不出")
        assert own.handler == "sp007"  # the seat that took the call keeps the ticket work
        desk = kit.accept(DESK, msisdn="13900000002", channel="hotline", category="sms_failure", description="短信")
        assert desk.handler == "seat:basic_comms"
        follow = kit.open_follow_up(DESK, msisdn="13900000003", problem_type="sms_failure", category="sms_failure",
                                    description="已刷新")
        queue = [e.ticket.id for e in kit.parts.dispatch.queue("seat:basic_comms")]
        assert queue == [desk.id, follow.id]  # the line watches its online follow-ups, after ticket work
        with pytest.raises(PermissionDenied, match="for specialist"):
            kit.parts.dispatch.pick_up(desk.id, BACK)
        assert kit.parts.dispatch.pick_up(desk.id, seat).handler == "sp007"
    finally:
        kit.close()


# -- D6, E6: routing up --------------------------------------------------------------------------------


def test_D6_repeat_complainer_is_routed_up_and_E6_green_channel_is_recorded(ck_kit: Any, ck_clock: Any) -> None:
    first = accept(ck_kit, "sms_failure")
    ck_kit.parts.dispatch.pick_up(first.id, BACK)
    ck_kit.reply(first.id, BACK, result="已重置短信中心号码")
    ck_clock.advance(days=3)
    again = accept(ck_kit, "mms_failure")  # same family (基础通信) within 30 days
    assert Marker.REPEAT in again.markers
    assert again.handler in ("bo101", "bo102")  # a high-skill handler (level 4+) of basic_comms
    assert ck_kit.history(again.id)[0].data["routed_up"] == again.handler
    other = accept(ck_kit, "hotline", "13900000005")
    raised = ck_kit.parts.dispatch.green_channel(other.id, BACK, reason="客户情绪激动，多次要求升级")
    assert raised.handler in ("bo101", "bo102")
    event = ck_kit.history(other.id)[-1]
    assert (event.kind, event.actor, event.data["from_handler"]) == ("green_channel", "bo001", "pool:service_quality")
    with pytest.raises(InvalidInput, match="not a high-skill handler"):
        ck_kit.parts.dispatch.green_channel(other.id, BACK, reason="再升级", to="bo001")
