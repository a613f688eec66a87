"""Tracking commands (SPEC F1, F2): mark, reply, and the round a tracking time starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from complaintkit.core.model import Actor, Decision, Ticket
from complaintkit.engine.commands import Command, Loaded, OneTicket, Outcome
from complaintkit.engine.context import Context
from complaintkit.parts.tracking import rules
from complaintkit.parts.tracking.store import Tracking, tracking_of


def _command(action: str, ticket_id: str, actor: Actor,
             rule: Callable[[Ticket, Tracking | None, Context], tuple[Decision, Tracking] | None]) -> Command:
    row = tracking_of(ticket_id)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        decided = rule(loaded.ticket(ticket_id), loaded.rows(row), ctx)
        if decided is None:
            return Outcome()
        decision, tracking = decided
        return Outcome(decisions=(decision,), records=(tracking,))

    return Command(action, actor, (OneTicket(ticket_id), row), decide)


def mark(ticket_id: str, actor: Actor, expected: datetime) -> Command:
    return _command("mark_tracking", ticket_id, actor, lambda t, r, c: rules.mark(t, r, expected, c))


def reply(ticket_id: str, actor: Actor, *, result: str, final: bool) -> Command:
    return _command("tracking_reply", ticket_id, actor,
                    lambda t, r, c: rules.reply(t, r, c, result=result, final=final))


def tracking_round(ticket_id: str) -> Command:
    return _command("tracking_round", ticket_id, Actor.system(), rules.tracking_round)


__all__ = ["mark", "reply", "tracking_round"]
