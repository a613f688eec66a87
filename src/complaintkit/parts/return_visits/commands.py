"""Return-visit commands (SPEC G1–G4): each declares the ticket and its visits, a rule decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from complaintkit.core.model import Actor, Decision, Event, Ticket
from complaintkit.engine.commands import Command, Loaded, OneTicket, Outcome
from complaintkit.engine.context import Context, KitServices
from complaintkit.parts.return_visits import rules
from complaintkit.parts.return_visits.model import Visit, VisitChannel
from complaintkit.parts.return_visits.store import VisitRow, ticket_visits


def _visit_command(action: str, ticket_id: str, actor: Actor,
                   rule: Callable[..., rules.VisitDecision | None], *, at: datetime | None = None) -> Command:
    visits = ticket_visits(ticket_id)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        decided = rule(loaded.ticket(ticket_id), loaded.rows(visits), ctx)
        if decided is None:
            return Outcome()
        return as_outcome(decided)

    return Command(action, actor, (OneTicket(ticket_id), visits), decide, at=at)


def as_outcome(decided: rules.VisitDecision) -> Outcome:
    return Outcome(decisions=decided.decisions, records=tuple(VisitRow(v) for v in decided.visits),
                   result=decided.result)


def send_survey(ticket_id: str, actor: Actor) -> Command:
    return _visit_command("send_survey", ticket_id, actor, rules.send_survey)


def answer_survey(ticket_id: str, visit_id: str, outcome: str, words: str, at: datetime | None = None) -> Command:
    """A customer's classified answer (from the inbox, judged at its receipt time)."""
    return _visit_command("answer_survey", ticket_id, Actor.system(),
                          lambda t, v, c: rules.answer_survey(t, v, visit_id, outcome, words, c), at=at)


def survey_expired(ticket_id: str, visit_id: str) -> Command:
    return _visit_command("survey_expired", ticket_id, Actor.system(),
                          lambda t, v, c: rules.survey_expired(t, v, visit_id, c))


def record_visit(kit: KitServices, ticket_id: str, actor: Actor, report: rules.VisitReport) -> Command:
    remedy_id = kit.new_ticket_id()
    return _visit_command("record_visit", ticket_id, actor,
                          lambda t, v, c: rules.record_visit(t, v, report, c, remedy_id=remedy_id))


def attempt(ticket_id: str, actor: Actor, *, channel: VisitChannel, note: str = "") -> Command:
    return _visit_command("contact_attempt", ticket_id, actor,
                          lambda t, v, c: rules.attempt(t, v, c, channel=channel, note=note))


def open_remedy(kit: KitServices, ticket_id: str, actor: Actor, *, reason: str, needs: str) -> Command:
    """G3 without a visit: a remedy ticket for a complaint, with the reason and the needs."""
    remedy_id = kit.new_ticket_id()

    def rule(ticket: Ticket, _visits: list[Visit], ctx: Context) -> rules.VisitDecision:
        remedy = rules.open_remedy_ticket(ticket, remedy_id, reason, needs, ctx)
        # the complaint records which remedy ticket continues it
        event = Event(ticket.id, ctx.now, ctx.actor.id, "remedy_opened",
                      data={"remedy_id": remedy_id, "reason": reason, "needs": needs})
        return rules.VisitDecision((Decision(attrs.evolve(ticket, updated_at=ctx.now), (event,)), remedy), (),
                                   remedy.ticket)

    return _visit_command("open_remedy", ticket_id, actor, rule)


__all__ = ["answer_survey", "as_outcome", "attempt", "open_remedy", "record_visit", "send_survey",
           "survey_expired"]
