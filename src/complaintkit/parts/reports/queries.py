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

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs
from sqlalchemy import and_, exists, or_, select

from complaintkit.core.model import TicketKind
from complaintkit.engine.context import KitReads
from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import utc

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


#: tickets read per query, with their events in one more: the memory a report holds at once
CHUNK = 500


class TicketFacts(Protocol):
    """What the KPIs read of a ticket (a :class:`~complaintkit.core.model.Ticket` has it)."""

    @property
    def kind(self) -> TicketKind: ...
    @property
    def department(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


class EventFacts(Protocol):
    """What the KPIs read of an event (an :class:`~complaintkit.core.model.Event` has it)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@attrs.define(frozen=True)
class _Ticket:
    kind: TicketKind
    department: str
    created_at: datetime


@attrs.define(frozen=True)
class _Event:
    at: datetime
    kind: str
    data: Mapping[str, Any]


def _accepted_at(ticket: TicketFacts, events: Sequence[EventFacts]) -> datetime | None:
    if ticket.kind is TicketKind.ONLINE_FOLLOW_UP:
        return next((e.at for e in events if e.kind == "convert"), None)
    return next((e.at for e in events if e.kind == "accept"), ticket.created_at)


def compute(histories: Iterable[tuple[TicketFacts, Sequence[EventFacts]]], start: datetime, end: datetime, *,
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
    point the kit at a read replica for large provinces).

    Only the tickets the period concerns are read — created in it, or with an event in it —
    :data:`CHUNK` at a time with their events in one query, so the memory held does not grow
    with the province's history."""
    with kit.store.read() as tx:
        return compute(histories(tx, start, end, department=department), start, end, department=department)


def histories(tx: Transaction, start: datetime, end: datetime, *,
              department: str | None = None) -> Iterator[tuple[TicketFacts, list[EventFacts]]]:
    """The tickets :func:`compute` can count for ``[start, end)``, each with its events in order.

    A ticket counts only through an event in the period (a deadline met, its acceptance or
    conversion) or, accepted without an ``accept`` event, through its creation in the period;
    every other ticket adds nothing, so it is not read."""
    t, e = schema.tickets.c, schema.events.c
    lo, hi = utc(start), utc(end)
    query = (select(t.id, t.kind, t.department, t.created_at)
             .where(or_(and_(t.created_at >= lo, t.created_at < hi),
                        exists().where(e.ticket_id == t.id, e.at >= lo, e.at < hi)))
             .order_by(t.id).limit(CHUNK))
    if department is not None:
        query = query.where(t.department == department)
    after: str | None = None
    while True:
        rows = tx.conn.execute(query if after is None else query.where(t.id > after)).all()
        if not rows:
            return
        events: defaultdict[str, list[EventFacts]] = defaultdict(list)
        for r in tx.conn.execute(select(e.ticket_id, e.at, e.kind, e.data)
                                 .where(e.ticket_id.in_([r.id for r in rows])).order_by(e.ticket_id, e.id)):
            events[r.ticket_id].append(_Event(r.at.replace(tzinfo=UTC), r.kind, json.loads(r.data)["data"]))
        for r in rows:
            yield _Ticket(TicketKind(r.kind), r.department, r.created_at.replace(tzinfo=UTC)), events[r.id]
        after = rows[-1].id


__all__ = ["CHUNK", "COMPLETION_WINDOW", "EventFacts", "Kpis", "TicketFacts", "compute", "histories", "kpis"]
