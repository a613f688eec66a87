"""SPEC H1–H3: permissions enforced by the kit, for every command and every BOSS action.

Every action below is run through the kit by every role of two standards — the baseline and a
province with other scopes — and must be allowed or refused exactly as the table here says.
Every refusal raises PermissionDenied naming the role and the action, is logged once (masked)
and is stored as a ``permission_refused`` event on the ticket, and writes nothing else.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog
from complaintkit_baseline import DATA
from sqlalchemy import func, select

from complaintkit.core.errors import (
    ComplaintKitError,
    PermissionDenied,
    PluginError,
    StandardInvalid,
)
from complaintkit.core.model import Actor, Decision, Event, Role
from complaintkit.engine.commands import Command, OneTicket
from complaintkit.engine.registry import Part, Registry
from complaintkit.engine.store import schema
from complaintkit.hooks.manager import Plugins
from complaintkit.hooks.markers import hookimpl
from complaintkit.kit import ComplaintKit
from complaintkit.logging import configure_cli_logging, reset_cli_logging
from complaintkit.parts.permissions.catalogue import ACTIONS, BOSS_ACTIONS, PERMISSIONS
from complaintkit.parts.permissions.rules import Policy, Resource, authorize
from complaintkit.standard import load_standard

pytestmark = pytest.mark.complaintkit(boss="lenient")

PHONE = "13812345678"
#: the back office sets tickets up; it is allowed everything the tests need
SETUP = Actor("setup01", Role.BACK_OFFICE, "service_centre")
ACTORS = {
    "F": Actor("fd001", Role.FRONT_DESK, "service_centre"),
    "S": Actor("sp001", Role.SPECIALIST, "service_centre"),
    "B": Actor("bo001", Role.BACK_OFFICE, "service_centre"),
    "D": Actor("net01", Role.DEPARTMENT, "network_dept"),
    "Y": Actor.system(),
}


def _noop(loaded: Any, ctx: Any) -> Decision:
    ticket = loaded.ticket()
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, "noop"),))


#: each action, as the agent would call it on a ticket (``t``: an accepted ticket's id)
CALLS: dict[str, Callable[[ComplaintKit, str, Actor], Any]] = {
    # the lifecycle (parts/intake, parts/time_limits, parts/follow_up)
    "accept": lambda k, t, a: k.accept(a, msisdn=PHONE, channel="hotline", category="hotline", description="x"),
    "open_follow_up": lambda k, t, a: k.open_follow_up(a, msisdn=PHONE, problem_type="call_quality",
                                                       category="hotline", description="x"),
    "warm_transfer": lambda k, t, a: k.warm_transfer(t, "sp001", a, notes="客户反映信号差"),
    "dispatch": lambda k, t, a: k.dispatch(t, "network_dept", a),
    "handle": lambda k, t, a: k.handle(t, a),
    "forward": lambda k, t, a: k.forward(t, "city_north", a, reason="属地问题"),
    "record": lambda k, t, a: k.record(t, a, verification="已核实"),
    "reply": lambda k, t, a: k.reply(t, a, result="已处理"),
    "return_visit": lambda k, t, a: k.return_visit(t, a),
    "archive": lambda k, t, a: k.archive(t, a),
    "reclassify": lambda k, t, a: k.reclassify(t, "no_signal", a, "客户补充"),
    "reactivate": lambda k, t, a: k.reactivate(t, a, "问题复现"),
    "pause": lambda k, t, a: k.pause(t, a, "等待客户"),
    "resume": lambda k, t, a: k.resume(t, a),
    "command": lambda k, t, a: k.command(t, a, lambda ticket, ctx: Decision(ticket)),
    # the kit's own work, run as any actor through the runner
    "timer": lambda k, t, a: k.run(Command("timer:near", a, (OneTicket(t),), _noop)),
    "detector": lambda k, t, a: k.run(Command("detector:stale", a, (OneTicket(t),), _noop)),
    "sms": lambda k, t, a: k.run(Command("sms", a, (OneTicket(t),), _noop)),
    "receipt": lambda k, t, a: k.run(Command("receipt", a, (OneTicket(t),), _noop)),
    "quality_cycle": lambda k, t, a: k.parts.quality.start_cycle("2026-02", a),
    "quality_inspect": lambda k, t, a: k.run(Command("quality_inspect", a, (OneTicket(t),), _noop)),
    # the BOSS/CRM (SPEC H1, H2)
    "boss:basic_info": lambda k, t, a: k.parts.boss.basic_info(t, a),
    "boss:subscriptions": lambda k, t, a: k.parts.boss.subscriptions(t, a),
    "boss:monthly_bill": lambda k, t, a: k.parts.boss.monthly_bill(t, a, "2026-02"),
    "boss:package_usage": lambda k, t, a: k.parts.boss.package_usage(t, a, "2026-02"),
    "boss:marketing_activities": lambda k, t, a: k.parts.boss.marketing_activities(t, a),
    "boss:monternet_query": lambda k, t, a: k.parts.boss.monternet_query(t, a),
    "boss:monternet_unsubscribe": lambda k, t, a: k.parts.boss.monternet_unsubscribe(t, a, "MN001"),
    "boss:monternet_info_switch": lambda k, t, a: k.parts.boss.monternet_info_switch(t, a, False),
    "boss:payment_records": lambda k, t, a: k.parts.boss.payment_records(t, a),
    "boss:change_package": lambda k, t, a: k.parts.boss.change_package(t, a, "PKG58"),
    "boss:group_services": lambda k, t, a: k.parts.boss.group_services(t, a),
    "boss:group_service_unsubscribe": lambda k, t, a: k.parts.boss.group_service_unsubscribe(t, a, "GRP01"),
    "boss:script_outage": lambda k, t, a: k.parts.boss.script_outage(t, a),
    "boss:script_coverage": lambda k, t, a: k.parts.boss.script_coverage(t, a),
    "boss:script_system_change": lambda k, t, a: k.parts.boss.script_system_change(t, a),
    "boss:itemised_records": lambda k, t, a: k.parts.boss.itemised_records(t, a, "2026-02"),
    "boss:refund": lambda k, t, a: k.parts.boss.refund(t, a, "10.00", reason="重复扣费"),
    "boss:refund_promise": lambda k, t, a: k.parts.boss.refund_promise(t, a, "10.00", reason="重复扣费"),
}

#: the actions of return visits and tracking (SPEC F, G), each needing the permission of the
#: lifecycle action named beside it: run through the runner as any actor, as the timers are
AFTER_REPLY: dict[str, str] = {
    "send_survey": "return_visit", "record_visit": "return_visit", "contact_attempt": "return_visit",
    "open_remedy": "return_visit", "mark_tracking": "reply", "tracking_reply": "reply",
    "answer_survey": "sms", "survey_expired": "timer", "tracking_round": "timer",
}
#: dispatch and the special tickets (SPEC D, E): the same, with the expected roles given outright
#: where the action needs a permission of its own (baseline, province)
DISPATCH: dict[str, tuple[str, str]] = {
    "pick_up": ("SBD", "SB"), "green_channel": ("SBD", "SB"), "misdispatch": ("BD", "B"),
    "arbitrate": ("B", ""), "mark:major": ("FSB", ""), "mark:sensitive": ("FSB", ""),
    "record_batch_callers": ("FSB", "FSB"), "clear_batch_warning": ("SBD", "SB"), "call": ("Y", "Y"),
}
for _action in (*AFTER_REPLY, *DISPATCH):
    CALLS[_action] = lambda k, t, a, action=_action: k.run(Command(action, a, (OneTicket(t),), _noop))

H1 = ["boss:basic_info", "boss:subscriptions", "boss:monthly_bill", "boss:package_usage", "boss:marketing_activities", "boss:monternet_query", "boss:monternet_unsubscribe", "boss:monternet_info_switch", "boss:payment_records", "boss:change_package", "boss:group_services", "boss:group_service_unsubscribe", "boss:script_outage", "boss:script_coverage", "boss:script_system_change"]

#: who may do what in the baseline: F front desk, S specialist, B back office, D department, Y system
BASELINE: dict[str, str] = {
    **{a: "FSB" for a in H1}, "boss:basic_info": "FSBD",
    "boss:refund_promise": "FSB", "boss:itemised_records": "B", "boss:refund": "B",
    "accept": "FSB", "open_follow_up": "FSB", "warm_transfer": "FSB", "record": "FSBD", "reclassify": "FSB",
    "pause": "FSBD", "resume": "FSBD", "reactivate": "FSBD",
    "dispatch": "SB", "handle": "SBD", "reply": "SBD",
    "forward": "BD", "return_visit": "B", "archive": "B", "command": "B",
    "quality_cycle": "B", "quality_inspect": "B",
    "timer": "Y", "detector": "Y", "sms": "Y", "receipt": "Y",
}
BASELINE.update({action: BASELINE[like] for action, like in AFTER_REPLY.items()})
BASELINE.update({action: roles for action, (roles, _) in DISPATCH.items()})

#: a province with other scopes: the specialist sees itemised records, the front desk changes no
#: package, unsubscribes no group service and promises at most 20 yuan (so not 10.00? it may:
#: 10.00 is within), and a department reaches only its own department's tickets
PROVINCE_ROLES = """
[[role]]
role = "front_desk"
refund_limit_fen = 2000
permissions = [
  "customer.basic_info", "customer.subscriptions", "customer.monthly_bill", "customer.package_usage",
  "customer.marketing_activities", "monternet.query", "monternet.unsubscribe", "monternet.info_switch",
  "customer.payment_records", "group_service.query", "scripts.outage", "scripts.coverage",
  "scripts.system_change", "refund.promise", "ticket.accept", "ticket.follow_up", "ticket.warm_transfer",
]

