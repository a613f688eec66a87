"""The ticket lifecycle (SPEC A2–A5) as an explicit state machine.

::

    accepted ──dispatch / handle──▶ in_handling ──reply──▶ replied ──return_visit──▶ return_visit
        │                              │  ▲                                               │
        │                         forward / warm_transfer                              archive
        │                                                                                 ▼
        └────────────── (online follow-up: follow_up ──convert──▶ accepted) ────────▶ archived

Every action is checked against :data:`TRANSITIONS`; anything else raises
:class:`~complaintkit.core.errors.IllegalTransition` naming the ticket, its state and what is allowed.
Every change is an :class:`~complaintkit.core.model.Event` with actor, time and reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import IllegalTransition, InvalidInput, RuleRefused
from complaintkit.core.model import (
    Channel,
    Customer,
    Decision,
    Event,
    HandlingRecord,
    Marker,
    Ticket,
    TicketKind,
    TicketState,
    Urgency,
)
from complaintkit.engine.context import Context
from complaintkit.parts.dispatch import rules as dispatch_rules
from complaintkit.parts.special import rules as special_rules
from complaintkit.parts.time_limits import rules as time_limits

S = TicketState

#: (state, action) → the state the action leads to
TRANSITIONS: dict[tuple[TicketState, str], TicketState] = {
    (S.ACCEPTED, "dispatch"): S.IN_HANDLING,
    (S.ACCEPTED, "handle"): S.IN_HANDLING,
    (S.ACCEPTED, "warm_transfer"): S.ACCEPTED,
    (S.ACCEPTED, "record"): S.ACCEPTED,
    (S.IN_HANDLING, "forward"): S.IN_HANDLING,
    (S.IN_HANDLING, "warm_transfer"): S.IN_HANDLING,
    (S.IN_HANDLING, "record"): S.IN_HANDLING,
    (S.IN_HANDLING, "reply"): S.REPLIED,
    (S.REPLIED, "record"): S.REPLIED,
    (S.REPLIED, "return_visit"): S.RETURN_VISIT,
    (S.REPLIED, "reactivate"): S.IN_HANDLING,
    (S.RETURN_VISIT, "record"): S.RETURN_VISIT,
    (S.RETURN_VISIT, "archive"): S.ARCHIVED,
    (S.RETURN_VISIT, "reactivate"): S.IN_HANDLING,
    (S.FOLLOW_UP, "convert"): S.ACCEPTED,
    (S.FOLLOW_UP, "close_follow_up"): S.ARCHIVED,
}


def allowed_actions(state: TicketState) -> list[str]:
    return sorted(action for (s, action) in TRANSITIONS if s is state)


def _transition(ticket: Ticket, action: str, ctx: Context, *, reason: str = "",
                changes: dict[str, Any] | None = None, **data: Any) -> tuple[Ticket, Event]:
    """Check ``action`` against the state machine; the moved ticket (with ``changes``) and its event."""
    target = TRANSITIONS.get((ticket.state, action))
    if target is None:
        raise IllegalTransition(ticket.id, ticket.state.value, action, allowed_actions(ticket.state))
    event = Event(
        ticket.id, ctx.now, ctx.actor.id, action, reason=reason,
        from_state=ticket.state, to_state=target, data=dict(data),
    )
    return attrs.evolve(ticket, state=target, updated_at=ctx.now, **(changes or {})), event


def _markers(_instance: Any, _attribute: Any, value: Any) -> None:
    inputs.instance("markers", value, kind=frozenset)
    for marker in value:
        inputs.instance("markers", marker, kind=Marker)


def _optional_urgency(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        inputs.instance("urgency", value, kind=Urgency)


@attrs.define(frozen=True)
class Intake:
    """What the front desk (or a channel) knows when a complaint comes in; an intake that could
    not be stored (wrong types, control characters, oversized text) cannot be built."""

    customer: Customer = attrs.field(validator=inputs.validator("customer", inputs.instance, kind=Customer))
    channel: Channel = attrs.field(validator=inputs.validator("channel", inputs.instance, kind=Channel))
    category: str = attrs.field(validator=inputs.validator("category", inputs.line, limit="category"))
    description: str = attrs.field()
    urgency: Urgency | None = attrs.field(default=None, validator=_optional_urgency)
    kind: TicketKind = attrs.field(default=TicketKind.NORMAL,
                                   validator=inputs.validator("kind", inputs.instance, kind=TicketKind))
    problem_type: str = attrs.field(default="", validator=inputs.validator("problem_type", inputs.line,
                                                                           limit="code"))
    markers: frozenset[Marker] = attrs.field(default=frozenset(), validator=_markers)
    parent_id: str = attrs.field(default="", validator=inputs.validator("parent_id", inputs.line,
                                                                         limit="ticket_id"))
    #: the channel's reference to the call recording (quality inspection, SPEC I1)
    recording: str = attrs.field(default="", validator=inputs.validator("recording", inputs.line, limit="short"))
    max_description: int = attrs.field(default=inputs.LIMITS["prose"], validator=inputs.validator(
        "max_description", inputs.whole_number, low=1, high=inputs.LIMITS["prose"]))

    @description.validator
    def _check_description(self, _attribute: Any, value: Any) -> None:
        # attrs validates after every field is set, so the bound may come from max_description
        inputs.prose("description", value, limit=self.max_description)


def new_ticket(ticket_id: str, intake: Intake, ctx: Context, *, state: TicketState) -> Ticket:
    """The ticket an intake creates, validated: known category, a description within bounds.

    The accepting person becomes its owner of record (A3) and first handler.
    """
    category = ctx.standard.category(intake.category)
    if not intake.description.strip():
        raise InvalidInput("description", "a complaint needs a description")
    urgency = intake.urgency or category.urgency
    if Marker.MAJOR in intake.markers:
        urgency = Urgency.URGENT
    return Ticket(
        id=ticket_id,
        kind=intake.kind,
        state=state,
        customer=intake.customer,
        channel=intake.channel,
        category=intake.category,
        description=intake.description,
        urgency=urgency,
        created_at=ctx.now,
        updated_at=ctx.now,
        owner=ctx.actor.id,
        handler=ctx.actor.id,
        department=ctx.actor.department,
        recording=intake.recording,
        markers=intake.markers,
        problem_type=intake.problem_type,
        parent_id=intake.parent_id,
    )


def accept(ticket_id: str, intake: Intake, ctx: Context, *, previous: Sequence[Ticket] = ()) -> Decision:
    """Accept (受理) a complaint: the accepting person becomes its owner of record (A3).

    ``previous``: the customer's tickets of the repeat window (E3), when the command read them;
    a repeat complaint is marked, handled at the repeat urgency and routed up (D6). Then the new
    complaint enters routing (:func:`route_new`).
    """
    ticket = new_ticket(ticket_id, intake, ctx, state=TicketState.ACCEPTED)
    data: dict[str, Any] = {"channel": intake.channel.value, "category": intake.category,
                            "kind": intake.kind.value}
    earlier = special_rules.repeat_of(ticket, previous, ctx) if previous else None
    if earlier is not None:
        ticket = special_rules.mark_repeat(ticket, ctx)
        data["repeat_of"] = earlier.id
    data["urgency"] = ticket.urgency.value
    accepted = Event(ticket.id, ctx.now, ctx.actor.id, "accept", to_state=TicketState.ACCEPTED, data=data)
    ticket, timers, started = time_limits.start(ticket, ("total", "dispatch", "reply"), ctx)
    decision = Decision(ticket, (time_limits.annotate(accepted, started=started),), tuple(timers))
    return route_new(decision, ctx, repeat=earlier is not None)


def route_new(decision: Decision, ctx: Context, *, repeat: bool = False) -> Decision:
    """A new complaint — accepted, or a follow-up the customer converted (B3) — enters routing.

    D2: a category the dispatch standard sends directly (a ``direct`` route for the customer's
    area, else the category's own ``department``) is dispatched at once, skipping the pool.
    A6: any other lands in its business line's queue (a back-office pool or a specialist seat).
    D6: a repeat complaint, or a route marked ``high_skill``, goes to a high-skill handler.
    The queue is recorded on the decision's last event.
    """
    ticket = decision.ticket
    if ticket.kind is not TicketKind.NORMAL:
        return decision
    standard = ctx.standard
    route = standard.dispatch.route_for(standard.category_path(ticket.category), ticket.customer.city)
    target = route.department if route is not None and route.direct else standard.category(ticket.category).department
    if target:
        return dispatch(ticket, target, ctx, reason="direct dispatch", prior=decision)
    high = repeat or (route is not None and route.high_skill)
    placed, info = dispatch_rules.place_new(ticket, ctx, high_skill=high, why="repeat" if repeat else "route")
    if not info:
        return decision
    last = decision.events[-1]
    events = (*decision.events[:-1], attrs.evolve(last, data={**last.data, **info}))
    return attrs.evolve(decision, ticket=placed, events=events)


def dispatch(ticket: Ticket, department: str, ctx: Context, *, reason: str = "", prior: Decision | None = None) -> Decision:
    inputs.line("department", department, limit="department")
    inputs.prose("reason", reason)
    ctx.standard.department(department)
    changed, event = _transition(ticket, "dispatch", ctx, reason=reason, department=department,
                                 changes={"department": department, "handler": f"dept:{department}"})
    changed, cancel, met = time_limits.meet(changed, "dispatch", ctx)
    changed, timers, started = time_limits.start(changed, ("handling",), ctx)
    event = time_limits.annotate(event, started=started, met=met)
    return _merge(prior, Decision(changed, (event,), tuple(timers), tuple(cancel)))


def handle(ticket: Ticket, ctx: Context, *, reason: str = "self-handling") -> Decision:
    """The service centre handles the ticket itself (A5), in priority order."""
    inputs.prose("reason", reason)
    changed, event = _transition(ticket, "handle", ctx, reason=reason)
    changed = attrs.evolve(changed, handler=ctx.actor.id, department=ctx.actor.department or changed.department)
    changed, cancel, met = time_limits.meet(changed, "dispatch", ctx)
    return Decision(changed, (time_limits.annotate(event, met=met),), (), tuple(cancel))


def forward(ticket: Ticket, department: str, ctx: Context, *, reason: str) -> Decision:
    """A department forwards a ticket that belongs elsewhere (D4), giving the reason."""
    inputs.line("department", department, limit="department")
    inputs.prose("reason", reason)
    if not reason.strip():
        raise InvalidInput("reason", "forwarding needs a reason")
    if department == ticket.department:
        raise RuleRefused(ticket.id, f"already with department {department!r}")
    ctx.standard.department(department)
    if ticket.state is TicketState.IN_HANDLING:
        # D3: only along the standard's transfer graph; D5: not away from a decided lead department
        dispatch_rules.check_binding(ticket, "forward it")
        dispatch_rules.check_transfer(ticket, department, ctx)
    changed, event = _transition(ticket, "forward", ctx, reason=reason, from_department=ticket.department,
                                 department=department)
    changed = attrs.evolve(changed, department=department, handler=f"dept:{department}")
    # the handling stage restarts for the new department; the customer-facing limits run on
    changed, timers, cancel, recomputed = time_limits.restart(changed, ("handling",), ctx, cause="forward",
                                                               reason=reason)
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel))


def warm_transfer(ticket: Ticket, to: str, ctx: Context, *, notes: str) -> Decision:
    """Front desk hands the call to a specialist; the ticket and notes go along (A4).

    The specialist becomes the handler; the owner of record stays the first responder (A3).
    """
    inputs.line("to", to, limit="actor", required=True)
    inputs.prose("notes", notes)
    if not notes.strip():
        raise InvalidInput("notes", "a warm transfer carries what the customer already said")
    changed, event = _transition(ticket, "warm_transfer", ctx, reason="warm transfer", to=to, notes=notes)
    changed = attrs.evolve(changed, handler=to, notes=(*changed.notes, notes))
    return Decision(changed, (event,))


def record(ticket: Ticket, ctx: Context, *, verification: str = "", contact_attempt: bool = False,
           final_result: str = "", satisfaction: str = "") -> Decision:
    """Record the facts A5 needs before archiving; only what is given changes."""
    inputs.prose("verification", verification)
    inputs.flag("contact_attempt", contact_attempt)
    inputs.prose("final_result", final_result)
    inputs.line("satisfaction", satisfaction, limit="short")
    rec = ticket.record
    rec = HandlingRecord(
        verification=verification or rec.verification,
        contact_attempts=rec.contact_attempts + ((ctx.now,) if contact_attempt else ()),
        final_result=final_result or rec.final_result,
        satisfaction=satisfaction or rec.satisfaction,
    )
    given: dict[str, Any] = {k: v for k, v in {
        "verification": verification, "contact_attempt": contact_attempt,
        "final_result": final_result, "satisfaction": satisfaction}.items() if v}
    changed, event = _transition(ticket, "record", ctx, **given)
    changed = attrs.evolve(changed, record=rec)
    if satisfaction and ticket.state is TicketState.RETURN_VISIT:
        # the customer's verdict recorded during the return visit is the visit done (G1): its
        # deadline is met now, not when the ticket is archived later
        changed, cancel, met = time_limits.meet(changed, "visit", ctx)
        return Decision(changed, (time_limits.annotate(event, met=met),), (), tuple(cancel))
    return Decision(changed, (event,))


def reply(ticket: Ticket, ctx: Context, *, result: str) -> Decision:
    """The handler's result is replied to the customer; the return-visit clock starts (G1)."""
    inputs.prose("result", result)
    if not result.strip():
        raise InvalidInput("result", "a reply needs the result given to the customer")
    changed, event = _transition(ticket, "reply", ctx, result=result)
    rec = attrs.evolve(changed.record, final_result=changed.record.final_result or result)
    changed = attrs.evolve(changed, record=rec)
    changed, cancel, met = time_limits.meet(changed, "reply", ctx)
    changed, timers, started = time_limits.start(changed, ("return_visit",), ctx)
    event = time_limits.annotate(event, started=started, met=met)
    return Decision(changed, (event,), tuple(timers), tuple(cancel))


def return_visit(ticket: Ticket, ctx: Context) -> Decision:
    changed, event = _transition(ticket, "return_visit", ctx)
    return Decision(changed, (event,))


def archive(ticket: Ticket, ctx: Context, *, reason: str = "") -> Decision:
    """Archive (归档); refused until verification, contact attempts, final result and
    satisfaction are recorded (A5)."""
    inputs.prose("reason", reason)
    missing = ticket.record.missing()
    if ticket.state is TicketState.RETURN_VISIT and missing:
        raise RuleRefused(ticket.id, f"cannot archive: not yet recorded: {', '.join(missing)}")
    changed, event = _transition(ticket, "archive", ctx, reason=reason)
    changed = attrs.evolve(changed, markers=changed.markers - {Marker.NEAR_OVERDUE})
    changed, cancel, met = time_limits.meet(changed, "archive", ctx)
    event = time_limits.annotate(event, met=met)
    return Decision(changed, (event,), (), (*cancel, *pending_timer_names(changed)))


def pending_timer_names(ticket: Ticket) -> Sequence[str]:
    """Every timer an archived ticket must not leave behind."""
    names = []
    for d in ticket.deadlines:
        names += time_limits.timer_names(d.name)
    return names


def _merge(first: Decision | None, second: Decision) -> Decision:
    if first is None:
        return second
    # a timer the first step set and the second cancels is never written at all
    cancelled = set(second.cancel_timers)
    kept = tuple(t for t in first.set_timers if t.name not in cancelled)
    return Decision(
        second.ticket,
        first.events + second.events,
        kept + second.set_timers,
        first.cancel_timers + second.cancel_timers,
        first.messages + second.messages,
    )


def reclassify(ticket: Ticket, category: str, ctx: Context, *, reason: str) -> Decision:
    """Change the complaint category: the limits are looked up again and every deadline still
    running is re-computed from its original start (``deadlines_recomputed``, old and new due
    times). The urgency follows the new category's default when the ticket had inherited the old
    category's; an urgency given explicitly (or raised by the major marker) is kept."""
    inputs.line("category", category, limit="category")
    inputs.prose("reason", reason)
    if not ticket.is_open:
        raise RuleRefused(ticket.id, f"cannot reclassify a ticket in state {ticket.state.value!r}")
    if not reason.strip():
        raise InvalidInput("reason", "reclassifying needs a reason")
    new_category = ctx.standard.category(category)
    if category == ticket.category:
        raise RuleRefused(ticket.id, f"already in category {category!r}")
    old_default = ctx.standard.category(ticket.category).urgency if ticket.category else None
    urgency = ticket.urgency
    if ticket.urgency is old_default and Marker.MAJOR not in ticket.markers:
        urgency = new_category.urgency
    event = Event(ticket.id, ctx.now, ctx.actor.id, "reclassify", reason=reason,
                  from_state=ticket.state, to_state=ticket.state,
                  data={"from_category": ticket.category, "category": category,
                        "from_urgency": ticket.urgency.value, "urgency": urgency.value})
    changed = attrs.evolve(ticket, category=category, urgency=urgency, updated_at=ctx.now)
    changed, timers, cancel, recomputed = time_limits.recompute(changed, ctx, cause="reclassify", reason=reason)
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel))


def reactivate(ticket: Ticket, ctx: Context, *, reason: str) -> Decision:
    """Re-activate a replied ticket (REPLIED / RETURN_VISIT → IN_HANDLING): the customer's problem
    is handled again. The reply and handling stages start again from now, the return-visit
    deadline is cancelled (it starts again at the next reply); the total keeps running."""
    inputs.prose("reason", reason)
    if not reason.strip():
        raise InvalidInput("reason", "re-activating needs a reason")
    changed, event = _transition(ticket, "reactivate", ctx, reason=reason)
    changed, timers, cancel, recomputed = time_limits.restart(
        changed, ("reply", "handling"), ctx, cause="reactivate", reason=reason, cancel_stages=("return_visit",))
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel))
