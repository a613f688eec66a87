"""Nothing lost, nothing stuck (SPEC K4: the outbox sends once except in a narrow, counted window;
N2: no timer, message or customer reply is lost across a crash)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from complaintkit.core.model import Actor, Role
from complaintkit.engine import inbox
from complaintkit.engine.inbox import InboxSink
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.ports.transports import InboundSms, SendOutcome, SendResult, SmsRequest
from complaintkit.testing import FakeSms, VirtualClock

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")

pytestmark = pytest.mark.complaintkit(boss="lenient")


def follow_up(kit: Any, number: str = "13912345678") -> Any:
    return kit.open_follow_up(DESK, msisdn=number, problem_type="call_quality", category="hotline",
                              description="已处理")


def kinds(kit: Any, ticket_id: str) -> list[str]:
    return [e.kind for e in kit.history(ticket_id)]


@pytest.fixture
def plugins() -> Plugins:
    return Plugins.discover()


def test_B3_a_reply_received_inside_the_window_counts_though_it_is_read_after_it(
        ck_db_url: str, plugins: Plugins) -> None:
    """After a worker outage, a reply received at +11 h and read at +13 h converts the follow-up."""
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=clock)
    sms = FakeSms()
    worker = Worker(kit, Outbox(kit, sms=sms))
    ticket = follow_up(kit)
    clock.advance(hours=2)
    worker.run_once()  # the confirmation SMS goes out; the 12 h window starts
    sent_at = clock.now()
    sms.reply("13912345678", "1", at=sent_at + timedelta(hours=11))
    clock.set(sent_at + timedelta(hours=13))  # the worker was down meanwhile
    worker.run_once()
    assert kit.ticket(ticket.id).kind.value == "normal"
    assert "convert" in kinds(kit, ticket.id) and "close_follow_up" not in kinds(kit, ticket.id)
    kit.close()


def test_N2_a_reply_stored_before_a_kill_is_handled_after_the_restart(ck_db_url: str, plugins: Plugins) -> None:
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=clock)
    ticket = follow_up(kit)
    clock.advance(hours=2)
    Worker(kit, Outbox(kit, sms=FakeSms())).run_once()
    # the transport hands the reply to the inbox and acknowledges it to the SMSC; then the worker dies
    InboxSink(kit.store, clock).accept(InboundSms("13912345678", "10086", "1", clock.now()))
    kit.close()

    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=clock)
    Worker(kit, Outbox(kit, sms=FakeSms())).run_once()
    assert "convert" in kinds(kit, ticket.id)
    with kit.store.read() as tx:
        rows = tx.inbox()
    assert [(r["state"], r["outcome"]) for r in rows] == [("done", "converted")]
    assert Worker(kit, Outbox(kit, sms=FakeSms())).receive() == 0  # handled once
    kit.close()


def test_N2_a_failing_inbox_row_is_kept_retried_and_set_aside_while_the_rest_go_on(ck_kit: Any,
                                                                                ck_clock: Any) -> None:
    with ck_kit.store.transaction() as tx:  # a row an older adapter stored without its text
        bad = tx.add_inbox("sms", {"sender": "13912345678", "to": "10086"}, ck_clock.now(), ck_clock.now())
    InboxSink(ck_kit.store, ck_clock).accept(InboundSms("13812345678", "10086", "你好", ck_clock.now()))
    assert inbox.process(ck_kit.runner, ck_clock.now()) == 2
    with ck_kit.store.read() as tx:
        rows = {r["id"]: r for r in tx.inbox()}
    assert rows[bad]["state"] == "pending" and "KeyError" in rows[bad]["last_error"]
    assert [r["outcome"] for i, r in rows.items() if i != bad] == ["unmatched"]
    for _ in range(inbox.MAX_ATTEMPTS):
        ck_clock.advance(hours=1)
        inbox.process(ck_kit.runner, ck_clock.now())
    with ck_kit.store.read() as tx:
        row = next(r for r in tx.inbox() if r["id"] == bad)
    assert row["state"] == "quarantined" and row["attempts"] == inbox.MAX_ATTEMPTS  # kept, never dropped


class Killed(BaseException):
    """The process dies here (what SIGKILL does to the Python code that was running)."""


class DiesMidBatch(FakeSms):
    """Acknowledges the first ``alive`` messages, then the worker is killed."""

    def __init__(self, alive: int) -> None:
        super().__init__()
        self.alive = alive

    def send_many(self, requests: Sequence[SmsRequest], on_result: Any = None) -> list[SendResult]:
        for request in requests[: self.alive]:
            result = super().send_many([request])[0]
            on_result(result)
        raise Killed


def test_K4_a_killed_worker_resends_only_what_was_in_flight_and_counts_it(ck_kit: Any, ck_clock: Any) -> None:
    tickets = [follow_up(ck_kit, f"1391234{i:04d}") for i in range(10)]
    ck_clock.set(ck_clock.now() + timedelta(hours=2))
    ck_kit.fire_due_timers()
    dying = DiesMidBatch(alive=3)
    with pytest.raises(Killed):
        Outbox(ck_kit, sms=dying).deliver()
    with ck_kit.store.read() as tx:
        states = [r["state"] for r in tx.messages(channel="sms")]
    assert states.count("completed") == 3  # recorded as each was acknowledged

    ck_clock.advance(seconds=31)  # the dead worker's lease runs out (30 s by default)
    sms = FakeSms()
    assert Outbox(ck_kit, sms=sms).deliver() == 7
    with ck_kit.store.read() as tx:
        rows = tx.messages(channel="sms")
    assert [r["state"] for r in rows] == ["completed"] * 10
    assert sum(r["resends"] for r in rows) == 7  # every re-send after the lost claim is counted
    assert len(sms.sent) + len(dying.sent) == len(tickets)  # nobody got it twice here


def test_K4_a_live_workers_lease_is_renewed_while_it_sends(ck_kit: Any, ck_clock: Any) -> None:
    follow_up(ck_kit)
    ck_clock.set(ck_clock.now() + timedelta(hours=2))
    ck_kit.fire_due_timers()
    outbox = Outbox(ck_kit, sms=FakeSms(), lease=timedelta(seconds=0.3))
    claimed = outbox._claim(next(iter(outbox.transports)))
    from complaintkit.engine.outbox import _LeaseRenewer

    renewer = _LeaseRenewer(outbox, [c.id for c in claimed], set)
    renewer.start()
    try:
        import time

        before = _lease(ck_kit)
        ck_clock.advance(seconds=10)
        time.sleep(0.5)  # real time: the renewer runs every lease / 3
        assert _lease(ck_kit) > before
    finally:
        renewer.stop()


def _lease(kit: Any) -> Any:
    with kit.store.read() as tx:
        return tx.messages(channel="sms")[0]["lease_until"]


def test_K4_remote_ids_of_any_length_are_recorded(ck_kit: Any, ck_clock: Any) -> None:
    """SMTP Message-IDs are 80–100 characters; recording them must not fail (PostgreSQL)."""
    follow_up(ck_kit)
    ck_clock.set(ck_clock.now() + timedelta(hours=2))
    ck_kit.fire_due_timers()
    long_id = "<" + "x" * 90 + "@complaintkit.example>"

    class LongIds(FakeSms):
        def send_many(self, requests: Sequence[SmsRequest]) -> list[SendResult]:
            return [SendResult(r.key, SendOutcome.ACCEPTED, (long_id,)) for r in requests]

    assert Outbox(ck_kit, sms=LongIds()).deliver() == 1
    with ck_kit.store.read() as tx:
        row = tx.messages(channel="sms")[0]
    assert row["state"] == "completed" and row["remote_ids"] == long_id


def test_N2_doctor_lists_what_was_set_aside_and_releases_it(sqlite_url: str) -> None:
    from click.testing import CliRunner

    from complaintkit.cli import cli
    from complaintkit.core.model import Timer

    clock = VirtualClock()
    kit = ComplaintKit(Store.open(sqlite_url), plugins=Plugins.discover(), clock=clock)
    t = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="x")
    with kit.store.transaction() as tx:
        tx.set_timers([Timer(t.id, "retired_kind:x", clock.now())])
    kit.fire_due_timers()
    kit.close()
    result = CliRunner().invoke(cli, ["doctor", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "quarantined timers: 1" in result.output and "retired_kind:x" in result.output
    assert "no part registers" in result.output
    result = CliRunner().invoke(cli, ["doctor", "--db", sqlite_url, "--release"])
    assert "released: 1" in result.output
    result = CliRunner().invoke(cli, ["doctor", "--db", sqlite_url])
    assert "quarantined timers: 0" in result.output


def test_K4_an_outage_costs_no_attempt_so_no_message_is_ever_given_up(ck_kit: Any, ck_clock: Any) -> None:
    """A transport that cannot reach the far end for longer than every attempt's back-off added
    up: the message waits, and goes when the far end is back."""
    follow_up(ck_kit)
    ck_clock.set(ck_clock.now() + timedelta(hours=2))
    ck_kit.fire_due_timers()

    class Unreachable(FakeSms):
        def send_many(self, requests: Sequence[SmsRequest]) -> list[SendResult]:
            raise ConnectionRefusedError("SMSC down")

    for _ in range(20):  # far more than RetryPolicy.attempts
        Outbox(ck_kit, sms=Unreachable()).deliver()
        ck_clock.advance(minutes=10)
    with ck_kit.store.read() as tx:
        row = tx.messages(channel="sms")[0]
    assert row["state"] != "failed" and row["attempts"] == 0 and "SMSC down" in row["last_error"]
    sms = FakeSms()
    assert Outbox(ck_kit, sms=sms).deliver() == 1 and len(sms.sent) == 1


def test_K4_answers_from_the_far_end_do_use_attempts(ck_kit: Any, ck_clock: Any) -> None:
    follow_up(ck_kit)
    ck_clock.set(ck_clock.now() + timedelta(hours=2))
    ck_kit.fire_due_timers()

    class Throttled(FakeSms):
        def send_many(self, requests: Sequence[SmsRequest]) -> list[SendResult]:
            return [SendResult(r.key, SendOutcome.RETRY, detail="ESME_RTHROTTLED (0x58)") for r in requests]

    outbox = Outbox(ck_kit, sms=Throttled())
    for _ in range(outbox.retry.attempts):
        outbox.deliver()
        ck_clock.advance(hours=2)
    with ck_kit.store.read() as tx:
        row = tx.messages(channel="sms")[0]
    assert row["state"] == "failed" and row["attempts"] == outbox.retry.attempts


@pytest.mark.parametrize(("table", "field"), [
    ({"lease": 1}, "outbox.lease"), ({"lease": "30"}, "outbox.lease"), ({"batch": 0}, "outbox.batch"),
    ({"leese": 30}, "outbox.leese"), ([], "outbox"),
])
def test_K4_outbox_settings_are_checked_by_name(table: Any, field: str) -> None:
    from complaintkit.core.errors import InvalidInput
    from complaintkit.engine.outbox import outbox_settings

    with pytest.raises(InvalidInput) as info:
        outbox_settings(table)
    assert info.value.field == field


def test_K4_the_lease_comes_from_the_workers_settings(ck_db_url: str, plugins: Plugins) -> None:
    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=VirtualClock(),
                       settings={"outbox": {"lease": 12, "batch": 7}})
    outbox = Outbox.from_plugins(kit)
    assert (outbox.lease, outbox.batch) == (timedelta(seconds=12), 7)
    kit.close()