[[role]]
role = "specialist"
extends = "front_desk"
refund_limit_fen = 20000
permissions = ["customer.itemised_records", "package.change", "ticket.dispatch", "ticket.handle", "ticket.reply",
               "ticket.record", "ticket.pause", "ticket.reactivate", "ticket.reclassify"]

[[role]]
role = "back_office"
extends = "specialist"
refund_limit_fen = 100000
permissions = ["refund.execute", "group_service.unsubscribe", "ticket.forward", "ticket.return_visit",
               "ticket.archive", "quality.sample", "quality.inspect"]

[[role]]
role = "department"
scope = "own_department"
permissions = ["customer.basic_info", "ticket.handle", "ticket.reply", "ticket.forward", "ticket.record",
               "ticket.pause"]
"""

PROVINCE: dict[str, str] = {
    **{a: "FSB" for a in H1},
    "boss:change_package": "SB", "boss:group_service_unsubscribe": "B",
    # the department holds basic_info, but the test's tickets are the service centre's: out of scope
    "boss:refund_promise": "FSB", "boss:itemised_records": "SB", "boss:refund": "B",
    "accept": "FSB", "open_follow_up": "FSB", "warm_transfer": "FSB", "record": "SB", "reclassify": "SB",
    "pause": "SB", "resume": "SB", "reactivate": "SB",
    "dispatch": "SB", "handle": "SB", "reply": "SB",
    "forward": "B", "return_visit": "B", "archive": "B", "command": "",
    "quality_cycle": "B", "quality_inspect": "B",
    "timer": "Y", "detector": "Y", "sms": "Y", "receipt": "Y",
}
PROVINCE.update({action: PROVINCE[like] for action, like in AFTER_REPLY.items()})
PROVINCE.update({action: roles for action, (_, roles) in DISPATCH.items()})


def province_standard(folder: Path) -> Any:
    target = folder / "province"
    if not target.exists():
        shutil.copytree(str(DATA), target)
        (target / "roles.toml").write_text(PROVINCE_ROLES, encoding="utf-8")
    return load_standard(target, plugin="province")


@pytest.fixture
def which() -> str:
    """The standard under test; the tests of both standards parametrize it."""
    return "baseline"


BOTH = pytest.mark.parametrize("which", ["baseline", "province"])


@pytest.fixture
def ck_standard(which: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if which == "baseline":
        return Plugins.discover().call_first("complaintkit_standard")
    return province_standard(tmp_path_factory.mktemp("standards"))


def stored(kit: ComplaintKit) -> dict[str, int]:
    with kit.store.read() as tx:
        return {t.name: tx.conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in schema.metadata.sorted_tables}


def test_H3_every_action_of_the_kit_is_in_the_table() -> None:
    """The table covers every action the kit knows, and every action needs a known permission."""
    assert set(CALLS) == set(BASELINE) == set(PROVINCE)
    kit_actions = {a for a in ACTIONS if a != "recompute_provisional" and a != "quality_cycle:detector"}
    # "mark" is a family: each marker is its own action (mark:major …)
    assert kit_actions == {a.split(":")[0] if a.startswith("mark:") else a for a in CALLS}
    assert set(ACTIONS.values()) <= set(PERMISSIONS)
    assert {f"boss:{name}" for name in BOSS_ACTIONS} <= set(CALLS)


def test_H3_every_registered_command_has_a_rule(ck_kit: Any) -> None:
    """Each registered part's actions, timer kinds, inbound kinds and detectors have a permission."""
    policy = ck_kit.policy
    registry: Registry = ck_kit.registry
    for kind in registry.timer_kinds:
        assert policy.permission_for(f"timer:{kind}") == "system.timer"
    for kind in registry.inbound:
        assert policy.permission_for(kind) == "system.inbound"
    for name in registry.detectors:
        assert policy.permission_for(f"detector:{name}") == "system.detector"
    for action in registry.permissions:
        assert policy.permission_for(action) in PERMISSIONS


