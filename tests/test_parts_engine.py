"""The engine's promises to a part: one registration gives a part its timers, commands that read
across tickets, detectors and a namespace; hooks behave as pluggy documents.

The part below is defined here, outside the package, the way a vendor ships one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from complaintkit import hookimpl
from complaintkit.core.errors import PluginError
from complaintkit.core.model import Actor, Decision, Event, Role, Ticket, Timer
from complaintkit.engine.commands import (
    Command,
    CustomerTickets,
    Loaded,
    OneTicket,
    OpenTickets,
    is_retryable,
)
from complaintkit.engine.context import Context
from complaintkit.engine.registry import Detector, Part, TimerKind, Window
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.testing import FakeSms, VirtualClock

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")

pytestmark = pytest.mark.complaintkit(boss="lenient")


# -- a small part, from outside the package ---------------------------------------------------------

def on_callback_due(ticket: Ticket, timer: Timer, ctx: Context) -> Decision:
    """The callback timer came: record that the customer is to be called now."""
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, "callback_due", data=dict(timer.data)),))


def request_callback(ticket_id: str, msisdn: str, actor: Actor) -> Command:
    """Reads the ticket and the customer's tickets of the last 30 days; sets a timer in 2 hours."""
    recent = CustomerTickets(msisdn, within=timedelta(days=30))

    def decide(loaded: Loaded, ctx: Context) -> Decision:
        ticket = loaded.ticket(ticket_id)
        others = len(loaded.tickets(recent))
        event = Event(ticket.id, ctx.now, ctx.actor.id, "callback_requested", data={"recent_tickets": others})
        return Decision(ticket, (event,), (Timer(ticket.id, "callback", ctx.now + timedelta(hours=2),
                                                 {"recent_tickets": others}),))

    return Command("request_callback", actor, (OneTicket(ticket_id), recent), decide)


def stale_tickets(tickets: Sequence[Ticket], window: Window, ctx: Context) -> list[Command]:
    """Once per hour: every open ticket older than a day gets one ``stale_noticed`` event."""
    def notice(ticket_id: str) -> Command:
        return Command("notice_stale", ctx.actor, (OneTicket(ticket_id),), lambda loaded, c: Decision(
            loaded.ticket(ticket_id), (Event(ticket_id, c.now, c.actor.id, "stale_noticed",
                                             data={"window": window.start.isoformat()}),)))

    return [notice(t.id) for t in tickets if ctx.now - t.created_at > timedelta(days=1)]


class CallbacksApi:
    def __init__(self, kit: ComplaintKit) -> None:
        self.kit = kit

    def request(self, ticket_id: str, actor: Actor) -> Ticket:
        msisdn = self.kit.ticket(ticket_id).customer.msisdn.digits
        return self.kit.run(request_callback(ticket_id, msisdn, actor))  # type: ignore[no-any-return]


class CallbacksPlugin:
    @hookimpl
    def complaintkit_parts(self) -> list[Part]:
        return [Part("callbacks",
                     timers=(TimerKind("callback", on_callback_due),),
                     detectors=(Detector("stale_tickets", timedelta(hours=1), OpenTickets(), stale_tickets),),
                     api=CallbacksApi,
                     # every action a part runs names the permission it needs (SPEC H3)
                     permissions=(("request_callback", "ticket.record"), ("notice_stale", "system.detector")))]


def _plugins() -> Plugins:
    # the detector counts below are of this part and the time limits' own: the monthly quality
    # sampling (parts/quality) is left out here and tested in test_quality.py
    return Plugins.discover(extra=(CallbacksPlugin(),),
                            environ={"COMPLAINTKIT_DISABLE_PLUGINS": "complaintkit.parts.quality.part"})


def kinds(kit: ComplaintKit, ticket_id: str) -> list[str]:
    return [e.kind for e in kit.history(ticket_id)]


@pytest.fixture
def kit(ck_db_url: str) -> Any:
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=_plugins(), clock=clock)
    yield kit
    kit.close()


