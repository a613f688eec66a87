"""Dispatch, transfer and misdispatch arbitration (SPEC A6, D1–D6, E6): pure rules.

- **Queues (A6).** A new complaint that is not dispatched directly lands in the queue of its
  business line: ``pool:<line>`` in the back-office mode (any back-office handler of that line
  picks it up), ``seat:<line>`` in the specialist mode (the specialists of that line; a ticket a
  specialist of its line accepted stays with that specialist — 专席负责制).
- **Routing up (D6, E6).** A route marked ``high_skill`` and every repeat complaint go to a
  high-skill handler of the line; any handler may raise a difficult customer to one (the green
  channel), and it is recorded.
- **Transfer graph (D3, D4).** A department transfers only along the standard's graph; a transfer
  outside it is refused with the targets that are allowed.
- **Misdispatch (D5).** The receiving department records why the ticket is not theirs and forwards
  it; the ticket carries the ``misdispatched`` marker and its bounce count. The bounce that
  reaches ``misdispatch_limit`` sends it to the complaint-management department instead, which
  sees every recorded reason and decides the lead department; the decision is binding: the lead
  department can neither forward it nor call it misdispatched again.

These rules import nothing of the lifecycle module (the lifecycle imports them), so they build
their events themselves and check the states they accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import (
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
    RuleRefused,
    TransferRefused,
)
from complaintkit.core.model import (
    Decision,
    Event,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Role,
    Ticket,
    TicketState,
)
from complaintkit.engine.context import Context
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.standard.dispatch import Handler, SkillGroup

POOL = "pool:"
SEAT = "seat:"
#: ticket states a ticket may be raised to a high-skill handler in
OPEN_WORK = (TicketState.ACCEPTED, TicketState.IN_HANDLING)


# -- A6, D6: where a new complaint goes -----------------------------------------------------------------


def line_of(ticket: Ticket, ctx: Context) -> SkillGroup | None:
    """The business line of the ticket's category (None when the standard has none for it)."""
    return ctx.standard.dispatch.skill_group_for(ctx.standard.category_path(ticket.category))


def place_new(ticket: Ticket, ctx: Context, *, high_skill: bool = False, why: str = "") -> tuple[Ticket, dict[str, Any]]:
    """Put a new complaint that is not dispatched directly in its line's queue (A6), or with a
    high-skill handler of that line (D6). Returns the ticket and what to record on its event."""
    group = line_of(ticket, ctx)
    if group is None:
        return ticket, {}
    settings = ctx.standard.settings
    if high_skill:
        expert = ctx.standard.dispatch.high_skill_handler(group.code, settings.high_skill_level, key=ticket.id,
                                                          role=_mode_role(ctx))
        if expert is not None:
            return attrs.evolve(ticket, handler=expert.id), {"queue": f"{_prefix(ctx)}{group.code}",
                                                             "routed_up": expert.id, "routed_up_because": why}
    if settings.processing_mode == "specialist":
        seat = ctx.standard.dispatch.handler(ctx.actor.id)
        if ctx.actor.role is Role.SPECIALIST and seat is not None and group.code in seat.skills:
            # the specialist seat that took the call owns the ticket work of its line
            return attrs.evolve(ticket, handler=ctx.actor.id), {"queue": f"{SEAT}{group.code}", "seat": ctx.actor.id}
    queue = f"{_prefix(ctx)}{group.code}"
    return attrs.evolve(ticket, handler=queue), {"queue": queue}


def _mode_role(ctx: Context) -> Role:
    return Role.SPECIALIST if ctx.standard.settings.processing_mode == "specialist" else Role.BACK_OFFICE


def _prefix(ctx: Context) -> str:
    return SEAT if ctx.standard.settings.processing_mode == "specialist" else POOL


def may_pick_up(ticket: Ticket, ctx: Context) -> Handler:
    """Who may take a ticket from a queue (A6): a back-office handler of its line for a pool, a
    specialist of its line for a seat queue; a ticket routed up only the handler it went to."""
    actor = ctx.actor
    me = ctx.standard.dispatch.handler(actor.id)
    if ticket.state is not TicketState.ACCEPTED:
        raise IllegalTransition(ticket.id, ticket.state.value, "pick_up", [])
    queue = ticket.handler
    if not queue.startswith((POOL, SEAT)):
        if queue == actor.id and me is not None:
            return me
        raise RuleRefused(ticket.id, f"not in a queue: it is with {queue!r}")
    line = queue.split(":", 1)[1]
    role = Role.BACK_OFFICE if queue.startswith(POOL) else Role.SPECIALIST
    if actor.role is not role:
        raise PermissionDenied(actor.id, actor.role.value, f"pick up from {queue} (for {role.value})")
    if me is None or line not in me.skills:
        raise PermissionDenied(actor.id, actor.role.value, f"pick up from {queue} (not a handler of {line!r})")
    return me