@BOTH
@pytest.mark.parametrize("role", list(ACTORS))
def test_H1_H2_H3_every_action_by_every_role(ck_kit: Any, which: str, role: str) -> None:
    table = BASELINE if which == "baseline" else PROVINCE
    actor = ACTORS[role]
    refusals = 0
    with structlog.testing.capture_logs() as logs:
        for action, call in CALLS.items():
            ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x",
                                   recording="rec-0001")
            before = stored(ck_kit)
            try:
                call(ck_kit, ticket.id, actor)
            except PermissionDenied as refused:
                assert role not in table[action], f"{which}: {action} refused to {role}: {refused}"
                assert actor.role.value in str(refused) and action in str(refused)
                refusals += 1
                # nothing of the command was written: one refusal row, one event per ticket
                after = stored(ck_kit)
                expected_events = 0 if action in ("accept", "open_follow_up", "quality_cycle") else 1
                assert after["ck_refusals"] == before["ck_refusals"] + 1
                assert after["ck_events"] == before["ck_events"] + expected_events
                assert {k: v for k, v in after.items() if k not in ("ck_refusals", "ck_events")} == \
                    {k: v for k, v in before.items() if k not in ("ck_refusals", "ck_events")}
                if expected_events:
                    last = ck_kit.history(ticket.id)[-1]
                    assert last.kind == "permission_refused" and last.data["action"] == refused.action
                    assert last.data["role"] == actor.role.value
            except ComplaintKitError:
                # allowed by the permission, then refused by the process (a state, a rule)
                assert role in table[action], f"{which}: {action} by {role} passed the permission check"
            else:
                assert role in table[action], f"{which}: {action} allowed to {role}"
    logged = [e for e in logs if e.get("event") == "permission refused"]
    assert len(logged) == refusals  # each refusal once
    assert all(e["role"] == actor.role.value for e in logged)