def test_a_part_from_outside_registers_a_timer_a_command_a_detector_and_a_namespace(kit: ComplaintKit) -> None:
    clock: Any = kit.clock
    worker = Worker(kit, _outbox(kit))
    clock.attach(worker)
    first = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    second = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="又断了")
    kit.accept(DESK, msisdn="13900000000", channel="hotline", category="hotline", description="别人的")

    kit.parts.callbacks.request(second.id, DESK)
    assert kit.history(second.id)[-1].data == {"recent_tickets": 2}  # read the customer's tickets only

    clock.advance(hours=2)
    assert "callback_due" in kinds(kit, second.id)  # the part's timer, routed by its kind
    assert "callback_due" not in kinds(kit, first.id)

    clock.advance(days=1, hours=1)  # the tickets are now older than a day: the detector notices them
    noticed = [e for e in kit.history(first.id) if e.kind == "stale_noticed"]
    assert len(noticed) >= 1
    windows = [e.data["window"] for e in noticed]
    assert len(windows) == len(set(windows))  # once per window


def test_a_detection_happens_once_per_window_even_with_two_workers(kit: ComplaintKit, ck_db_url: str) -> None:
    t = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    clock: Any = kit.clock
    clock.advance(days=2)
    other = ComplaintKit(Store.open(ck_db_url), plugins=_plugins(), clock=clock)
    try:
        assert Worker(kit, _outbox(kit)).detect() == 2  # stale_tickets and the kit's own detector
        assert Worker(other, _outbox(other)).detect() == 0  # the windows are taken
    finally:
        other.close()
    assert kinds(kit, t.id).count("stale_noticed") == 1
    with kit.store.read() as tx:
        runs = tx.detector_runs("stale_tickets")
    assert len(runs) == 1 and runs[0]["emitted"] == 1


