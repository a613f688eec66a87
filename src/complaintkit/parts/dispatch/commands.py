"""Dispatch commands (SPEC A6, D1–D6, E6): what each reads, which rule decides."""

from __future__ import annotations

from complaintkit.core.errors import RuleRefused
from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.commands import Command, Loaded, Outcome, TicketWithHistory, one_ticket
from complaintkit.engine.context import Context
from complaintkit.parts.dispatch import rules
from complaintkit.parts.dispatch.store import MisdispatchRow
from complaintkit.parts.intake import rules as lifecycle


def by_standard(ticket: Ticket, ctx: Context) -> str:
    """The department the dispatch standard names for the ticket (D1)."""
    path = ctx.standard.category_path(ticket.category)
    route = ctx.standard.dispatch.route_for(path, ticket.customer.city)
    department = route.department if route is not None else ctx.standard.category(ticket.category).department
    if not department:
        raise RuleRefused(ticket.id, f"the dispatch standard names no department for category {ticket.category!r} "
                                     "(dispatch it by hand, or handle it in the service centre)")
    return department


def route(ticket_id: str, actor: Actor, *, reason: str = "by the dispatch standard") -> Command:
    """Dispatch a ticket from the pool to the department the dispatch standard names (D1)."""
    return one_ticket(ticket_id, actor, "dispatch",
                      lambda t, c: lifecycle.dispatch(t, by_standard(t, c), c, reason=reason))


def pick_up(ticket_id: str, actor: Actor) -> Command:
    """A handler of the ticket's line takes it from the pool or the seat queue (A6)."""

    def rule(ticket: Ticket, ctx: Context) -> object:
        rules.may_pick_up(ticket, ctx)
        return lifecycle.handle(ticket, ctx, reason=f"picked up from {ticket.handler}")

    return one_ticket(ticket_id, actor, "pick_up", rule)  # type: ignore[arg-type]


def green_channel(ticket_id: str, actor: Actor, *, reason: str, to: str = "") -> Command:
    """Raise a difficult customer's ticket to a high-skill handler (E6)."""
    return one_ticket(ticket_id, actor, "green_channel",
                      lambda t, c: rules.raise_to_high_skill(t, c, reason=reason, to=to))


def misdispatch(ticket_id: str, department: str, actor: Actor, *, reason: str) -> Command:
    """The receiving department records why it is not theirs and forwards it (D5)."""
    need = TicketWithHistory(ticket_id)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        ticket = loaded.ticket(ticket_id)
        decision = rules.misdispatch(ticket, department, ctx, reason=reason,
                                     reasons=rules.reasons_since_owner(loaded.history(ticket_id)))
        row = MisdispatchRow(ticket_id, ctx.now, ticket.department, department, decision.ticket.department, reason,
                             ctx.actor.id, decision.ticket.bounces)
        return Outcome(decisions=(decision,), records=(row,))

    return Command("misdispatch", actor, (need,), decide)


def arbitrate(ticket_id: str, lead_department: str, actor: Actor, *, reason: str = "") -> Command:
    """The complaint-management department decides the lead department from the reasons (D5)."""
    need = TicketWithHistory(ticket_id)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        reasons = rules.reasons_since_owner(loaded.history(ticket_id))
        return Outcome(decisions=(rules.arbitrate(loaded.ticket(ticket_id), lead_department, ctx, reason=reason,
                                                  reasons=reasons),))

    return Command("arbitrate", actor, (need,), decide)


__all__ = ["arbitrate", "by_standard", "green_channel", "misdispatch", "pick_up", "route"]
