"""A province's month of complaints, run through the whole process on a virtual clock.

The scenario is generated from a seed, so every run with the same seed is the same: complaints
across channels, categories and customer value tiers; some solved online and followed up by SMS
(some customers answer the code in time, some late, some with other text); the rest dispatched,
handled, replied, visited and archived — and a share left to run past their limits.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core.errors import ComplaintKitError
from complaintkit.core.model import Actor, Channel, Role, TicketState
from complaintkit.demo_summary import DemoResult, summarize
from complaintkit.engine.worker import Worker
from complaintkit.kit import ComplaintKit
from complaintkit.logging import get_logger
from complaintkit.testing.clock import VirtualClock

log = get_logger(__name__)

CHANNEL_WEIGHTS = {
    Channel.HOTLINE: 60, Channel.WEBSITE: 8, Channel.BUSINESS_HALL: 10, Channel.ACCOUNT_MANAGER: 4,
    Channel.SMS: 6, Channel.IM_APP: 8, Channel.LETTER: 1, Channel.EMAIL: 3,
}
TIERS = {"low": 30, "medium": 50, "high": 20}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


@attrs.define
class Sms:
    """How the demo reaches customers: the transport, and ``reply(sender, text)`` for a customer's
    answer (injected at the SMSC, or queued on the fake)."""

    transport: Any
    reply: Callable[[str, str], None]


def run(kit: ComplaintKit, clock: VirtualClock, worker: Worker, sms: Sms, *, tickets: int = 300,
        days: int = 30, seed: int = 7, progress: Callable[[int], None] | None = None) -> DemoResult:
    """Generate and run the scenario; returns the summary."""
    rng = random.Random(seed)
    # what happens after the reply (visit channel, answers, remedy, tracking) draws from its own
    # generator, so the complaints, their handling and their figures stay those of the seed
    after = random.Random(seed + 1000)
    standard = kit.standard
    # complaints only: installation/move and repair orders come from the field-service system
    leaves = [c for c, path in standard.iter_categories() if not c.children and "field_service" not in
              (*path, c.code)]
    follow_types = list(standard.follow_up_types)
    start = clock.now()
    desk = [Actor(f"fd{n:03d}", Role.FRONT_DESK, "service_centre") for n in range(1, 9)]
    back = Actor("bo001", Role.BACK_OFFICE, "service_centre")
    dept_actor = {d.code: Actor(f"{d.code}-01", Role.DEPARTMENT, d.code) for d in standard.departments}
    numbers = [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(max(10, tickets * 2 // 3))]
    cities = sorted({d.city for d in standard.departments if d.city}) or [""]
    home = standard.settings.complaint_department
    manager = Actor("cm001", Role.BACK_OFFICE, home)
    arbitrated = 0

    queue: list[tuple[datetime, int, Callable[[], None]]] = []
    order = itertools.count()

    def at(moment: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(queue, (moment, next(order), action))

    done = 0

    def intake(i: int) -> None:
        nonlocal done
        actor = rng.choice(desk)
        number = rng.choice(numbers)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        tier = rng.choices(list(TIERS), weights=list(TIERS.values()))[0]
        now = clock.now()
        try:
            if rng.random() < 0.3:
                problem = rng.choice(follow_types)
                kit.open_follow_up(actor, msisdn=number, problem_type=problem.code,
                                       category=problem.code if _known(standard, problem.code) else leaves[0].code,
                                       description=f"{problem.name}，已指导客户重启后恢复")
                fate = rng.random()
                sms_at = kit.calendar.add(now, _duration(problem.delay))
                if fate < 0.25:  # problem remains: answers the code in time
                    at(sms_at + timedelta(hours=rng.uniform(0.2, 10)), lambda: _reply(number, standard.settings.follow_up_reply_code))
                elif fate < 0.32:  # answers after the window closed
                    at(sms_at + timedelta(hours=rng.uniform(12.5, 20)), lambda: _reply(number, standard.settings.follow_up_reply_code))
                elif fate < 0.38:  # answers something else
                    at(sms_at + timedelta(hours=rng.uniform(0.5, 6)), lambda: _reply(number, "好的谢谢"))
            else:
                category = rng.choice(leaves)
                channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
                t = kit.accept(actor, msisdn=number, channel=channel, category=category.code,
                               description=f"客户{name}反映{category.name}问题，要求尽快处理", name=name,
                               value_tier=tier, star_level=rng.randrange(0, 6), city=rng.choice(cities))
                if after.random() < 0.03:  # a long case: the handler expects 12–20 days (F1)
                    _act(kit.parts.tracking.mark, t.id, back, expected=now + timedelta(days=after.uniform(12, 20)))
                if rng.random() < 0.02:  # E1: found to be a major complaint after acceptance
                    at(now + timedelta(minutes=rng.uniform(5, 40)),
                       lambda: _act(kit.parts.special.mark_major, t.id, back, reason="涉及多名客户，影响面大"))
                _plan(t.id, now, actor)
        except ComplaintKitError as exc:
            log.warning("demo intake refused", error=str(exc))
        done += 1
        if progress:
            progress(done)

    planned: set[str] = set()

    def _reply(number: str, text: str) -> None:
        sms.reply(number, text)
        _settle(worker, sms)
        converted = [*kit.tickets(msisdn=number, state=TicketState.ACCEPTED),
                     *kit.tickets(msisdn=number, state=TicketState.IN_HANDLING)]  # dispatched directly (D2)
        for t in converted:
            if t.id not in planned:  # a follow-up the customer's reply turned into a complaint
                _plan(t.id, clock.now(), back)

    def _plan(ticket_id: str, now: datetime, actor: Actor) -> None:
        planned.add(ticket_id)
        t = kit.ticket(ticket_id)
        neglected = rng.random() < 0.1  # some tickets are left to run overdue
        speed = rng.uniform(1, 16) * (5 if neglected else 1)
        if t.state is TicketState.ACCEPTED:
            if rng.random() < 0.5:
                at(now + timedelta(minutes=rng.uniform(5, 60)), lambda: _act(kit.handle, ticket_id, back))
            else:
                dept = rng.choice([d.code for d in standard.departments if d.level in ("province", "city", "second_line")])
                at(now + timedelta(minutes=rng.uniform(10, 90)), lambda: _act(kit.dispatch, ticket_id, dept, back, reason="按派单规范"))
        if rng.random() < 0.12:  # D5: the receiving department finds it is not theirs
            at(now + timedelta(hours=rng.uniform(1.6, 3)), lambda: _misdispatch(ticket_id))
        at(now + timedelta(hours=speed), lambda: _finish(ticket_id))

    def _misdispatch(ticket_id: str) -> None:
        nonlocal arbitrated
        t = kit.ticket(ticket_id)
        if t.state is not TicketState.IN_HANDLING or t.department not in dept_actor:
            return
        targets = [d for d in kit.parts.dispatch.transfer_targets(t.department) if d != home]
        if not targets:
            return
        _act(kit.parts.dispatch.misdispatch, ticket_id, rng.choice(targets), dept_actor[t.department],
             reason="经核查不属本部门处理范围")
        for _ in range(standard.settings.misdispatch_limit - 1):
            t = kit.ticket(ticket_id)
            if t.department == home or rng.random() < 0.4:  # arbitration waits, or an owner is found
                break
            targets = [d for d in kit.parts.dispatch.transfer_targets(t.department) if d != home]
            if targets:  # and it bounces on
                _act(kit.parts.dispatch.misdispatch, ticket_id, rng.choice(targets), dept_actor[t.department],
                     reason="非本单位责任，转回")
        for waiting in kit.parts.dispatch.awaiting_arbitration():
            if waiting.ticket.id == ticket_id:  # the first department it went to leads
                lead = str(waiting.reasons[0]["from_department"])
                _act(kit.parts.dispatch.arbitrate, ticket_id, lead, manager, reason="根据错派原因确定牵头部门")
                arbitrated += 1

    def _finish(ticket_id: str) -> None:
        t = kit.ticket(ticket_id)
        handler = dept_actor.get(t.department, back)
        if t.state is TicketState.ACCEPTED:
            _act(kit.handle, ticket_id, back)
        _act(kit.record, ticket_id, handler, verification="已核实客户反映情况属实")
        if kit.parts.tracking.tracking(ticket_id) is not None:
            _act(kit.parts.tracking.reply, ticket_id, handler, result="问题处理中，已告知客户进展")
        else:
            _act(kit.reply, ticket_id, handler, result="问题已处理，已向客户解释")
        visit = clock.now() + timedelta(hours=rng.uniform(1, 8))
        at(visit, lambda: _visit(ticket_id))

    outcomes = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "dissatisfied"}
    codes = {a.outcome: a.code for a in standard.return_visits.survey.answer}

    def _visit(ticket_id: str) -> None:
        outcome = outcomes[rng.choices(["满意", "基本满意", "不满意"], weights=[70, 22, 8])[0]]
        channel = after.choices(["sms", "phone", "in_person"], weights=[40, 50, 10])[0]
        if channel != "sms":
            _record(ticket_id, channel, outcome)
            return
        _act(kit.parts.return_visits.send_survey, ticket_id, back)
        _settle(worker, sms)
        number = kit.ticket(ticket_id).customer.msisdn.digits
        if after.random() < 0.85:  # the customer answers the survey
            answered = clock.now() + timedelta(hours=after.uniform(0.2, 20))
            at(answered, lambda: _reply(number, codes[outcome]))
            at(answered + timedelta(hours=after.uniform(0.5, 6)), lambda: _after_survey(ticket_id, outcome))
        else:  # no answer: a phone visit when the window has closed
            window = _duration(standard.return_visits.survey.window)
            at(clock.now() + timedelta(hours=float(window.amount) + after.uniform(1, 8)),
               lambda: _record(ticket_id, "phone", outcome))

    def _after_survey(ticket_id: str, outcome: str) -> None:
        if outcome == "dissatisfied":  # G2: the phone visit the dissatisfied answer opened
            _record(ticket_id, "phone", outcome)
        else:
            _archive(ticket_id)

    def _archive(ticket_id: str) -> None:
        # a tracked complaint waits for its final reply (F2): the demo's long cases stay open
        if kit.parts.tracking.tracking(ticket_id) is None:
            _act(kit.archive, ticket_id, back, reason="回访完成")

    def _record(ticket_id: str, channel: str, outcome: str) -> None:
        remedy = outcome == "dissatisfied"
        try:
            visit = kit.parts.return_visits.record_visit(
                ticket_id, back, channel=channel, outcome=outcome,
                **({"reason": "客户认为问题未彻底解决", "needs": "再次核查并回复"} if remedy else {}))
        except ComplaintKitError as exc:
            log.warning("demo action refused", error=str(exc))
            return
        _archive(ticket_id)
        if visit.remedy_id:
            planned.add(visit.remedy_id)
            at(clock.now() + timedelta(hours=after.uniform(1, 10)), lambda: _remedy(visit.remedy_id))

    def _remedy(ticket_id: str) -> None:
        _act(kit.handle, ticket_id, back)
        _act(kit.record, ticket_id, back, verification="已再次核查")
        _act(kit.reply, ticket_id, back, result="已按客户需求补救")
        _act(kit.parts.return_visits.record_visit, ticket_id, back, channel="phone", outcome="satisfied")
        _act(kit.archive, ticket_id, back, reason="补救完成")

    def _act(command: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ComplaintKitError as exc:
            log.warning("demo action refused", error=str(exc))

    # E2: an outage on the third day: callers recorded against a batch request, cleared hours later
    outage = leaves[0].code if not any(c.code == "call_quality" for c in leaves) else "call_quality"
    surge = max(5, tickets // 8)
    burst = start + timedelta(days=min(2, days - 1), hours=10 - start.hour)
    for i in range(surge):
        at(burst + timedelta(minutes=rng.uniform(0, 120)), functools.partial(
            _act, kit.parts.special.record_caller, rng.choice(desk), msisdn=rng.choice(numbers), category=outage))

    def _clear_batches() -> None:
        for b in kit.parts.special.batches(state="warning"):
            _act(kit.parts.special.clear_warning, b.id, dept_actor.get(b.lead_department, manager), result="故障已排除")

    at(burst + timedelta(hours=6), _clear_batches)

    # complaints arrive mostly in the day, over `days` days
    for i in range(tickets):
        day = rng.randrange(days)
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1])[0]
        at(start + timedelta(days=day, hours=hour - start.hour, minutes=rng.uniform(0, 59)),
           functools.partial(intake, i))

    while queue:
        moment, _, action = heapq.heappop(queue)
        if moment > clock.now():
            clock.advance_to(moment)
        action()
        _settle(worker, sms)
    clock.advance(days=7)  # let the last return visits, follow-up windows and limits run out
    _settle(worker, sms)

    return summarize(kit, start, clock.now(), arbitrated=arbitrated)


def _settle(worker: Worker, sms: Sms) -> None:
    """Let the worker deliver and receive until nothing moves."""
    for _ in range(50):
        fired, received, sent = worker.run_once()
        if not (fired or received or sent):
            break


class WaitingTransport:
    """Wraps a real SMS transport so the demo can wait for a customer's SMS to come back.

    Over real SMPP a reply injected at the SMSC arrives a moment later on the bind; the virtual
    clock must not move on before the worker has seen it.
    """

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self._buffer: list[Any] = []

    def send_many(self, requests: Any) -> Any:
        return self.transport.send_many(requests)

    def drain_inbound(self) -> list[Any]:
        out = self._buffer + self.transport.drain_inbound()
        self._buffer = []
        return out

    def wait_for_inbound(self, kind: type, timeout: float = 10.0) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._buffer.extend(self.transport.drain_inbound())
            if any(isinstance(x, kind) for x in self._buffer):
                return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        self.transport.close()


def _known(standard: Any, code: str) -> bool:
    try:
        standard.category(code)
    except ComplaintKitError:
        return False
    return True


def _duration(text: str) -> Any:
    from complaintkit.core.calendar import Duration

    return Duration.parse(text)
