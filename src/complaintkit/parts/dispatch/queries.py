"""The dispatch part's read side: queues in priority order, arbitration, misdispatches, the graph.

Every queue — a department's, a business line's pool (``pool:<line>``) or seat queue
(``seat:<line>``), a handler's own — is ordered by :func:`priority_key`:

1. major complaints first (E1: first priority, above even an older overdue general ticket);
2. then overdue tickets (C3);
3. then repeat complaints (E3: handled first);
4. in the specialist mode, ticket work before the line's online follow-ups it watches (A6);
5. then by the earliest due time, paused clocks last; ties by ticket id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from complaintkit.core.model import DeadlineState, Event, Marker, Ticket, TicketState
from complaintkit.parts.dispatch.rules import POOL, SEAT
from complaintkit.parts.time_limits.queries import QueueEntry, entry
from complaintkit.standard import Standard


def priority_key(e: QueueEntry, *, specialist: bool = False) -> tuple[int, int, int, int, float, str]:
    markers = e.ticket.markers
    due = e.next_due_at.timestamp() if e.next_due_at is not None else float("inf")
    follow_up = 1 if specialist and e.ticket.state is TicketState.FOLLOW_UP else 0
    return (0 if Marker.MAJOR in markers else 1, 0 if e.state is DeadlineState.OVERDUE else 1,
            0 if Marker.REPEAT in markers else 1, follow_up, due, e.ticket.id)


def in_queue(ticket: Ticket, name: str, standard: Standard) -> bool:
    if not ticket.is_open:
        return False
    if name.startswith((POOL, SEAT)):
        if ticket.handler == name:
            return True
        if name.startswith(SEAT) and ticket.state is TicketState.FOLLOW_UP:
            # a specialist line also watches the online follow-ups of its categories (A6)
            line = standard.dispatch.skill_group_for(standard.category_path(ticket.category))
            return line is not None and f"{SEAT}{line.code}" == name
        return False
    if any(d.code == name for d in standard.departments):
        return ticket.department == name and ticket.state is not TicketState.FOLLOW_UP
    return ticket.handler == name  # a handler's own queue


def queue(tickets: Iterable[Ticket], name: str, standard: Standard, now: datetime) -> list[QueueEntry]:
    """The open tickets of a queue, first to handle first (:func:`priority_key`)."""
    specialist = standard.settings.processing_mode == "specialist"
    entries = [entry(t, standard, now) for t in tickets if in_queue(t, name, standard)]
    return sorted(entries, key=lambda e: priority_key(e, specialist=specialist))


@attrs.define(frozen=True)
class Arbitration:
    """A ticket waiting for the complaint-management department to decide its lead department."""

    ticket: Ticket
    bounces: int
    #: every misdispatch since it last had an owner: from_department, reason, actor, at
    reasons: tuple[dict[str, object], ...]


def arbitration(ticket: Ticket, history: Iterable[Event]) -> Arbitration:
    from complaintkit.parts.dispatch.rules import reasons_since_owner

    return Arbitration(ticket, ticket.bounces, tuple(reasons_since_owner(list(history))))


__all__ = ["Arbitration", "arbitration", "in_queue", "priority_key", "queue"]
