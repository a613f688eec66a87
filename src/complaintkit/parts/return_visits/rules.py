"""Return visits, remedy tickets and contact attempts (SPEC G1–G5) as pure rules.

* **G1** Every complaint gets a return visit within its ``return_visit`` limit (3 working days
  from the reply; G5: 48 h for install/move and repair orders). The visit is its own record; the
  deadline is *met when the visit is done* — an answered survey, a manual visit recorded, or the
  last failed attempt — not when the ticket is archived.
* **SMS surveys** go out from the service port with the province's template and answer codes.
  An answer is classified by its code (the words after it are kept); no answer within the
  survey's window is ``no_answer`` — never satisfied — and a phone visit takes over, due by the
  return-visit deadline.
* **G2** A dissatisfied SMS answer opens a phone visit due within the province's phone limit
  (1 working day): a ``phone_visit`` deadline on the ticket, with the usual near-overdue and
  overdue reminders.
* **G3** A dissatisfied visit, or one that finds a remaining problem, opens a remedy ticket
  (kind ``remedy``, parent = the complaint, 24 h) recording the reason and what the customer
  needs. A remedy ticket's own visit that is still dissatisfied, when the company was at fault or
  mishandled it, goes to the escalation flow (the ``complaintkit_escalation`` hook) and its final
  result is cleared: it may be archived only once the escalation's result is recorded.
* **G4** A manual visit that reaches nobody is tried ``attempts.count`` times (3), each in a
  different period of the day (province data), at least ``attempts.gap`` apart (1 h), all
  within the visit's limit; the kit schedules the next attempt and refuses one that breaks the
  rule. After the last failure the visit is done as ``unreachable`` and the ticket archived (when
  its handling record allows it, A5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.calendar import Duration
from complaintkit.core.errors import InvalidInput, RuleRefused
from complaintkit.core.model import (
    Deadline,
    Decision,
    Event,
    HandlingRecord,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
    Timer,
)
from complaintkit.engine.context import Context
from complaintkit.parts.intake import rules as lifecycle
from complaintkit.parts.return_visits.model import (
    Attempt,
    Visit,
    VisitChannel,
    VisitReason,
    VisitStatus,
)
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.standard.after_reply import ANSWERS

WINDOW_TIMER = "visit_window"
ATTEMPT_TIMER = "visit_attempt"
#: the ticket's deadline for G2's phone visit
PHONE_DEADLINE = "phone_visit"
#: the ticket's deadlines a done visit meets
VISIT_DEADLINES = ("return_visit", PHONE_DEADLINE)
#: the words recorded as the ticket's satisfaction (A5) for each outcome
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
                "unreachable": "未联系上", "no_answer": "未回复"}


@attrs.define(frozen=True)
class VisitDecision:
    """What a visit rule decided: the ticket's decisions (the complaint's, a new remedy ticket's)
    and the visits to write."""

    decisions: tuple[Decision, ...]
    visits: tuple[Visit, ...]
    result: Any = None


# -- helpers -------------------------------------------------------------------------------------


def _visitable(ticket: Ticket) -> None:
    if ticket.kind not in (TicketKind.NORMAL, TicketKind.REMEDY):
        raise RuleRefused(ticket.id, f"a {ticket.kind.value} ticket gets no return visit")
    if ticket.state not in (TicketState.REPLIED, TicketState.RETURN_VISIT):
        raise RuleRefused(ticket.id, f"a return visit follows the reply; the ticket is {ticket.state.value!r}")


def _into_visit(ticket: Ticket, ctx: Context) -> tuple[Ticket, list[Event]]:
    """REPLIED → RETURN_VISIT when the first visit starts (the lifecycle's own transition)."""
    if ticket.state is TicketState.REPLIED:
        changed, event = lifecycle._transition(ticket, "return_visit", ctx)
        return changed, [event]
    return ticket, []


def _next_id(ticket: Ticket, visits: Sequence[Visit]) -> str:
    return f"{ticket.id}-V{len(visits) + 1}"


def _limit(ticket: Ticket, ctx: Context) -> datetime:
    """The limit a new G1 visit runs against: the ticket's return-visit deadline."""
    deadline = ticket.deadline("return_visit")
    if deadline is not None and deadline.state in time_limits.OPEN_STATES:
        return deadline.due_at
    # no running deadline (the standard sets none, or it was met): the standard's limit from now
    limits, _ = time_limits.limits_for(ticket, ctx)
    return ctx.calendar.add(ctx.now, time_limits.duration(limits.get("return_visit", "3wd")))


def _done(ticket: Ticket, visit: Visit, outcome: str, ctx: Context, *, by: str, words: str = "") -> tuple[Ticket, Visit, list[str], dict[str, Any]]:
    """Close a visit: the ticket's visit deadlines are met and its handling record gets the
    contact and the satisfaction (A5). Returns the ticket, the visit, timers to cancel, met."""
    visit = attrs.evolve(visit, status=VisitStatus.DONE, outcome=outcome, done_at=ctx.now, by=by, words=words,
                         next_attempt_at=None)
    rec = ticket.record
    record = HandlingRecord(verification=rec.verification, contact_attempts=(*rec.contact_attempts, ctx.now),
                            final_result=rec.final_result, satisfaction=SATISFACTION.get(outcome, outcome))
    changed, cancel, met = time_limits.meet(attrs.evolve(ticket, record=record, updated_at=ctx.now), "visit", ctx)
    return changed, visit, [*cancel, f"{WINDOW_TIMER}:{visit.id}", f"{ATTEMPT_TIMER}:{visit.id}"], met


def _done_event(ticket: Ticket, visit: Visit, met: dict[str, Any], ctx: Context) -> Event:
    return time_limits.annotate(Event(
        ticket.id, ctx.now, ctx.actor.id, "return_visit_done",
        data={"visit_id": visit.id, "channel": visit.channel.value, "outcome": visit.outcome,
              "reason": visit.reason.value, **({"words": visit.words} if visit.words else {})}), met=met)


def _phone_visit(ticket: Ticket, visits: Sequence[Visit], reason: VisitReason, due: datetime,
                 ctx: Context) -> Visit:
    return Visit(_next_id(ticket, visits), ticket.id, ticket.customer.msisdn.digits, VisitChannel.PHONE,
                 VisitStatus.OPEN, reason, ctx.now, due)


# -- G1: the SMS survey ----------------------------------------------------------------------------


def send_survey(ticket: Ticket, visits: Sequence[Visit], ctx: Context) -> VisitDecision:
    """The return visit by SMS: the survey leaves through the outbox, an answer counts within the
    province's window (a timer closes it as ``no_answer`` after)."""
    _visitable(ticket)
    if any(v.is_open for v in visits):
        raise RuleRefused(ticket.id, "a return visit of this ticket is already open")
    survey = ctx.standard.return_visits.survey
    window_due = ctx.calendar.add(ctx.now, Duration.parse(survey.window))
    visit = Visit(_next_id(ticket, visits), ticket.id, ticket.customer.msisdn.digits, VisitChannel.SMS,
                  VisitStatus.OPEN, VisitReason.REPLY, ctx.now, _limit(ticket, ctx), window_due_at=window_due)
    settings = ctx.standard.settings
    message = OutgoingMessage(
        key=f"{visit.id}:survey", channel=MessageChannel.SMS, to=ticket.customer.msisdn.digits,
        sender=settings.service_port, ticket_id=ticket.id, template=survey.template,
        text=ctx.standard.render(survey.template, ticket_id=ticket.id, codes=survey.codes(),
                                 window=f"{Duration.parse(survey.window).amount:g}小时"))
    changed, events = _into_visit(ticket, ctx)
    events.append(Event(ticket.id, ctx.now, ctx.actor.id, "return_visit_survey_sent",
                        data={"visit_id": visit.id, "window_due_at": window_due.isoformat(),
                              "due_at": visit.due_at.isoformat()}))
    changed = attrs.evolve(changed, updated_at=ctx.now)
    decision = Decision(changed, tuple(events), (Timer(ticket.id, f"{WINDOW_TIMER}:{visit.id}", window_due),),
                        (), (message,))
    return VisitDecision((decision,), (visit,), visit)


def answer_survey(ticket: Ticket, visits: Sequence[Visit], visit_id: str, outcome: str, words: str,
                  ctx: Context) -> VisitDecision:
    """The customer's answer to a survey (already classified): the visit is done and meets the
    return-visit deadline; dissatisfied opens the phone visit of G2."""
    inputs.prose("words", words, limit="short")
    visit = _find(ticket, visits, visit_id)
    if not visit.is_open or visit.channel is not VisitChannel.SMS:
        raise RuleRefused(ticket.id, f"visit {visit_id} is not an open SMS survey")
    changed, done, cancel, met = _done(ticket, visit, outcome, ctx, by="customer", words=words)
    events = [_done_event(changed, done, met, ctx)]
    timers: list[Timer] = []
    written = [done]
    if outcome == "dissatisfied":
        limit = ctx.standard.return_visits.phone.limit
        due = ctx.calendar.add(ctx.now, Duration.parse(limit))
        phone = _phone_visit(changed, visits, VisitReason.SMS_DISSATISFIED, due, ctx)
        deadline = Deadline(PHONE_DEADLINE, ctx.now, due, limit,
                            provisional=time_limits.provisional(ctx, (limit, due)))
        changed = attrs.evolve(changed, deadlines=(*(d for d in changed.deadlines if d.name != PHONE_DEADLINE),
                                                   deadline))
        timers += time_limits.timers_for(changed.id, deadline, ctx)
        events.append(Event(changed.id, ctx.now, ctx.actor.id, "phone_visit_opened",
                            data={"visit_id": phone.id, "due_at": due.isoformat(), "limit": limit,
                                  "after": done.id}))
        written.append(phone)
    return VisitDecision((Decision(changed, tuple(events), tuple(timers), tuple(cancel)),), tuple(written), outcome)


def survey_expired(ticket: Ticket, visits: Sequence[Visit], visit_id: str, ctx: Context) -> VisitDecision | None:
    """The survey's window closed without an answer: ``no_answer`` (not satisfied); a phone visit
    takes over, due by the return-visit deadline (or the phone limit, when that has passed)."""
    visit = next((v for v in visits if v.id == visit_id), None)
    if visit is None or not visit.is_open:
        return None  # answered meanwhile: the timer has nothing to do
    done = attrs.evolve(visit, status=VisitStatus.DONE, outcome="no_answer", done_at=ctx.now, by="system")
    due = visit.due_at
    if due <= ctx.now:
        due = ctx.calendar.add(ctx.now, Duration.parse(ctx.standard.return_visits.phone.limit))
    phone = _phone_visit(ticket, visits, VisitReason.NO_ANSWER, due, ctx)
    event = Event(ticket.id, ctx.now, ctx.actor.id, "return_visit_no_answer",
                  data={"visit_id": visit.id, "phone_visit_id": phone.id, "due_at": due.isoformat()})
    changed = attrs.evolve(ticket, updated_at=ctx.now)
    return VisitDecision((Decision(changed, (event,)),), (done, phone))


# -- manual visits: recorded, or tried (G4) -------------------------------------------------------------


def _find(ticket: Ticket, visits: Sequence[Visit], visit_id: str) -> Visit:
    for v in visits:
        if v.id == visit_id:
            return v
    raise RuleRefused(ticket.id, f"no return visit {visit_id!r} on this ticket")


def _open_manual(ticket: Ticket, visits: Sequence[Visit], channel: VisitChannel, ctx: Context) -> Visit:
    """The ticket's open manual visit, or a new one against the return-visit deadline."""
    if any(v.is_open and v.channel is VisitChannel.SMS for v in visits):
        survey = next(v for v in visits if v.is_open and v.channel is VisitChannel.SMS)
        raise RuleRefused(ticket.id, f"the SMS survey {survey.id} waits for the customer's answer until "
                          f"{survey.window_due_at:%Y-%m-%d %H:%M}")
    found = next((v for v in reversed(visits) if v.is_open and v.is_manual), None)
    if found is not None:
        return attrs.evolve(found, channel=channel) if not found.attempts else found
    return Visit(_next_id(ticket, visits), ticket.id, ticket.customer.msisdn.digits, channel, VisitStatus.OPEN,
                 VisitReason.REPLY, ctx.now, _limit(ticket, ctx))


@attrs.define(frozen=True)
class VisitReport:
    """What a visitor found (G1, G3): the outcome, the customer's words, and for a remaining
    problem or dissatisfaction the reason and what the customer needs."""

    channel: VisitChannel
    outcome: str
    words: str = ""
    remaining_problem: bool = False
    reason: str = ""
    needs: str = ""
    #: a remedy ticket's visit: the company was at fault, or the complaint was mishandled (G3)
    company_at_fault: bool = False
    mishandled: bool = False

    def __attrs_post_init__(self) -> None:
        inputs.instance("channel", self.channel, kind=VisitChannel)
        if self.outcome not in ANSWERS:
            raise InvalidInput("outcome", f"{str(self.outcome)[:40]!r}: use one of {', '.join(ANSWERS)} "
                               "(a visit that reaches nobody is recorded as attempts)")
        inputs.prose("words", self.words, limit="short")
        inputs.prose("reason", self.reason)
        inputs.prose("needs", self.needs)
        for name in ("remaining_problem", "company_at_fault", "mishandled"):
            inputs.flag(name, getattr(self, name))

    @property
    def needs_remedy(self) -> bool:
        return self.outcome == "dissatisfied" or self.remaining_problem


def record_visit(ticket: Ticket, visits: Sequence[Visit], report: VisitReport, ctx: Context, *,
                 remedy_id: str) -> VisitDecision:
    """A visit by phone or in person that reached the customer: done, deadline met (G1). A
    dissatisfied customer or a remaining problem opens a remedy ticket (G3) — on a remedy ticket
    itself, dissatisfied with the company at fault or mishandling, the escalation flow instead."""
    _visitable(ticket)
    if report.channel is VisitChannel.SMS:
        raise InvalidInput("channel", "an SMS visit is answered by the customer, not recorded (send_survey)")
    if report.needs_remedy and not (report.reason.strip() and report.needs.strip()):
        raise InvalidInput("reason" if not report.reason.strip() else "needs",
                           "a dissatisfied customer or a remaining problem needs the reason and what the "
                           "customer needs recorded (G3)")
    visit = _open_manual(ticket, visits, report.channel, ctx)
    changed, events = _into_visit(ticket, ctx)
    changed, done, cancel, met = _done(changed, visit, report.outcome, ctx, by=ctx.actor.id, words=report.words)
    decisions: list[Decision] = []
    if report.needs_remedy and ticket.kind is TicketKind.NORMAL:
        remedy = open_remedy_ticket(changed, remedy_id, report.reason, report.needs, ctx)
        done = attrs.evolve(done, remedy_id=remedy_id)
        decisions.append(remedy)
    events.append(_done_event(changed, done, met, ctx))
    if report.needs_remedy and ticket.kind is TicketKind.NORMAL:
        events.append(Event(changed.id, ctx.now, ctx.actor.id, "remedy_opened",
                            data={"remedy_id": remedy_id, "visit_id": done.id, "reason": report.reason,
                                  "needs": report.needs}))
    if (ticket.kind is TicketKind.REMEDY and report.outcome == "dissatisfied"
            and (report.company_at_fault or report.mishandled)):
        changed, escalation = escalate(changed, ctx, source="remedy", reason=report.reason or report.words,
                                       company_at_fault=report.company_at_fault, mishandled=report.mishandled)
        events.append(escalation)
    decisions.insert(0, Decision(changed, tuple(events), (), tuple(cancel)))
    return VisitDecision(tuple(decisions), (done,), done)


def escalate(ticket: Ticket, ctx: Context, *, source: str, reason: str, **facts: Any) -> tuple[Ticket, Event]:
    """Send a ticket to the escalation flow (F2, G3): the ``escalate`` event, after whose commit
    the ``complaintkit_escalation`` hook is called once. The final result is cleared: the
    escalation's own result must be recorded before the ticket may be archived (A5)."""
    record = attrs.evolve(ticket.record, final_result="")
    event = Event(ticket.id, ctx.now, ctx.actor.id, "escalate", reason=reason,
                  data={"source": source, "previous_result": ticket.record.final_result, **facts})
    return attrs.evolve(ticket, record=record, updated_at=ctx.now), event


def attempt(ticket: Ticket, visits: Sequence[Visit], ctx: Context, *, channel: VisitChannel = VisitChannel.PHONE,
            note: str = "") -> VisitDecision:
    """A manual visit's attempt that reached nobody (G4). Refused when it is one too many, less
    than the gap after the last, in a period already tried, outside every period, or past the
    visit's limit. Otherwise recorded; the next attempt is scheduled (a timer), or after the last
    failure the visit is done as unreachable and the ticket archived when A5 allows it."""
    inputs.prose("note", note, limit="short")
    _visitable(ticket)
    rules = ctx.standard.return_visits.attempts
    if visits and not any(v.is_open for v in visits) and visits[-1].outcome == "unreachable":
        raise RuleRefused(ticket.id, f"visit {visits[-1].id} was already tried {len(visits[-1].attempts)} times "
                          "and closed as unreachable (G4)")
    visit = _open_manual(ticket, visits, channel, ctx)
    local = ctx.now.astimezone(ctx.calendar.tz)
    if len(visit.attempts) >= rules.count:
        raise RuleRefused(ticket.id, f"visit {visit.id} was already tried {rules.count} times (G4)")
    if ctx.now > visit.due_at:
        raise RuleRefused(ticket.id, f"visit {visit.id}: its limit passed at {visit.due_at:%Y-%m-%d %H:%M}; "
                          "every attempt must be within it (G4)")
    gap = time_limits.natural(rules.gap)
    if visit.attempts and ctx.now - visit.attempts[-1].at < gap:
        raise RuleRefused(ticket.id, f"visit {visit.id}: the last attempt was at "
                          f"{visit.attempts[-1].at.astimezone(ctx.calendar.tz):%H:%M}; attempts must be at "
                          f"least {rules.gap} apart (G4)")
    period = rules.period_of(local.time())
    if period is None:
        raise RuleRefused(ticket.id, f"{local:%H:%M} is in none of the contact periods "
                          f"({', '.join(f'{p.name} {p.hours}' for p in rules.period)})")
    if any(a.period == period.name for a in visit.attempts):
        raise RuleRefused(ticket.id, f"visit {visit.id}: the {period.name} was already tried; each attempt "
                          "in a different period (G4)")
    visit = attrs.evolve(visit, attempts=(*visit.attempts, Attempt(ctx.now, period.name, ctx.actor.id, note)))
    changed, events = _into_visit(ticket, ctx)
    number = len(visit.attempts)
    rec = changed.record
    changed = attrs.evolve(changed, updated_at=ctx.now,
                           record=attrs.evolve(rec, contact_attempts=(*rec.contact_attempts, ctx.now)))
    if number >= rules.count:
        changed, done, cancel, met = _done(changed, visit, "unreachable", ctx, by=ctx.actor.id)
        # the record's contact list already has this attempt
        changed = attrs.evolve(changed, record=attrs.evolve(changed.record,
                                                             contact_attempts=changed.record.contact_attempts[:-1]))
        events.append(Event(changed.id, ctx.now, ctx.actor.id, "contact_attempt",
                            data={"visit_id": visit.id, "attempt": number, "period": period.name}))
        events.append(_done_event(changed, done, met, ctx))
        decision = Decision(changed, tuple(events), (), tuple(cancel))
        if not changed.record.missing():
            archived = lifecycle.archive(changed, ctx, reason=f"unreachable after {number} attempts (G4)")
            decision = Decision(archived.ticket, decision.events + archived.events, (),
                                decision.cancel_timers + archived.cancel_timers)
        return VisitDecision((decision,), (done,), done)
    following = next_attempt(visit, ctx)
    visit = attrs.evolve(visit, next_attempt_at=following)
    events.append(Event(changed.id, ctx.now, ctx.actor.id, "contact_attempt",
                        data={"visit_id": visit.id, "attempt": number, "period": period.name,
                              "next_attempt_at": following.isoformat() if following else None}))
    timers = (Timer(changed.id, f"{ATTEMPT_TIMER}:{visit.id}", following),) if following else ()
    return VisitDecision((Decision(changed, tuple(events), timers),), (visit,), visit)


def next_attempt(visit: Visit, ctx: Context) -> datetime | None:
    """The earliest moment the next attempt may be made: at least the gap after the last, in a
    period not yet tried, within the visit's limit; ``None`` when no such moment is left."""
    rules = ctx.standard.return_visits.attempts
    tried = {a.period for a in visit.attempts}
    earliest = (visit.attempts[-1].at if visit.attempts else ctx.now) + time_limits.natural(rules.gap)
    tz = ctx.calendar.tz
    day = earliest.astimezone(tz).date()
    best: datetime | None = None
    for offset in range(15):
        for period in rules.period:
            if period.name in tried:
                continue
            start, _ = period.span()
            opening = datetime.combine(day + timedelta(days=offset), start, tzinfo=tz)
            candidate = max(opening, earliest)
            if not period.holds(candidate.astimezone(tz).time()) or candidate.date() != opening.date():
                continue
            if candidate <= visit.due_at and (best is None or candidate < best):
                best = candidate
        if best is not None:
            return best
    return None


def attempt_due(ticket: Ticket, timer: Timer, ctx: Context) -> Decision:
    """The scheduled attempt's time came: an event for the visitors' queue."""
    if not ticket.is_open:
        return Decision(ticket)
    visit_id = timer.name.partition(":")[2]
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, "contact_attempt_due",
                                   data={"visit_id": visit_id}),))


