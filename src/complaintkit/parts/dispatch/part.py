"""Dispatch (SPEC A6, D1–D6, E6): registered as an internal plugin; ``kit.parts.dispatch``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.dispatch import commands, queries, rules
from complaintkit.parts.dispatch import store as dispatch_store
from complaintkit.parts.intake import commands as intake
from complaintkit.parts.time_limits.queries import OPEN_STATES, QueueEntry

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit


class DispatchApi:
    """``kit.parts.dispatch``: queues, dispatch by the standard, transfers, misdispatch, routing up."""

    def __init__(self, kit: ComplaintKit) -> None:
        self._kit = kit

    # -- commands ---------------------------------------------------------------------------------

    def route(self, ticket_id: str, actor: Actor, *, reason: str = "by the dispatch standard") -> Ticket:
        """D1: dispatch to the department the dispatch standard names for the ticket."""
        return self._kit.run(commands.route(ticket_id, actor, reason=reason))  # type: ignore[no-any-return]

    def pick_up(self, ticket_id: str, actor: Actor) -> Ticket:
        """A6: a handler of the ticket's line takes it from the pool (back office) or seat queue."""
        return self._kit.run(commands.pick_up(ticket_id, actor))  # type: ignore[no-any-return]

    def transfer(self, ticket_id: str, department: str, actor: Actor, *, reason: str) -> Ticket:
        """D3, D4: forward along the transfer graph (``kit.forward``); refused outside it."""
        return self._kit.run(intake.forward(ticket_id, department, actor, reason=reason))  # type: ignore[no-any-return]

    def misdispatch(self, ticket_id: str, department: str, actor: Actor, *, reason: str) -> Ticket:
        """D5: the receiving department records why it is not theirs and forwards it."""
        return self._kit.run(commands.misdispatch(ticket_id, department, actor, reason=reason))  # type: ignore[no-any-return]

    def arbitrate(self, ticket_id: str, lead_department: str, actor: Actor, *, reason: str = "") -> Ticket:
        """D5: the complaint-management department decides the lead department; binding."""
        return self._kit.run(commands.arbitrate(ticket_id, lead_department, actor, reason=reason))  # type: ignore[no-any-return]

    def green_channel(self, ticket_id: str, actor: Actor, *, reason: str, to: str = "") -> Ticket:
        """E6: raise a difficult customer to a high-skill handler (recorded)."""
        return self._kit.run(commands.green_channel(ticket_id, actor, reason=reason, to=to))  # type: ignore[no-any-return]

    # -- queries ----------------------------------------------------------------------------------

    def queue(self, name: str, *, now: datetime | None = None) -> list[QueueEntry]:
        """A queue in priority order: a department, ``pool:<line>``, ``seat:<line>`` or a handler."""
        with self._kit.store.read() as tx:
            tickets = tx.find_tickets(states=OPEN_STATES)
        return queries.queue(tickets, name, self._kit.standard, now or self._kit.clock.now())

    def awaiting_arbitration(self) -> list[queries.Arbitration]:
        """D5: the tickets the complaint-management department must decide, with every reason."""
        home = self._kit.standard.settings.complaint_department
        ctx = self._kit.context()
        with self._kit.store.read() as tx:
            waiting = [t for t in tx.find_tickets(states=OPEN_STATES, department=home)
                       if rules.awaiting_arbitration(t, ctx)]
            return [queries.arbitration(t, tx.events(t.id)) for t in waiting]

    def misdispatches(self, *, ticket_id: str | None = None, from_department: str | None = None) -> list[dict[str, Any]]:
        with self._kit.store.read() as tx:
            return dispatch_store.misdispatches(tx, ticket_id=ticket_id, from_department=from_department)

    def transfer_targets(self, department: str) -> list[str]:
        """D3: where ``department`` may transfer a ticket directly."""
        s = self._kit.standard
        if not s.dispatch.transfers:
            return sorted(d.code for d in s.departments if d.code != department)
        return s.dispatch.transfer_targets(department, s.departments)


PART = Part("dispatch", api=DispatchApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
