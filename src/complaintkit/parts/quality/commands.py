"""The quality inspection's commands: starting a month's cycle, recording an inspection (SPEC I1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from complaintkit.core import inputs
from complaintkit.core.errors import RuleRefused
from complaintkit.core.model import Actor, Decision, Event, Ticket
from complaintkit.engine.commands import Command, Loaded, OneTicket, Outcome
from complaintkit.engine.context import Context
from complaintkit.engine.store import Transaction
from complaintkit.parts.quality import rules, store
from complaintkit.parts.quality.rules import FrameEntry


def start_cycle(month: str, entries: Sequence[FrameEntry], seed: str, actor: Actor, *,
                action: str = "quality_cycle") -> Command:
    """Freeze ``entries`` as the month's frame and draw its sample — once: a month whose cycle
    has started is skipped (the command returns ``SKIPPED``)."""

    def decide(_loaded: Loaded, ctx: Context) -> Outcome:
        spec = ctx.standard.quality
        if spec is None:
            raise RuleRefused("-", f"the standard {ctx.standard.name!r} sets no quality inspection (quality.toml)")
        sampled = rules.draw(entries, spec.sampling, seed, month)
        cycle = store.Cycle(month, seed, ctx.actor.id, tuple(entries), sampled, spec.sampling.strata)
        return Outcome(records=(cycle,), result=cycle)

    def not_started(tx: Transaction) -> bool:
        return store.cycle(tx, month) is None

    # by hand it needs quality.sample; the detector's (``quality_cycle:detector``) is the system's
    return Command(action, actor, (), decide, claim=not_started)


def inspect(ticket_id: str, month: str, handler: str, actor: Actor, scores: Mapping[str, Any], notes: str) -> Command:
    """The inspector's scorecard for a sampled ticket, stored and noted on the ticket."""

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        spec = ctx.standard.quality
        if spec is None:
            raise RuleRefused(ticket_id, "the standard sets no quality inspection (quality.toml)")
        card = rules.score(spec, scores)
        ticket: Ticket = loaded.ticket(ticket_id)
        event = Event(ticket.id, ctx.now, ctx.actor.id, "quality_inspected",
                      data={"month": month, "total": card.total, "passed": card.passed})
        row = store.Inspection(month, ticket.id, handler, ctx.actor.id, card, notes)
        return Outcome(decisions=(Decision(ticket, (event,)),), records=(row,), result=card)

    inputs.prose("notes", notes)
    return Command("quality_inspect", actor, (OneTicket(ticket_id),), decide)


__all__ = ["inspect", "start_cycle"]
