"""Online follow-up (在线处理跟进, SPEC B1–B5).

A problem solved online (restart the phone, refresh the data …) becomes a follow-up ticket that
skips normal routing (B1). At its problem type's delay the customer gets a confirmation SMS from
the service port (B2). A reply with the province's code within the window (12 h by default)
turns it into a normal complaint and the customer is told so (B3); no reply means solved and the
ticket is archived (B4).

Which follow-up a reply belongs to, when one customer has several open: the one whose
confirmation SMS went out most recently and whose window is still open — that is the SMS the
customer is answering. Follow-ups whose SMS has not gone out yet cannot be answered.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime

import attrs

from complaintkit.core import inputs
from complaintkit.core.calendar import Duration
from complaintkit.core.model import (
    Deadline,
    DeadlineState,
    Decision,
    Event,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
    Timer,
)
from complaintkit.engine.context import Context
from complaintkit.parts.intake import rules as lifecycle
from complaintkit.parts.time_limits import rules as time_limits

SMS_TIMER = "follow_up_sms"
WINDOW_TIMER = "follow_up_window"
WINDOW = "follow_up_reply"


def open_follow_up(ticket_id: str, intake: lifecycle.Intake, ctx: Context) -> Decision:
    problem = ctx.standard.follow_up_type(intake.problem_type)
    ticket = lifecycle.new_ticket(ticket_id, attrs.evolve(intake, kind=TicketKind.ONLINE_FOLLOW_UP,
                                                          problem_type=problem.code),
                                  ctx, state=TicketState.FOLLOW_UP)
    send_at = ctx.calendar.add(ctx.now, Duration.parse(problem.delay))
    event = Event(ticket_id, ctx.now, ctx.actor.id, "open_follow_up", to_state=TicketState.FOLLOW_UP,
                  data={"problem_type": problem.code, "sms_at": send_at.isoformat()})
    return Decision(ticket, (event,), (Timer(ticket_id, SMS_TIMER, send_at),))


def on_timer(ticket: Ticket, timer: Timer, ctx: Context) -> Decision:
    if ticket.state is not TicketState.FOLLOW_UP:
        return Decision(ticket)  # converted or closed meanwhile: the timer has nothing to do
    if timer.name == SMS_TIMER:
        return _send_confirmation(ticket, ctx)
    if timer.name == WINDOW_TIMER:
        changed, event = lifecycle._transition(ticket, "close_follow_up", ctx,
                                               reason="no reply within the window: solved")
        changed = _settle_window(changed, ctx, DeadlineState.MET)
        return Decision(changed, (event,))
    return Decision(ticket)


def _send_confirmation(ticket: Ticket, ctx: Context) -> Decision:
    problem = ctx.standard.follow_up_type(ticket.problem_type)
    settings = ctx.standard.settings
    due = ctx.calendar.add(ctx.now, Duration.parse(settings.follow_up_window))
    message = OutgoingMessage(
        key=f"{ticket.id}:{SMS_TIMER}",
        channel=MessageChannel.SMS,
        to=ticket.customer.msisdn.digits,
        sender=settings.service_port,
        text=ctx.standard.render(problem.template, problem=problem.name, ticket_id=ticket.id),
        ticket_id=ticket.id,
        template=problem.template,
    )
    window = Deadline(WINDOW, ctx.now, due, settings.follow_up_window)
    changed = attrs.evolve(ticket, deadlines=(*ticket.deadlines, window), updated_at=ctx.now)
    event = Event(ticket.id, ctx.now, ctx.actor.id, "follow_up_sms_sent",
                  data={"template": problem.template, "window_due_at": due.isoformat()})
    return Decision(changed, (event,), (Timer(ticket.id, WINDOW_TIMER, due),), (), (message,))


def _settle_window(ticket: Ticket, ctx: Context, state: DeadlineState) -> Ticket:
    return attrs.evolve(ticket, deadlines=tuple(
        attrs.evolve(d, state=state, met_at=ctx.now) if d.name == WINDOW else d for d in ticket.deadlines))


def match_reply(candidates: Sequence[Ticket], at: datetime) -> Ticket | None:
    """The documented rule: the open follow-up with the latest SMS whose window holds ``at``."""
    best: Ticket | None = None
    for t in candidates:
        window = t.deadline(WINDOW)
        if t.state is not TicketState.FOLLOW_UP or window is None:
            continue
        if not window.started_at <= at <= window.due_at:
            continue
        if best is None or window.started_at > best.deadline(WINDOW).started_at:  # type: ignore[union-attr]
            best = t
    return best


def latest_expired(candidates: Sequence[Ticket], at: datetime) -> Ticket | None:
    """For a late reply: the follow-up whose window closed most recently before ``at``."""
    closed = [t for t in candidates if (w := t.deadline(WINDOW)) is not None and w.due_at < at]
    return max(closed, key=lambda t: t.deadline(WINDOW).due_at, default=None)  # type: ignore[union-attr]


@attrs.define(frozen=True)
class Reply:
    """What a customer's SMS to the service port is (SPEC B3, B5)."""

    #: converted | unknown_code | late | unmatched
    outcome: str
    #: the follow-up it concerns, if any
    ticket: Ticket | None
    #: the answer's template, unless it converts (then ``follow_up_converted`` answers)
    template: str = ""


