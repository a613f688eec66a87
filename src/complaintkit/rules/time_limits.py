"""Time limits (SPEC C): which deadlines a ticket runs against, and what happens near and past them.

Each running deadline has two durable timers, ``near:<name>`` and ``overdue:<name>``. When one
fires, the ticket gets the near-overdue / overdue marker and a reminder goes to the handler's
department through the outbox (C3). A deadline is *met* when its stage's action happens; meeting
it cancels its timers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.calendar import Duration
from complaintkit.model import (
    Deadline,
    DeadlineState,
    Event,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    Timer,
)
from complaintkit.rules import Context

#: which stage's deadline an action meets
MET_BY = {
    "dispatch": ("dispatch",),
    "reply": ("reply", "handling"),
    "archive": ("return_visit", "total", "reply", "handling", "dispatch"),
}


def limits_for(ticket: Ticket, ctx: Context) -> tuple[dict[str, str], dict[str, str]]:
    rule = ctx.standard.limits_for(
        category=ticket.category,
        urgency=ticket.urgency,
        value_tier=ticket.customer.value_tier,
        kind=ticket.kind.value,
    )
    limits = dict(rule.limits)
    internal = dict(rule.internal)
    if Marker.REPEAT in ticket.markers or ticket.kind.value == "remedy":
        # E3 / G3: repeat and remedy tickets are held to 24 h whatever their tier says
        limits["total"] = _stricter(ctx, ticket.created_at, limits.get("total", "24h"), "24h")
    return limits, internal


@functools.lru_cache(maxsize=256)
def duration(text: str) -> Duration:
    """Parsed once: the standard's few duration texts are used on every command."""
    return Duration.parse(text)


def _stricter(ctx: Context, start: datetime, a: str, b: str) -> str:
    return a if ctx.calendar.add(start, duration(a)) <= ctx.calendar.add(start, duration(b)) else b


def start(ticket: Ticket, names: Iterable[str], ctx: Context, *,
          at: datetime | None = None) -> tuple[Ticket, list[Timer], dict[str, Any]]:
    """Start the named stages' deadlines (those the standard has a limit for).

    Returns the ticket, the timers to set, and what was started — the caller records it in the
    data of the event that started the stages (``deadlines_started``), so history keeps every
    deadline ever set without an event per deadline.
    """
    limits, internal = limits_for(ticket, ctx)
    begin = at or ctx.now
    deadlines = {d.name: d for d in ticket.deadlines}
    timers: list[Timer] = []
    started: dict[str, Any] = {}
    for name in names:
        if name not in limits:
            continue
        due = ctx.calendar.add(begin, duration(limits[name]))
        target = ctx.calendar.add(begin, duration(internal[name])) if name in internal else None
        deadline = Deadline(name, begin, due, limits[name], target)
        deadlines[name] = deadline
        timers.extend(timers_for(ticket.id, deadline, ctx))
        started[name] = {"due_at": due.isoformat(), "limit": limits[name],
                         **({"internal_due_at": target.isoformat()} if target else {})}
    return attrs.evolve(ticket, deadlines=tuple(deadlines.values())), timers, started


def timers_for(ticket_id: str, deadline: Deadline, ctx: Context) -> list[Timer]:
    near = near_overdue_at(deadline, ctx)
    timers = [Timer(ticket_id, f"overdue:{deadline.name}", deadline.due_at)]
    if near is not None:
        timers.insert(0, Timer(ticket_id, f"near:{deadline.name}", near))
    return timers


def near_overdue_at(deadline: Deadline, ctx: Context) -> datetime | None:
    """One hour before the deadline by default (C3); or when a share of the limit has passed."""
    settings = ctx.standard.settings
    if settings.near_overdue_share is not None:
        span = (deadline.due_at - deadline.started_at).total_seconds()
        at = deadline.started_at + timedelta(seconds=span * settings.near_overdue_share)
    else:
        at = deadline.due_at - natural(settings.near_overdue_before)
    return at if at > deadline.started_at else None


def natural(text: str) -> timedelta:
    """A natural-hours duration as a timedelta (the standard's checks allow only ``h`` here)."""
    return timedelta(hours=float(duration(text).amount))


def meet(ticket: Ticket, action: str, ctx: Context) -> tuple[Ticket, list[str], dict[str, Any]]:
    """Mark the deadlines an action meets; returns the ticket, the timers to cancel, and what was
    met (``{name: {"late": bool}}``, for the action's event data as ``deadlines_met``)."""
    names = MET_BY.get(action, ())
    cancel: list[str] = []
    met: dict[str, Any] = {}
    deadlines = []
    for d in ticket.deadlines:
        if d.name in names and d.state in (DeadlineState.RUNNING, DeadlineState.NEAR_OVERDUE, DeadlineState.OVERDUE):
            deadlines.append(attrs.evolve(d, state=DeadlineState.MET, met_at=ctx.now))
            cancel += [f"near:{d.name}", f"overdue:{d.name}"]
            met[d.name] = {"late": ctx.now > d.due_at}
        else:
            deadlines.append(d)
    return attrs.evolve(ticket, deadlines=tuple(deadlines)), cancel, met


def annotate(event: Event, *, started: dict[str, Any] | None = None, met: dict[str, Any] | None = None) -> Event:
    """Record the deadlines a transition started and met in its event."""
    extra: dict[str, Any] = {}
    if started:
        extra["deadlines_started"] = started
    if met:
        extra["deadlines_met"] = met
    return attrs.evolve(event, data={**event.data, **extra}) if extra else event


def on_timer(ticket: Ticket, timer: Timer, ctx: Context) -> tuple[Ticket, list[Event], list[OutgoingMessage]]:
    """A ``near:`` or ``overdue:`` timer fired: mark the ticket and remind its department (C3)."""
    kind, _, name = timer.name.partition(":")
    deadline = ticket.deadline(name)
    if deadline is None or deadline.state in (DeadlineState.MET, DeadlineState.CANCELLED, DeadlineState.PAUSED):
        return ticket, [], []
    if kind == "near":
        if deadline.state is not DeadlineState.RUNNING:
            return ticket, [], []
        state, marker, template = DeadlineState.NEAR_OVERDUE, Marker.NEAR_OVERDUE, "near_overdue_reminder"
    else:
        state, marker, template = DeadlineState.OVERDUE, Marker.OVERDUE, "overdue_alert"
    deadlines = tuple(attrs.evolve(d, state=state) if d.name == name else d for d in ticket.deadlines)
    markers = ticket.markers | {marker}
    if marker is Marker.OVERDUE:
        markers -= {Marker.NEAR_OVERDUE}
    changed = attrs.evolve(ticket, deadlines=deadlines, markers=markers)
    event = Event(ticket.id, ctx.now, ctx.actor.id, state.value,
                  data={"deadline": name, "due_at": deadline.due_at.isoformat()})
    messages = []
    if template in ctx.standard.templates:
        department = ticket.department or ctx.standard.settings.complaint_department
        messages.append(
            OutgoingMessage(
                key=f"{ticket.id}:{timer.name}:{deadline.due_at.isoformat()}",
                channel=MessageChannel.EMAIL,
                to=department,
                subject=f"[{state.value}] {ticket.id}",
                text=ctx.standard.render(template, ticket_id=ticket.id, deadline=name,
                                         due_at=deadline.due_at.strftime("%Y-%m-%d %H:%M"),
                                         handler=ticket.handler, department=department),
                ticket_id=ticket.id,
                template=template,
            )
        )
    return changed, [event], messages
