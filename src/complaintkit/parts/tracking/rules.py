"""Tracking long cases (追踪处理, SPEC F1, F2) as pure rules.

* **F1** A complaint whose expected resolution (given by the handler) is more than the
  province's ``threshold_days`` (10) natural days away gets the *tracking* marker.
* **The tracking times** are computed from the first reply and the expected resolution: the
  ``rounds`` (2) tracking times are spread evenly between them — round *k* of *N* falls at
  ``first reply + k/N × (expected − first reply)``: with two rounds, half-way and at the expected
  date. Marked before the first reply, the first time is set when the first reply is made.
* At each tracking time, unless the final result was replied meanwhile, the ticket is
  re-activated (handled again, its reply and handling limits started again) and the customer gets
  the progress by SMS through the outbox (``tracking_progress``).
* **F2** The last round without the final result replied sends the ticket to the escalation flow
  (the ``complaintkit_escalation`` hook, called once). A tracked ticket is replied through
  ``kit.parts.tracking.reply`` — a progress reply, or ``final=True`` with the final result — and
  may be archived only after the final reply.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput, RuleRefused
from complaintkit.core.model import (
    Decision,
    Event,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    TicketState,
    Timer,
)
from complaintkit.engine.context import Context
from complaintkit.parts.intake import rules as lifecycle
from complaintkit.parts.return_visits.rules import escalate
from complaintkit.parts.tracking.store import Tracking

TIMER = "tracking"


def mark(ticket: Ticket, row: Tracking | None, expected: datetime, ctx: Context) -> tuple[Decision, Tracking]:
    """Give a complaint the tracking marker (F1)."""
    inputs.instance("expected", expected, kind=datetime)
    if expected.tzinfo is None:
        raise InvalidInput("expected", "give the expected resolution with its time zone (+08:00)")
    if not ticket.is_open:
        raise RuleRefused(ticket.id, "an archived ticket is not tracked")
    if row is not None:
        raise RuleRefused(ticket.id, "the ticket is already tracked")
    rules = ctx.standard.tracking
    if expected - ctx.now <= timedelta(days=rules.threshold_days):
        raise RuleRefused(ticket.id, f"the expected resolution {expected:%Y-%m-%d} is not more than "
                          f"{rules.threshold_days} days away: no tracking (F1)")
    ctx.standard.template(rules.template)  # the progress SMS must be sendable when its time comes
    reply = ticket.deadline("reply")
    first = reply.met_at if reply is not None and ticket.state in (TicketState.REPLIED, TicketState.RETURN_VISIT) else None
    tracking = Tracking(ticket.id, expected, ctx.now, first_reply_at=first)
    changed = attrs.evolve(ticket, markers=ticket.markers | {Marker.TRACKING}, updated_at=ctx.now)
    event = Event(ticket.id, ctx.now, ctx.actor.id, "tracking_marked",
                  data={"expected_at": expected.isoformat()})
    timers = _next(tracking, ctx)
    if timers:
        event = attrs.evolve(event, data={**event.data, "tracking_at": timers[0].due_at.isoformat()})
    return Decision(changed, (event,), tuple(timers)), tracking


def round_at(tracking: Tracking, k: int, rounds: int) -> datetime:
    """Round ``k`` (1-based) of ``rounds``: ``k/rounds`` of the way from the first reply to the
    expected resolution."""
    assert tracking.first_reply_at is not None
    span = tracking.expected_at - tracking.first_reply_at
    return tracking.first_reply_at + span * k / rounds


def _next(tracking: Tracking, ctx: Context) -> list[Timer]:
    rounds = ctx.standard.tracking.rounds
    if tracking.first_reply_at is None or tracking.final_replied_at is not None or tracking.rounds >= rounds:
        return []
    # one name per round: the round that fires sets the next without cancelling itself
    number = tracking.rounds + 1
    return [Timer(tracking.ticket_id, f"{TIMER}:{number}", round_at(tracking, number, rounds))]


def reply(ticket: Ticket, row: Tracking | None, ctx: Context, *, result: str, final: bool) -> tuple[Decision, Tracking]:
    """A tracked complaint's reply: progress, or the final result (F2). The first one sets the
    first tracking time."""
    inputs.flag("final", final)
    if row is None:
        raise RuleRefused(ticket.id, "the ticket is not tracked; reply with kit.reply")
    if row.final_replied_at is not None:
        raise RuleRefused(ticket.id, "the final result was already replied")
    decision = lifecycle.reply(ticket, ctx, result=result)
    tracking = row
    if tracking.first_reply_at is None:
        tracking = attrs.evolve(tracking, first_reply_at=ctx.now)
    changed = decision.ticket
    if final:
        tracking = attrs.evolve(tracking, final_replied_at=ctx.now)
        changed = attrs.evolve(changed, record=attrs.evolve(changed.record, final_result=result))
    timers = () if final else tuple(_next(tracking, ctx)) if row.first_reply_at is None else ()
    event = Event(ticket.id, ctx.now, ctx.actor.id, "tracking_reply",
                  data={"final": final, **({"tracking_at": timers[0].due_at.isoformat()} if timers else {})})
    cancel = tuple(f"{TIMER}:{k}" for k in range(1, ctx.standard.tracking.rounds + 1)) if final else ()
    return Decision(changed, (*decision.events, event), decision.set_timers + timers,
                    decision.cancel_timers + cancel), tracking


def tracking_round(ticket: Ticket, row: Tracking | None, ctx: Context) -> tuple[Decision, Tracking] | None:
    """A tracking time came: re-activate, tell the customer the progress, and after the last
    round escalate (F1, F2). Nothing when the final result was replied or the ticket archived."""
    if row is None or row.final_replied_at is not None or not ticket.is_open:
        return None
    rules = ctx.standard.tracking
    number = row.rounds + 1
    events: list[Event] = []
    timers: list[Timer] = []
    cancel: list[str] = []
    changed = ticket
    if ticket.state in (TicketState.REPLIED, TicketState.RETURN_VISIT):
        reactivated = lifecycle.reactivate(ticket, ctx, reason=f"tracking round {number} (F1)")
        changed = reactivated.ticket
        events += reactivated.events
        timers += reactivated.set_timers
        cancel += reactivated.cancel_timers
    tracking = attrs.evolve(row, rounds=number)
    events.append(Event(ticket.id, ctx.now, ctx.actor.id, "tracking_round",
                        data={"round": number, "of": rules.rounds, "expected_at": row.expected_at.isoformat()}))
    settings = ctx.standard.settings
    local = row.expected_at.astimezone(ctx.calendar.tz)
    message = OutgoingMessage(
        key=f"{ticket.id}:tracking:{number}", channel=MessageChannel.SMS, to=ticket.customer.msisdn.digits,
        sender=settings.service_port, ticket_id=ticket.id, template=rules.template,
        text=ctx.standard.render(rules.template, ticket_id=ticket.id, round=number, expected=f"{local:%Y-%m-%d}"))
    if number >= rules.rounds and row.escalated_at is None:
        changed, escalation = escalate(changed, ctx, source="tracking",
                                       reason=f"{number} tracking rounds without resolution (F2)")
        events.append(escalation)
        tracking = attrs.evolve(tracking, escalated_at=ctx.now)
    else:
        timers += _next(tracking, ctx)
    changed = attrs.evolve(changed, updated_at=ctx.now)
    return Decision(changed, tuple(events), tuple(timers), tuple(cancel), (message,)), tracking


def must_reply_through_tracking(decision: Decision, _facts: Any, ctx: Context) -> None:
    """Veto of ``reply``: a tracked complaint is replied as progress or final (F2)."""
    if Marker.TRACKING in decision.ticket.markers and not any(e.kind == "tracking_reply" for e in decision.events):
        raise RuleRefused(decision.ticket.id, "a tracked complaint is replied through kit.parts.tracking.reply "
                          "(a progress reply, or final=True with the final result)")


def final_reply_before_archive(decision: Decision, facts: Tracking | None, ctx: Context) -> None:
    """Veto of ``archive``: a tracked complaint only after its final result was replied (F2)."""
    if Marker.TRACKING in decision.ticket.markers and (facts is None or facts.final_replied_at is None):
        raise RuleRefused(decision.ticket.id, "cannot archive a tracked complaint before its final result "
                          "has been replied to the customer (F2)")


__all__ = ["TIMER", "final_reply_before_archive", "mark", "must_reply_through_tracking", "reply", "round_at",
           "tracking_round"]
