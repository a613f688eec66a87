"""No empty passes: the worker skips the database when nothing can be due, and never misses
what this process or another one queued (N2: nothing stuck)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaintkit.core.model import Actor, Role
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import Store
from complaintkit.engine.store.quiet import Quiet
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.testing import FakeMail, FakeSms, VirtualClock

pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")


def _kit(url: str, clock: VirtualClock, *, recheck: float = 3600.0) -> tuple[Any, Worker, FakeSms]:
    kit = ComplaintKit(Store.open(url), plugins=Plugins.discover(), clock=clock)
    kit.store.quiet.recheck = recheck  # no looking again by the wall clock: only wakes count here
    sms = FakeSms()
    mail = FakeMail.for_departments(d.code for d in kit.standard.departments)
    return kit, Worker(kit, Outbox(kit, sms=sms, email=mail)), sms


def _transactions(kit: Any) -> int:
    return kit.store.counts["writes"] + kit.store.counts["reads"]


def test_N2_an_idle_worker_pass_touches_no_database(ck_db_url: str) -> None:
    clock = VirtualClock()
    kit, worker, _ = _kit(ck_db_url, clock)
    kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    worker.run_once()
    worker.run_once()  # every loop has looked and found nothing due yet
    before = _transactions(kit)
    for _ in range(20):
        assert worker.run_once() == (0, 0, 0)
    assert _transactions(kit) == before
    kit.close()


def test_N2_a_timer_set_in_this_process_wakes_the_timer_loop(ck_db_url: str) -> None:
    clock = VirtualClock()
    kit, worker, sms = _kit(ck_db_url, clock)
    worker.run_once()  # nothing at all: the loops sleep until woken
    follow = kit.open_follow_up(DESK, msisdn="13912345678", problem_type="call_quality", category="hotline",
                                description="已指导重启")
    clock.attach(worker)
    clock.advance(hours=3)  # the follow-up SMS is due within hours: it goes out on time
    assert [m.to for m in sms.sent] == ["13912345678"]
    assert [e.kind for e in kit.history(follow.id)][-1] == "follow_up_sms_sent"
    kit.close()


def test_N2_a_sleeping_loop_wakes_when_the_next_timer_comes_due(ck_db_url: str) -> None:
    clock = VirtualClock()
    kit, worker, _ = _kit(ck_db_url, clock)
    kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="信号差")
    worker.run_once()
    with kit.store.read() as tx:
        first_due = tx.next_timer_due()
    assert first_due is not None
    assert kit.store.quiet.sleeping("timers", first_due - timedelta(seconds=1))
    assert not kit.store.quiet.sleeping("timers", first_due)
    clock.attach(worker)
    clock.advance_to(first_due + timedelta(seconds=1))
    with kit.store.read() as tx:
        assert all(timer.due_at > first_due for timer in tx.pending_timers())  # it fired
    kit.close()


def test_N2_what_another_process_queued_is_seen_after_the_recheck(ck_db_url: str) -> None:
    clock = VirtualClock()
    kit, worker, sms = _kit(ck_db_url, clock)
    worker.run_once()
    other = ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(), clock=clock)  # another process
    other.open_follow_up(DESK, msisdn="13912345678", problem_type="call_quality", category="hotline",
                         description="已指导重启")
    clock.set(clock.now() + timedelta(days=1))
    worker.run_once()
    assert sms.sent == []  # this process was not told: its loops still sleep
    kit.store.quiet.recheck = 0.0  # the recheck interval has passed
    worker.run_once()
    assert [m.to for m in sms.sent] == ["13912345678"]
    other.close()
    kit.close()


def test_a_wake_during_a_look_is_not_lost() -> None:
    quiet = Quiet(recheck=3600)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    mark = quiet.mark("timers")
    quiet.wake("timers", now)  # a commit of this process while the loop was reading
    quiet.settle("timers", None, mark)  # the loop's read did not see it: its "nothing" is dropped
    assert not quiet.sleeping("timers", now)
    mark = quiet.mark("timers")
    quiet.settle("timers", now + timedelta(hours=1), mark)
    assert quiet.sleeping("timers", now)
    quiet.wake("timers", now + timedelta(hours=2))  # later than what is known: still asleep
    assert quiet.sleeping("timers", now)
    quiet.wake("timers", now + timedelta(minutes=5))  # sooner: awake
    assert not quiet.sleeping("timers", now)
    quiet.settle("outbox:sms", None, quiet.mark("outbox:sms"))
    quiet.wake_prefix("outbox:")
    assert not quiet.sleeping("outbox:sms", now)
