"""Time-limit commands: pausing and resuming the clock (SPEC C5)."""

from __future__ import annotations

from complaintkit.core.errors import RuleRefused
from complaintkit.core.model import Actor, Decision
from complaintkit.engine.commands import Command, Loaded, TicketWithHistory, one_ticket
from complaintkit.engine.context import Context
from complaintkit.parts.time_limits import rules


def pause(ticket_id: str, actor: Actor, reason: str) -> Command:
    return one_ticket(ticket_id, actor, "pause", lambda t, c: rules.pause(t, c, reason=reason))


def resume(ticket_id: str, actor: Actor, reason: str = "") -> Command:
    """Reads the ticket's history: the due times move on by the time since the last pause."""

    def decide(loaded: Loaded, ctx: Context) -> Decision:
        paused = next((e for e in reversed(loaded.history(ticket_id)) if e.kind == "pause"), None)
        if paused is None:
            raise RuleRefused(ticket_id, "the clock is not paused")
        return rules.resume(loaded.ticket(ticket_id), ctx, paused=paused, reason=reason)

    return Command("resume", actor, (TicketWithHistory(ticket_id),), decide)