# -- E6: the green channel --------------------------------------------------------------------------------


def raise_to_high_skill(ticket: Ticket, ctx: Context, *, reason: str, to: str = "") -> Decision:
    """Any handler raises a difficult customer to a high-skill handler (E6); recorded."""
    inputs.prose("reason", reason)
    inputs.line("to", to, limit="actor")
    if not reason.strip():
        raise InvalidInput("reason", "raising a ticket to a high-skill handler needs a reason")
    if ticket.state not in OPEN_WORK:
        raise IllegalTransition(ticket.id, ticket.state.value, "green_channel", [])
    d = ctx.standard.dispatch
    level = ctx.standard.settings.high_skill_level
    group = line_of(ticket, ctx)
    if to:
        expert = d.handler(to)
        if expert is None or expert.level < level:
            raise InvalidInput("to", f"{to!r} is not a high-skill handler (skill level {level} or more)")
    else:
        line = group.code if group else None
        expert = (d.high_skill_handler(line, level, key=ticket.id, role=_mode_role(ctx), exclude=(ctx.actor.id,))
                  or d.high_skill_handler(line, level, key=ticket.id, exclude=(ctx.actor.id,))
                  or d.high_skill_handler(None, level, key=ticket.id, exclude=(ctx.actor.id,)))
        if expert is None:
            raise RuleRefused(ticket.id, f"the standard has no high-skill handler (level {level}+) to raise it to")
    event = Event(ticket.id, ctx.now, ctx.actor.id, "green_channel", reason=reason, from_state=ticket.state,
                  to_state=ticket.state, data={"from_handler": ticket.handler, "to": expert.id,
                                               "level": expert.level})
    return Decision(attrs.evolve(ticket, handler=expert.id, updated_at=ctx.now), (event,))


# -- D3, D4: the transfer graph ----------------------------------------------------------------------------


def check_transfer(ticket: Ticket, target: str, ctx: Context) -> None:
    """Refuse a transfer the standard's graph does not have, naming the allowed targets."""
    standard = ctx.standard
    source = ticket.department or standard.settings.complaint_department
    if not standard.dispatch.allows(source, target, standard.departments):
        raise TransferRefused(ticket.id, source, target,
                              standard.dispatch.transfer_targets(source, standard.departments))


def check_binding(ticket: Ticket, action: str) -> None:
    """The lead department the complaint-management department decided must keep the ticket (D5)."""
    if ticket.lead_department and ticket.department == ticket.lead_department:
        raise RuleRefused(ticket.id, f"cannot {action}: the complaint-management department made "
                                     f"{ticket.lead_department!r} the lead department (binding)")


# -- D5: misdispatch and arbitration -----------------------------------------------------------------------


def misdispatch(ticket: Ticket, target: str, ctx: Context, *, reason: str,
                reasons: Sequence[dict[str, Any]] = ()) -> Decision:
    """The receiving department records why the ticket is not theirs and forwards it (D5).

    ``reasons``: the misdispatches recorded since the ticket last had an owner (from its
    history), for the e-mail to the complaint-management department when this bounce is the
    one that sends it there.
    """
    inputs.line("department", target, limit="department")
    inputs.prose("reason", reason)
    if not reason.strip():
        raise InvalidInput("reason", "a misdispatch needs the reason the ticket is not yours")
    standard = ctx.standard
    standard.department(target)
    if ticket.state is not TicketState.IN_HANDLING:
        raise IllegalTransition(ticket.id, ticket.state.value, "misdispatch", [])
    if ctx.actor.role is not Role.SYSTEM and ctx.actor.department != ticket.department:
        raise RuleRefused(ticket.id, f"only the department holding it ({ticket.department!r}) can call it "
                                     f"misdispatched, not {ctx.actor.department or '(no department)'!r}")
    check_binding(ticket, "call it misdispatched")
    if target == ticket.department:
        raise RuleRefused(ticket.id, f"already with department {target!r}")
    check_transfer(ticket, target, ctx)
    bounces = ticket.bounces + 1
    limit = standard.settings.misdispatch_limit
    home = standard.settings.complaint_department
    arbitration = bounces >= limit and target != home
    lands = home if arbitration else target
    event = Event(ticket.id, ctx.now, ctx.actor.id, "misdispatch", reason=reason, from_state=ticket.state,
                  to_state=ticket.state, data={"from_department": ticket.department, "requested": target,
                                               "department": lands, "bounces": bounces,
                                               "arbitration": arbitration})
    changed = attrs.evolve(ticket, department=lands, handler=f"dept:{lands}", bounces=bounces,
                           markers=ticket.markers | {Marker.MISDISPATCHED}, updated_at=ctx.now)
    changed, timers, cancel, recomputed = time_limits.restart(changed, ("handling",), ctx, cause="misdispatch",
                                                               reason=reason)
    messages: tuple[OutgoingMessage, ...] = ()
    if arbitration:
        every = [*reasons, {"from_department": ticket.department, "reason": reason, "actor": ctx.actor.id}]
        messages = (_arbitration_mail(changed, every, ctx),)
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel), messages)