@BOTH
def test_H3_department_scope_reaches_its_own_tickets_only(ck_kit: Any, which: str) -> None:
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    ck_kit.dispatch(ticket.id, "network_dept", SETUP)
    ck_kit.record(ticket.id, ACTORS["D"], verification="已核实")  # its own department's ticket: allowed in both
    other = Actor("north01", Role.DEPARTMENT, "city_north")
    if which == "baseline":
        ck_kit.record(ticket.id, other, verification="已核实")  # the baseline's departments reach all
        return
    with pytest.raises(PermissionDenied, match="reaches only its own department") as info:
        ck_kit.record(ticket.id, other, verification="已核实")
    assert info.value.rule == "scope"


def test_H3_a_refusal_is_logged_masked(ck_kit: Any) -> None:
    """An agent id that looks like a phone number still leaves the library masked."""
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    agent = Actor("13912345678", Role.FRONT_DESK, "service_centre")
    stream = io.StringIO()
    configure_cli_logging(level="info", json=True, stream=stream)
    try:
        with pytest.raises(PermissionDenied):
            ck_kit.archive(ticket.id, agent)
    finally:
        reset_cli_logging()
    events = [e for e in map(json.loads, stream.getvalue().splitlines()) if e["event"] == "permission refused"]
    assert len(events) == 1
    assert "13912345678" not in stream.getvalue() and events[0]["actor"] == "139****5678"
    assert events[0]["action"] == "archive" and events[0]["permission"] == "ticket.archive"


