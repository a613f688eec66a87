"""Durable timers (N2) and the outbox (K4): exactly once, across restarts and failures."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from complaintkit.core.model import Actor, Marker, MessageChannel, OutgoingMessage, Role
from complaintkit.engine.outbox import Outbox, RetryPolicy
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.ports.transports import DeliveryReceipt, DeliveryState, SendOutcome
from complaintkit.testing import FakeSms, VirtualClock

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")


def follow_up(kit: Any, number: str = "13912345678", problem: str = "call_quality") -> Any:
    return kit.open_follow_up(DESK, msisdn=number, problem_type=problem, category="hotline", description="已处理")


def kinds(kit: Any, ticket_id: str) -> list[str]:
    return [e.kind for e in kit.history(ticket_id)]


def test_N2_timers_due_while_no_worker_ran_fire_after_restart(ck_db_url: str) -> None:
    clock = VirtualClock()
    plugins = Plugins.discover()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=clock)
    tickets = [follow_up(kit, f"1391234{i:04d}") for i in range(5)]
    t = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="等待过久")
    kit.close()

    clock = VirtualClock(clock.now())
    clock.set(clock.now() + timedelta(days=3))  # the worker was down for three days
    sms = FakeSms()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=plugins, clock=clock)
    worker = Worker(kit, Outbox(kit, sms=sms))
    worker.run_once()
    # the SMS went out late, on the first pass; the customer's 12 h start from the SMS itself
    for ticket in tickets:
        assert kinds(kit, ticket.id) == ["open_follow_up", "follow_up_sms_sent"]
    assert [m.to for m in sms.sent] == [f"1391234{i:04d}" for i in range(5)]
    assert Marker.OVERDUE in kit.ticket(t.id).markers
    assert worker.run_once() == (0, 0, 0)  # nothing fires twice
    clock.attach(worker)
    clock.advance(hours=12)
    for ticket in tickets:
        assert kinds(kit, ticket.id)[-1] == "close_follow_up"
    kit.close()


def test_N2_each_timer_fires_exactly_once(ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    tickets = [follow_up(ck_kit, f"1381234{i:04d}") for i in range(20)]
    for _ in range(3):
        ck_clock.advance(hours=2)
        ck_clock.run_due()
    with ck_kit.store.read() as tx:
        events = Counter(e.kind for t in tickets for e in tx.events(t.id))
    assert events["follow_up_sms_sent"] == 20
    assert len(ck_sms.sent) == 20


@pytest.mark.postgres
def test_N1_several_workers_share_timers_on_postgresql(fresh_pg_url: str) -> None:
    """Four threads, each its own kit, fire the same due timers: SKIP LOCKED gives each to one."""
    pg_schema_url = fresh_pg_url
    clock = VirtualClock()
    plugins = Plugins.discover()
    setup = ComplaintKit(Store.open(pg_schema_url), plugins=plugins, clock=clock)
    tickets = [follow_up(setup, f"1371234{i:04d}") for i in range(60)]
    setup.close()
    clock.set(clock.now() + timedelta(hours=3))
    kits = [ComplaintKit(Store.open(pg_schema_url, migrate=False), plugins=plugins, clock=clock) for _ in range(4)]
    counts: list[int] = []
    errors: list[BaseException] = []

    def run(kit: ComplaintKit) -> None:
        try:
            counts.append(kit.fire_due_timers())
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in kits]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sum(counts) == 60
    with kits[0].store.read() as tx:
        sent = Counter(e.kind for t in tickets for e in tx.events(t.id))
        assert sent["follow_up_sms_sent"] == 60
        assert len(tx.messages(channel="sms")) == 60
    for kit in kits:
        kit.close()


def test_K4_message_is_written_with_the_ticket_change(ck_kit: Any, ck_clock: Any) -> None:
    ticket = follow_up(ck_kit)
    ck_clock.advance(hours=2)  # no worker attached: the kit fires the timer, nothing is delivered
    with ck_kit.store.read() as tx:
        rows = tx.messages(ticket_id=ticket.id)
    assert [(r["state"], r["key"], r["recipient"]) for r in rows] == [
        ("initial", f"{ticket.id}:follow_up_sms", "13912345678")]


def test_K4_same_key_is_queued_once(ck_kit: Any, ck_clock: Any) -> None:
    message = OutgoingMessage("k-1", MessageChannel.SMS, "13912345678", "你好", sender="10086")
    with ck_kit.store.transaction() as tx:
        assert tx.add_messages([message], ck_clock.now()) == 1
    with ck_kit.store.transaction() as tx:
        assert tx.add_messages([message, message], ck_clock.now()) == 0
    with ck_kit.store.read() as tx:
        assert len(tx.messages()) == 1


def test_K4_retries_with_back_off_then_delivers_once(ck_kit: Any, ck_clock: Any) -> None:
    sms = FakeSms()
    outbox = Outbox(ck_kit, sms=sms, retry=RetryPolicy(first=timedelta(seconds=30), factor=2))
    ticket = follow_up(ck_kit)
    ck_clock.advance(hours=2)
    sms.fail_next(3, SendOutcome.RETRY)
    assert outbox.deliver() == 1  # attempt 1 → retry in 30 s
    assert outbox.deliver() == 0  # not due yet
    ck_clock.advance(seconds=30)
    assert outbox.deliver() == 1  # attempt 2 → retry in 60 s
    ck_clock.advance(seconds=59)
    assert outbox.deliver() == 0
    ck_clock.advance(seconds=1)
    outbox.deliver()  # attempt 3 → retry in 120 s
    ck_clock.advance(seconds=120)
    outbox.deliver()  # attempt 4 → accepted
    assert len(sms.attempts) == 4 and len(sms.sent) == 1
    with ck_kit.store.read() as tx:
        row = tx.messages(ticket_id=ticket.id)[0]
    assert (row["state"], row["attempts"], row["last_error"]) == ("completed", 4, "")
    assert outbox.deliver() == 0


def test_K4_permanent_failure_is_recorded_and_not_retried(ck_kit: Any, ck_clock: Any) -> None:
    sms = FakeSms()
    outbox = Outbox(ck_kit, sms=sms)
    with ck_kit.store.transaction() as tx:
        tx.add_messages([OutgoingMessage("bad", MessageChannel.SMS, "12345", "x", sender="10086")], ck_clock.now())
    outbox.deliver()
    ck_clock.advance(hours=5)
    assert outbox.deliver() == 0
    with ck_kit.store.read() as tx:
        row = tx.messages()[0]
    assert (row["state"], row["last_error"]) == ("failed", "ESME_RINVDSTADR (0x0B)")


def test_K4_gives_up_after_the_last_attempt(ck_kit: Any, ck_clock: Any) -> None:
    sms = FakeSms()
    outbox = Outbox(ck_kit, sms=sms, retry=RetryPolicy(first=timedelta(seconds=1), attempts=3))
    follow_up(ck_kit)
    ck_clock.advance(hours=2)
    sms.fail_next(10)
    for _ in range(5):
        outbox.deliver()
        ck_clock.advance(minutes=1)
    with ck_kit.store.read() as tx:
        row = tx.messages()[0]
    assert (row["state"], row["attempts"]) == ("failed", 3)


def test_K4_a_broken_transport_loses_nothing(ck_kit: Any, ck_clock: Any) -> None:
    class Broken(FakeSms):
        def send_many(self, requests: Any) -> Any:
            raise ConnectionResetError("connection reset by peer")

    ticket = follow_up(ck_kit)
    ck_clock.advance(hours=2)
    Outbox(ck_kit, sms=Broken()).deliver()
    with ck_kit.store.read() as tx:
        row = tx.messages(ticket_id=ticket.id)[0]
    assert row["state"] == "inProgress" and "connection reset" in row["last_error"]
    ck_clock.advance(minutes=5)
    sms = FakeSms()
    Outbox(ck_kit, sms=sms).deliver()
    assert len(sms.sent) == 1


def test_K4_a_dead_workers_lease_expires(ck_kit: Any, ck_clock: Any) -> None:
    follow_up(ck_kit)
    ck_clock.advance(hours=2)
    with ck_kit.store.transaction() as tx:  # a worker claims, then dies before sending
        assert len(tx.claim_messages("sms", ck_clock.now(), 10, timedelta(minutes=5))) == 1
    sms = FakeSms()
    assert Outbox(ck_kit, sms=sms).deliver() == 0
    ck_clock.advance(minutes=5)
    assert Outbox(ck_kit, sms=sms).deliver() == 1 and len(sms.sent) == 1


def test_K1_delivery_receipt_updates_the_message(ck_kit: Any, ck_clock: Any) -> None:
    sms = FakeSms(receipts=True)
    outbox = Outbox(ck_kit, sms=sms)
    ticket = follow_up(ck_kit)
    ck_clock.advance(hours=2)
    outbox.deliver()
    assert outbox.receive() == 1
    with ck_kit.store.read() as tx:
        row = tx.messages(ticket_id=ticket.id)[0]
    assert row["delivery"] == "delivered" and row["remote_ids"] == sms.sent[0].remote_id
    assert ck_kit.receive_receipt(DeliveryReceipt("ffff", DeliveryState.DELIVERED)) is False
