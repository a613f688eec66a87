"""The timer kinds the time limits own: ``internal:<stage>``, ``near:<stage>``, ``overdue:<stage>``."""

from __future__ import annotations

from complaintkit.core.model import Decision, Ticket, Timer
from complaintkit.engine.context import Context
from complaintkit.engine.registry import TimerKind
from complaintkit.parts.time_limits import rules


def on_deadline_moment(ticket: Ticket, timer: Timer, ctx: Context) -> Decision:
    """A deadline's moment came: marker, reminder, the next moment's timer (C3, C4)."""
    if not ticket.is_open:
        return Decision(ticket)
    changed, events, messages, following = rules.on_timer(ticket, timer, ctx)
    return Decision(changed, tuple(events), tuple(following), (), tuple(messages))


TIMER_KINDS = tuple(TimerKind(kind, on_deadline_moment) for kind in ("internal", "near", "overdue"))
