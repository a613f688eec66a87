"""The timer kind tracking owns: ``tracking``, a tracking time (F1)."""

from __future__ import annotations

from complaintkit.core.model import Ticket, Timer
from complaintkit.engine.commands import Outcome
from complaintkit.engine.context import Context
from complaintkit.engine.registry import TimerKind
from complaintkit.parts.tracking import commands, rules


def on_tracking_time(ticket: Ticket, timer: Timer, ctx: Context) -> Outcome:
    """The round reads the tracking row: decided in the same transaction as the timer's firing."""
    return Outcome(then=(commands.tracking_round(ticket.id),))


TIMER_KINDS = (TimerKind(rules.TIMER, on_tracking_time),)