def test_H3_an_action_without_a_rule_is_refused(ck_kit: Any) -> None:
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    with pytest.raises(PermissionDenied, match="no permission rule for the action 'invented'") as info:
        ck_kit.run(Command("invented", SETUP, (OneTicket(ticket.id),), _noop))
    assert info.value.rule == "no_rule"
    assert [e.kind for e in ck_kit.history(ticket.id)][-1] == "permission_refused"


def test_H3_a_part_whose_action_needs_an_unknown_permission_stops_start_up(sqlite_url: str) -> None:
    class Vendor:
        @hookimpl
        def complaintkit_parts(self) -> list[Part]:
            return [Part("callbacks", permissions=(("request_callback", "callback.request"),))]

    from complaintkit.engine.store import Store

    with pytest.raises(PluginError, match="'callback.request', which neither the kit"):
        ComplaintKit(Store.open(sqlite_url), plugins=Plugins.discover(extra=(Vendor(),)))


def test_H3_a_part_may_not_remap_the_kits_own_actions(sqlite_url: str) -> None:
    from complaintkit.engine.store import Store

    class Vendor:
        @hookimpl
        def complaintkit_parts(self) -> list[Part]:
            return [Part("sneaky", permissions=(("archive", "customer.basic_info"),))]

    with pytest.raises(PluginError, match="the kit's own") as info:
        ComplaintKit(Store.open(sqlite_url), plugins=Plugins.discover(extra=(Vendor(),)))
    assert info.value.plugin == "Vendor"


# -- the standard's roles, validated at load -----------------------------------------------------------


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "province"
    shutil.copytree(str(DATA), folder)
    return folder