def classify_reply(candidates: Sequence[Ticket], text: str, ctx: Context) -> Reply:
    """Which follow-up a reply from one number belongs to, and what it means.

    The code inside a window converts the follow-up it matches (:func:`match_reply`); other text
    inside a window is an unknown code; the code after every window closed is late; anything
    else matches nothing. Only a conversion changes a ticket; the rest are answered politely.
    The text is compared after NFKC normalisation: a phone's IME may send the full-width "１".
    """
    inputs.prose("sms.text", text)
    target = match_reply(candidates, ctx.now)
    is_code = is_reply_code(text, ctx.standard.settings.follow_up_reply_code)
    if target is not None:
        return Reply("converted", target) if is_code else Reply("unknown_code", target, "reply_unknown_code")
    if is_code and (late := latest_expired(candidates, ctx.now)) is not None:
        return Reply("late", late, "reply_late")
    return Reply("unmatched", None, "reply_unmatched")


def is_reply_code(text: str, code: str) -> bool:
    """Whether a customer's SMS is the reply code: ``１`` and `` 1 `` are ``1``."""
    return unicodedata.normalize("NFKC", text).strip() == unicodedata.normalize("NFKC", code).strip()


def convert(ticket: Ticket, ctx: Context, *, text: str, by: str = "sms") -> Decision:
    """A reply with the code — or a call to the fast-service number (``by="call"``) — inside the
    window: a normal complaint from now on (B3). A reply is answered by SMS; a caller hears the
    standard's ``fast_service_prompt`` instead (:func:`voice_prompt`)."""
    inputs.prose("sms.text", text)
    changed, event = lifecycle._transition(ticket, "convert", ctx, reason="customer replied: problem remains"
                                           if by == "sms" else "customer called: problem remains", reply=text, by=by)
    changed = _settle_window(attrs.evolve(changed, kind=TicketKind.NORMAL), ctx, DeadlineState.MET)
    changed, timers, started = time_limits.start(changed, ("total", "dispatch", "reply"), ctx)
    event = time_limits.annotate(event, started=started)
    settings = ctx.standard.settings
    message = OutgoingMessage(
        key=f"{ticket.id}:follow_up_converted",
        channel=MessageChannel.SMS,
        to=ticket.customer.msisdn.digits,
        sender=settings.service_port,
        text=ctx.standard.render("follow_up_converted", ticket_id=ticket.id),
        ticket_id=ticket.id,
        template="follow_up_converted",
    )
    # B3: from now on it is routed like any new complaint (D1, D2, A6)
    messages = (message,) if by == "sms" else ()
    return lifecycle.route_new(Decision(changed, (event,), tuple(timers), (WINDOW_TIMER,), messages), ctx)


#: what a caller hears when the standard has no ``fast_service_prompt`` template
DEFAULT_PROMPT = "您反映的问题我们将为您进一步处理，处理结果将及时告知您。"


def voice_prompt(ctx: Context, *, outcome: str, ticket_id: str = "") -> str:
    """The IVR's words for a call (B3): the standard's ``fast_service_prompt`` when it converts;
    otherwise the text of the SMS answer the same outcome would get (B5)."""
    if outcome == "converted":
        if "fast_service_prompt" in ctx.standard.templates:
            return ctx.standard.render("fast_service_prompt", ticket_id=ticket_id)
        return DEFAULT_PROMPT
    return ctx.standard.render("reply_late" if outcome == "late" else "reply_unmatched")


def answer_unmatched(key: str, sender: str, template: str, ctx: Context) -> OutgoingMessage:
    """The polite answer to a reply that is late, unknown or matches nothing (B5)."""
    settings = ctx.standard.settings
    return OutgoingMessage(
        key=key,
        channel=MessageChannel.SMS,
        to=sender,
        sender=settings.service_port,
        text=ctx.standard.render(template),
        template=template,
    )
