"""KPIs of the time limits (SPEC L1): 48 h completion rate, timeliness rate, average handling time.

Definitions (also in ``docs/time-limits.md``):

* **population** — the tickets *accepted* in ``[start, end)``: a normal or remedy ticket at its
  acceptance; an online follow-up only if the customer's reply converted it into a complaint,
  at the conversion (a follow-up that closed without a reply never was a complaint). With
  ``department``, only the tickets whose current department is that one.
* **48 h completion rate** — the share of the population whose result was first *replied* to the
  customer within 48 natural hours of acceptance (the reply is what the customer experiences as
  "done"; the return visit and archive come later and have their own limit). A ticket not yet
  replied counts as not completed. ``None`` when the population is empty.
* **average handling time** — the mean of (first reply − acceptance), in natural hours, over the
  population's replied tickets. ``None`` when none was replied.
* **timeliness rate** — the share of the deadlines *met* in ``[start, end)`` (any stage: dispatch,
  handling, reply, return visit, total) that were met on or before their due time; taken from the
  events' ``deadlines_met`` history, so a stage met twice (a re-activated ticket) counts twice.
  With ``department``, the deadlines of tickets whose current department is that one.
* **return-visit timeliness** (SPEC G1, G2, L1) — the same, over the return-visit deadlines only:
  ``return_visit`` (G1's 3 working days, G5's 48 h) and ``phone_visit`` (G2's 1 working day).
  A visit meets its deadline when it is done (``parts/return_visits``), so a visit made in time
  counts as timely however late the ticket is archived.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from complaintkit.core.model import Event, Ticket, TicketKind
from complaintkit.engine.context import KitReads

COMPLETION_WINDOW = timedelta(hours=48)
#: the deadlines return visits meet (G1, G5: ``return_visit``; G2: ``phone_visit``)
VISIT_DEADLINES = ("return_visit", "phone_visit")


@attrs.define(frozen=True)
class Kpis:
    start: datetime
    end: datetime
    department: str | None
    #: tickets accepted in the period (the population)
    accepted: int
    #: of those, first replied within 48 natural hours of acceptance
    completed_within_48h: int
    completion_rate_48h: float | None
    #: of the population, replied at all
    replied: int
    average_handling_hours: float | None
    #: deadlines met in the period, and of those, on time
    deadlines_met: int
    deadlines_met_on_time: int
    timeliness_rate: float | None
    #: return-visit deadlines met in the period, and of those, on time
    return_visits_met: int = 0
    return_visits_met_on_time: int = 0
    return_visit_timeliness: float | None = None


def _accepted_at(ticket: Ticket, events: Sequence[Event]) -> datetime | None:
    if ticket.kind is TicketKind.ONLINE_FOLLOW_UP:
        return next((e.at for e in events if e.kind == "convert"), None)
    return next((e.at for e in events if e.kind == "accept"), ticket.created_at)


def compute(histories: Iterable[tuple[Ticket, Sequence[Event]]], start: datetime, end: datetime, *,
            department: str | None = None) -> Kpis:
    """The KPIs from tickets and their events (pure; :func:`kpis` loads them)."""
    accepted = completed = replied = met = on_time = visits_met = visits_on_time = 0
    handling = timedelta(0)
    for ticket, events in histories:
        if department is not None and ticket.department != department:
            continue
        for e in events:
            if start <= e.at < end:
                for name, outcome in e.data.get("deadlines_met", {}).items():
                    met += 1
                    on_time += not outcome.get("late", False)
                    if name in VISIT_DEADLINES:
                        visits_met += 1
                        visits_on_time += not outcome.get("late", False)
        at = _accepted_at(ticket, events)
        if at is None or not start <= at < end:
            continue
        accepted += 1
        first_reply = next((e.at for e in events if e.kind == "reply"), None)
        if first_reply is not None:
            replied += 1
            took = first_reply - at
            handling += took
            completed += took <= COMPLETION_WINDOW
    return Kpis(
        start=start, end=end, department=department,
        accepted=accepted,
        completed_within_48h=completed,
        completion_rate_48h=completed / accepted if accepted else None,
        replied=replied,
        average_handling_hours=handling.total_seconds() / 3600 / replied if replied else None,
        deadlines_met=met,
        deadlines_met_on_time=on_time,
        timeliness_rate=on_time / met if met else None,
        return_visits_met=visits_met,
        return_visits_met_on_time=visits_on_time,
        return_visit_timeliness=visits_on_time / visits_met if visits_met else None,
    )


def kpis(kit: KitReads, start: datetime, end: datetime, *, department: str | None = None) -> Kpis:
    """The KPIs over ``[start, end)``, optionally for one department (read in one transaction;
    point the kit at a read replica for large provinces)."""
    with kit.store.read() as tx:
        histories = [(t, tx.events(t.id)) for t in tx.find_tickets()]
    return compute(histories, start, end, department=department)


__all__ = ["COMPLETION_WINDOW", "Kpis", "compute", "kpis"]