def _roles(folder: Path, text: str) -> None:
    (folder / "roles.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("roles", "expected"), [
    (('[[role]]\nrole = "front_desk"\nextends = "back_office"\npermissions = []\n'
     '[[role]]\nrole = "specialist"\nextends = "front_desk"\npermissions = []\n'
     '[[role]]\nrole = "back_office"\nextends = "specialist"\npermissions = []\n'),
     "inheritance goes round in a circle"),
    ('[[role]]\nrole = "front_desk"\npermissions = ["customer.itemised_record"]\n',
     "roles.toml: $.role[0].permissions: unknown permission 'customer.itemised_record'"),
    (('[[role]]\nrole = "front_desk"\nrefund_limit_fen = 5000\npermissions = []\n'
     '[[role]]\nrole = "specialist"\nextends = "front_desk"\nrefund_limit_fen = 1000\npermissions = []\n'),
     "roles.toml: $.role[1].refund_limit_fen: 'specialist' extends 'front_desk' but may refund less"),
    (('[[role]]\nrole = "front_desk"\npermissions = []\n'
     '[[role]]\nrole = "specialist"\nextends = "front_desk"\nscope = "own_department"\npermissions = []\n'),
     "roles.toml: $.role[1].scope: 'specialist' extends 'front_desk' but reaches fewer tickets"),
    ('[[role]]\nrole = "specialist"\nextends = "front_desk"\npermissions = []\n',
     "roles.toml: $.role[0].extends: 'specialist' extends 'front_desk', which roles.toml does not define"),
    ('[[role]]\nrole = "front_desk"\npermissions = ["system.timer"]\n',
     "'system.timer' belongs to the system actor only"),
    ('[[role]]\nrole = "system"\npermissions = []\n', "the system's permissions are the kit's own"),
    ('[[role]]\nrole = "department"\nscope = "mine"\npermissions = []\n', "roles.toml: $.role[0].scope: 'mine'"),
])
def test_H2_roles_are_validated_at_load(broken: Path, roles: str, expected: str) -> None:
    _roles(broken, roles)
    with pytest.raises(StandardInvalid) as info:
        load_standard(broken, plugin="henan")
    assert expected in str(info.value), str(info.value)


REQUIRED = ", ".join(f'"{p}"' for p in ("ticket.accept", "ticket.follow_up", "ticket.dispatch", "ticket.handle",
                                         "ticket.record", "ticket.reply", "ticket.return_visit", "ticket.archive"))


def test_H2_a_standard_where_nobody_may_archive_is_refused(broken: Path) -> None:
    _roles(broken, '[[role]]\nrole = "back_office"\npermissions = [' + REQUIRED.replace(', "ticket.archive"', "") + ']\n')
    with pytest.raises(StandardInvalid, match="no role holds 'ticket.archive'"):
        load_standard(broken)


def test_H2_inheritance_gives_the_parent_permissions_and_a_declared_permission_is_known(broken: Path) -> None:
    _roles(broken, '[[permission]]\nname = "callback.request"\n'
                   '[[role]]\nrole = "front_desk"\npermissions = ["customer.basic_info"]\n'
                   '[[role]]\nrole = "specialist"\nextends = "front_desk"\npermissions = ["callback.request"]\n'
                   '[[role]]\nrole = "back_office"\nextends = "specialist"\npermissions = [' + REQUIRED + ']\n')
    standard = load_standard(broken)
    assert standard.role(Role.SPECIALIST).permissions == {"customer.basic_info", "callback.request"}


def test_H2_baseline_front_desk_within_specialist_within_back_office() -> None:
    standard = Plugins.discover().call_first("complaintkit_standard")
    front, specialist, back = (standard.role(r).permissions for r in
                               (Role.FRONT_DESK, Role.SPECIALIST, Role.BACK_OFFICE))
    assert front < specialist < back
    assert "customer.itemised_records" in back and "customer.itemised_records" not in specialist
    assert "refund.execute" in back and "refund.execute" not in front


# -- H1 item by item, and the amount authorisation -------------------------------------------------


