"""Time limits (SPEC C1–C5): deadlines, near-overdue and overdue timers, pausing, the read side.

A deadline that fell past the calendar's data was computed on the weekday rule and marked
provisional; once the province adds the year (calendar.toml or the hook, then a restart), the
hourly ``provisional_deadlines`` detector recomputes it from its start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.commands import Command, Loaded, OneTicket, OpenTickets, Outcome
from complaintkit.engine.context import Context
from complaintkit.engine.registry import Detector, Part, Window
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.time_limits import rules
from complaintkit.parts.time_limits.timers import TIMER_KINDS


def recompute_command(ticket_id: str) -> Command:
    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        decision = rules.recompute_provisional(loaded.ticket(ticket_id), ctx)
        return Outcome() if decision is None else Outcome(decisions=(decision,))

    return Command("recompute_provisional", Actor.system(), (OneTicket(ticket_id),), decide)


def provisional_deadlines(tickets: Sequence[Ticket], window: Window, ctx: Context) -> list[Command]:
    return [recompute_command(t.id) for t in tickets
            if any(d.provisional for d in t.deadlines) and rules.recompute_provisional(t, ctx) is not None]


PART = Part("time_limits", timers=TIMER_KINDS,
            detectors=(Detector("provisional_deadlines", timedelta(hours=1), OpenTickets(), provisional_deadlines),))


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