# -- G3: the remedy ticket ---------------------------------------------------------------------------


def open_remedy_ticket(parent: Ticket, remedy_id: str, reason: str, needs: str, ctx: Context) -> Decision:
    """A new ticket of kind ``remedy`` continuing ``parent``: the reason and what the customer
    needs recorded, its own limits (24 h, SPEC G3) from now."""
    inputs.prose("reason", reason, required=True, blank="a remedy ticket records why the customer is not satisfied")
    inputs.prose("needs", needs, required=True, blank="a remedy ticket records what the customer needs")
    if parent.kind is not TicketKind.NORMAL:
        raise RuleRefused(parent.id, f"a remedy ticket continues a complaint, not a {parent.kind.value} ticket")
    intake = lifecycle.Intake(customer=parent.customer, channel=parent.channel, category=parent.category,
                              description=f"投诉补救（{parent.id}）：{reason}\n客户需求：{needs}",
                              kind=TicketKind.REMEDY, parent_id=parent.id)
    decision = lifecycle.accept(remedy_id, intake, ctx)
    ticket = attrs.evolve(decision.ticket, notes=(f"补救原因：{reason}", f"客户需求：{needs}"))
    first = attrs.evolve(decision.events[0], data={**decision.events[0].data, "parent_id": parent.id,
                                                   "reason": reason, "needs": needs})
    return attrs.evolve(decision, ticket=ticket, events=(first, *decision.events[1:]))


__all__ = ["ATTEMPT_TIMER", "PHONE_DEADLINE", "WINDOW_TIMER", "VisitDecision", "VisitReport", "answer_survey",
           "attempt", "attempt_due", "escalate", "next_attempt", "open_remedy_ticket", "record_visit",
           "send_survey", "survey_expired"]