def test_H1_each_item_of_the_list_is_the_baseline_front_desks() -> None:
    """S001 ch. 3 §6, item by item, against the baseline's front desk."""
    standard = Plugins.discover().call_first("complaintkit_standard")
    policy = Policy.build(standard)
    desk = ACTORS["F"]
    items = {
        "基本信息查询": "boss:basic_info", "客户订购信息查询": "boss:subscriptions", "月账单查询": "boss:monthly_bill",
        "套餐使用情况查询": "boss:package_usage", "营销活动开通情况": "boss:marketing_activities",
        "梦网业务查询": "boss:monternet_query", "梦网业务退订": "boss:monternet_unsubscribe",
        "梦网业务信息服务开关": "boss:monternet_info_switch", "缴费记录查询": "boss:payment_records",
        "套餐变更": "boss:change_package", "集团业务查询": "boss:group_services",
        "集团业务退订": "boss:group_service_unsubscribe", "突发故障口径": "boss:script_outage",
        "长期网络覆盖问题口径": "boss:script_coverage", "临时系统调整口径": "boss:script_system_change",
    }
    for item, action in items.items():
        assert authorize(desk, action, Resource(), policy).allowed, item
    assert not authorize(desk, "boss:itemised_records", Resource(), policy).allowed  # 详单 not to the front desk
    assert authorize(ACTORS["B"], "boss:itemised_records", Resource(), policy).allowed


def test_H1_itemised_records_refused_to_the_front_desk_and_given_to_the_back_office(ck_kit: Any,
                                                                                   ck_boss: Any) -> None:
    from complaintkit.ports.boss import CallRecord

    ck_boss.itemised[(PHONE, "2026-02")] = [CallRecord("2026-02-03 10:00", "voice", "13900000000", 60, 20)]
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    with pytest.raises(PermissionDenied, match="front_desk") as info:
        ck_kit.parts.boss.itemised_records(ticket.id, ACTORS["F"], "2026-02")
    assert info.value.permission == "customer.itemised_records"
    assert ("itemised_records", (PHONE, "2026-02")) not in ck_boss.calls  # never reached the BOSS
    assert len(ck_kit.parts.boss.itemised_records(ticket.id, ACTORS["B"], "2026-02")) == 1


def test_H2_a_refund_promise_of_50_00_is_within_a_50_yuan_limit_and_50_01_is_not(ck_kit: Any) -> None:
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    desk = ACTORS["F"]
    assert ck_kit.standard.role(Role.FRONT_DESK).refund_limit_fen == 5000
    ck_kit.parts.boss.refund_promise(ticket.id, desk, "50.00", reason="重复扣费")
    with structlog.testing.capture_logs() as logs, pytest.raises(PermissionDenied) as info:
        ck_kit.parts.boss.refund_promise(ticket.id, desk, "50.01", reason="重复扣费")
    refused = info.value
    assert (refused.role, refused.action, refused.amount_fen, refused.limit_fen) == \
        ("front_desk", "boss:refund_promise", 5001, 5000)
    assert "50.01 yuan is above the front_desk limit of 50.00 yuan" in str(refused)
    kinds = [(e.kind, e.data.get("amount_fen")) for e in ck_kit.history(ticket.id)]
    assert ("refund_promised", 5000) in kinds and ("permission_refused", 5001) in kinds
    assert ("refund_promised", 5001) not in kinds
    assert len([e for e in logs if e.get("event") == "permission refused"]) == 1
    refusals = ck_kit.parts.permissions.refusals(actor="fd001")
    assert [(r["rule"], r["amount_fen"], r["limit_fen"]) for r in refusals] == [("amount", 5001, 5000)]


def test_H3_asking_before_offering_records_nothing(ck_kit: Any) -> None:
    ticket = ck_kit.accept(SETUP, msisdn=PHONE, channel="hotline", category="hotline", description="x")
    verdict = ck_kit.parts.permissions.check(ACTORS["F"], "archive", ticket_id=ticket.id)
    assert not verdict.allowed and verdict.rule == "role"
    assert ck_kit.parts.permissions.check(ACTORS["F"], "boss:refund_promise", amount_fen=5000).allowed
    assert ck_kit.parts.permissions.refusals() == []