def test_a_window_already_run_costs_no_scan(kit: ComplaintKit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker pass asks each detector; once its window ran, the claim alone answers — the
    open (or recent) tickets are not read again until the next window."""
    from complaintkit.engine.store import Transaction

    kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    clock: Any = kit.clock
    clock.advance(days=2)
    worker = Worker(kit, _outbox(kit))
    scans: list[Any] = []
    real = Transaction.find_tickets

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        scans.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Transaction, "find_tickets", counted)
    assert worker.detect() == 2 and len(scans) == 2  # each detector's scan, once
    assert worker.detect() == 0 and len(scans) == 2  # the same windows: claimed, not read
    clock.advance(hours=1)
    assert worker.detect() == 2 and len(scans) == 4  # both are hourly: the next windows, read once


def test_two_parts_may_not_claim_one_timer_kind(ck_db_url: str) -> None:
    class Clash:
        @hookimpl
        def complaintkit_parts(self) -> list[Part]:
            return [Part("mine", timers=(TimerKind("near", on_callback_due),))]

    with pytest.raises(PluginError, match="timer kind 'near'.*time_limits") as info:
        ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(extra=(Clash(),)), clock=VirtualClock())
    assert info.value.plugin == "Clash"


def test_a_timer_nobody_owns_is_quarantined_and_the_others_fire(kit: ComplaintKit) -> None:
    t = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    with kit.store.transaction() as tx:
        tx.set_timers([Timer(t.id, "nobody:owns", kit.clock.now())])
    follow = kit.open_follow_up(DESK, msisdn="13912345678", problem_type="call_quality", category="hotline",
                                description="已处理")
    clock: Any = kit.clock
    clock.set(clock.now() + timedelta(hours=3))
    assert kit.fire_due_timers() >= 2
    assert "follow_up_sms_sent" in kinds(kit, follow.id)
    with kit.store.read() as tx:
        quarantined = tx.quarantined_timers()
    assert [q["name"] for q in quarantined] == ["nobody:owns"]
    assert "no part registers" in quarantined[0]["last_error"]


def test_N2_a_ticket_that_cannot_be_read_stops_no_other_timer(kit: ComplaintKit) -> None:
    bad = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="坏数据")
    good = kit.accept(DESK, msisdn="13812345679", channel="hotline", category="hotline", description="好数据")
    with kit.store.transaction() as tx:  # a row written by an older, buggier release
        tx.conn.exec_driver_sql(f"UPDATE ck_tickets SET data = '{{\"id\": 1}}' WHERE id = '{bad.id}'")
    clock: Any = kit.clock
    clock.set(clock.now() + timedelta(days=10))
    kit.fire_due_timers()
    assert "overdue" in kinds(kit, good.id)
    with kit.store.read() as tx:
        quarantined = {q["ticket_id"] for q in tx.quarantined_timers()}
        pending = {tm.ticket_id for tm in tx.pending_timers()}
    assert quarantined == {bad.id} and bad.id not in pending
    assert kit.fire_due_timers() == 0  # set aside, not retried on every pass


# -- hooks as pluggy documents them ---------------------------------------------------------------


class Boss:
    def __init__(self, name: str) -> None:
        self.name = name


def test_M2_a_wrapper_hook_wraps_the_answer_as_pluggy_documents() -> None:
    class Inner:
        @hookimpl(tryfirst=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            return Boss("inner")

    class Wrapper:
        @hookimpl(wrapper=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            boss = yield
            boss.name += "+wrapped"
            return boss

    plugins = Plugins.discover(extra=(Inner(), Wrapper()))
    answer = plugins.boss_client(settings={})
    assert isinstance(answer, Boss) and answer.name == "inner+wrapped"


def test_M2_with_a_wrapper_the_failing_plugin_is_still_named() -> None:
    class Broken:
        @hookimpl(tryfirst=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            raise ConnectionError("BOSS gateway refused")

    class Timing:
        @hookimpl(wrapper=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            return (yield)

    class BrokenWrapper:
        @hookimpl(wrapper=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            yield
            raise RuntimeError("wrapper bug")

    with pytest.raises(PluginError) as info:
        Plugins.discover(extra=(Broken(), Timing())).boss_client(settings={})
    assert info.value.plugin == "Broken" and info.value.hook == "complaintkit_boss_client"
    with pytest.raises(PluginError) as info:
        Plugins.discover(extra=(BrokenWrapper(),)).boss_client(settings={})
    assert info.value.plugin == "BrokenWrapper" and "wrapper bug" in str(info.value)


def test_M2_a_failing_listener_does_not_stop_the_others(ck_kit: Any) -> None:
    seen: list[str] = []

    class Broken:
        @hookimpl(tryfirst=True)
        def complaintkit_ticket_changed(self, ticket: Any, events: Any) -> None:
            raise RuntimeError("listener down")

    class Audit:
        @hookimpl
        def complaintkit_ticket_changed(self, ticket: Any, events: Any) -> None:
            seen.append(ticket.id)

    ck_kit.plugins.pm.register(Broken(), name="broken")
    ck_kit.plugins.pm.register(Audit(), name="audit")
    t = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="x")
    assert seen == [t.id]


def test_M2_a_part_can_be_blocked_like_any_plugin() -> None:
    plugins = Plugins.discover(environ={"COMPLAINTKIT_DISABLE_PLUGINS": "complaintkit.parts.reports.part"})
    names = [name for name, _part in plugins.parts()]
    assert "complaintkit.parts.reports.part" not in names
    assert "complaintkit.parts.intake.part" in names
    assert "complaintkit.parts.reports.part" not in [i.name for i in plugins.info()]


def test_N4_deadlocks_and_serialization_failures_are_retried_like_conflicts() -> None:
    from sqlalchemy.exc import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    class Serialization(Exception):
        sqlstate = "40001"

    assert is_retryable(OperationalError("UPDATE", {}, Deadlock()))
    assert is_retryable(OperationalError("UPDATE", {}, Serialization()))
    assert not is_retryable(OperationalError("UPDATE", {}, ValueError("syntax")))


def _outbox(kit: ComplaintKit) -> Any:
    from complaintkit.engine.outbox import Outbox

    return Outbox(kit, sms=FakeSms())