def _arbitration_mail(ticket: Ticket, reasons: Sequence[dict[str, Any]], ctx: Context) -> OutgoingMessage:
    home = ctx.standard.settings.complaint_department
    lines = "\n".join(f"- {r.get('from_department') or '?'}: {r.get('reason', '')}" for r in reasons)
    values = {"ticket_id": ticket.id, "bounces": ticket.bounces, "reasons": lines}
    if "misdispatch_arbitration" in ctx.standard.templates:
        text = ctx.standard.render("misdispatch_arbitration", **values)
    else:
        text = f"{ticket.id}: misdispatched {ticket.bounces} times; decide the lead department.\n{lines}"
    return OutgoingMessage(key=f"{ticket.id}:arbitration:{ctx.now.isoformat()}", channel=MessageChannel.EMAIL,
                           to=home, subject=f"[misdispatch] {ticket.id}: decide the lead department", text=text,
                           ticket_id=ticket.id, template="misdispatch_arbitration")


def awaiting_arbitration(ticket: Ticket, ctx: Context) -> bool:
    s = ctx.standard.settings
    return (ticket.is_open and ticket.department == s.complaint_department
            and ticket.bounces >= s.misdispatch_limit and Marker.MISDISPATCHED in ticket.markers)


def arbitrate(ticket: Ticket, lead: str, ctx: Context, *, reason: str, reasons: Sequence[dict[str, Any]]) -> Decision:
    """The complaint-management department decides the lead department (D5); binding."""
    inputs.line("lead_department", lead, limit="department", required=True)
    inputs.prose("reason", reason)
    standard = ctx.standard
    home = standard.settings.complaint_department
    if ctx.actor.department != home:
        raise RuleRefused(ticket.id, f"only the complaint-management department ({home!r}) decides the lead "
                                     f"department, not {ctx.actor.department or '(no department)'!r}")
    standard.department(lead)
    if not awaiting_arbitration(ticket, ctx):
        raise RuleRefused(ticket.id, f"not awaiting arbitration (misdispatched {ticket.bounces} times, "
                                     f"limit {standard.settings.misdispatch_limit}, with {ticket.department!r})")
    event = Event(ticket.id, ctx.now, ctx.actor.id, "arbitrate", reason=reason, from_state=ticket.state,
                  to_state=ticket.state, data={"lead_department": lead, "bounces": ticket.bounces,
                                               "reasons": [dict(r) for r in reasons]})
    changed = attrs.evolve(ticket, department=lead, handler=f"dept:{lead}", lead_department=lead, bounces=0,
                           updated_at=ctx.now)
    changed, timers, cancel, recomputed = time_limits.restart(changed, ("handling",), ctx, cause="arbitrate",
                                                               reason=reason)
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel))


def reasons_since_owner(history: Sequence[Event]) -> list[dict[str, Any]]:
    """The misdispatches recorded since the last arbitration: department, reason, who, when."""
    found: list[dict[str, Any]] = []
    for ev in history:
        if ev.kind == "arbitrate":
            found = []
        elif ev.kind == "misdispatch":
            found.append({"from_department": ev.data.get("from_department", ""), "reason": ev.reason,
                          "actor": ev.actor, "at": ev.at.isoformat()})
    return found


__all__ = ["POOL", "SEAT", "arbitrate", "awaiting_arbitration", "check_binding", "check_transfer", "line_of",
           "may_pick_up", "misdispatch", "place_new", "raise_to_high_skill", "reasons_since_owner"]
