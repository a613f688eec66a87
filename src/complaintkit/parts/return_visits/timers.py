"""The timer kinds the return visits own: a survey's answer window, a scheduled attempt (G1, G4)."""

from __future__ import annotations

from complaintkit.core.model import Ticket, Timer
from complaintkit.engine.commands import Outcome
from complaintkit.engine.context import Context
from complaintkit.engine.registry import TimerKind
from complaintkit.parts.return_visits import commands, rules


def on_window_closed(ticket: Ticket, timer: Timer, ctx: Context) -> Outcome:
    """The survey's window closed: the visits are read and decided in the same transaction."""
    return Outcome(then=(commands.survey_expired(ticket.id, timer.name.partition(":")[2]),))


TIMER_KINDS = (TimerKind(rules.WINDOW_TIMER, on_window_closed), TimerKind(rules.ATTEMPT_TIMER, rules.attempt_due))
