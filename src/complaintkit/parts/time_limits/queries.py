"""The time limits' read side: every deadline of a ticket with its state, a department's queue,
and the daily digest of overdue and near-overdue tickets (SPEC C3, C4, C5, E).

Everything here is a pure function of ticket values, the standard and ``now``; the kit's query
methods (:meth:`ComplaintKit.deadlines`, :meth:`ComplaintKit.queue`,
:meth:`ComplaintKit.send_daily_digest`) load the tickets and call them.

The state shown is the one *at* ``now``: a deadline whose overdue timer has not fired yet (the
worker is behind) is already shown overdue. The states are

* ``met`` — its stage's action happened (``late`` says whether after the due time);
* ``paused`` — the clock is stopped while waiting on the customer (C5);
* ``overdue`` — past its due time;
* ``near_overdue`` — past its near-overdue moment (C3; 1 h before, or a share of the limit);
* ``running`` — none of the above;
* ``cancelled`` — dropped by a re-computation (a re-activated ticket's return visit).

The internal target (C4) has its own state: ``none`` (no target), ``pending`` (not reached yet),
``missed`` (passed before the stage was met, or still running past it), ``kept`` (met before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from complaintkit.core.model import (
    Deadline,
    DeadlineState,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
)
from complaintkit.parts.time_limits.rules import near_at
from complaintkit.standard import Standard

#: ticket states whose deadlines are watched (the online follow-up branch has its own)
OPEN_STATES = (TicketState.ACCEPTED, TicketState.IN_HANDLING, TicketState.REPLIED, TicketState.RETURN_VISIT,
               TicketState.FOLLOW_UP)

#: template the digest uses when the standard has one (variables: department, date, count, lines)
DIGEST_TEMPLATE = "daily_digest"


@attrs.define(frozen=True)
class DeadlineView:
    """One deadline as a handler sees it."""

    ticket_id: str
    name: str
    limit: str
    started_at: datetime
    due_at: datetime
    state: DeadlineState
    near_at: datetime | None
    met_at: datetime | None
    #: met after the due time (None while not met)
    late: bool | None
    internal_due_at: datetime | None
    #: none | pending | kept | missed
    internal_state: str
    #: due time minus now (negative when overdue; None when met, cancelled or paused)
    remaining: timedelta | None
    #: computed past the working calendar's data, on the weekday rule: may move when the year is added
    provisional: bool = False


def state_at(deadline: Deadline, standard: Standard, now: datetime) -> DeadlineState:
    if deadline.state in (DeadlineState.MET, DeadlineState.PAUSED, DeadlineState.CANCELLED):
        return deadline.state
    if deadline.state is DeadlineState.OVERDUE or now >= deadline.due_at:
        return DeadlineState.OVERDUE
    near = near_at(deadline, standard)
    if deadline.state is DeadlineState.NEAR_OVERDUE or (near is not None and now >= near):
        return DeadlineState.NEAR_OVERDUE
    return DeadlineState.RUNNING


def internal_state(deadline: Deadline, now: datetime) -> str:
    target = deadline.internal_due_at
    if target is None:
        return "none"
    if deadline.state is DeadlineState.MET and deadline.met_at is not None:
        return "kept" if deadline.met_at <= target else "missed"
    if deadline.state in (DeadlineState.PAUSED, DeadlineState.CANCELLED):
        return "pending" if now < target else "missed"
    return "missed" if now >= target else "pending"


def view(ticket: Ticket, deadline: Deadline, standard: Standard, now: datetime) -> DeadlineView:
    state = state_at(deadline, standard, now)
    met = deadline.state is DeadlineState.MET
    return DeadlineView(
        ticket_id=ticket.id,
        name=deadline.name,
        limit=deadline.limit,
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        state=state,
        near_at=near_at(deadline, standard),
        met_at=deadline.met_at,
        late=(deadline.met_at > deadline.due_at) if met and deadline.met_at is not None else None,
        internal_due_at=deadline.internal_due_at,
        internal_state=internal_state(deadline, now),
        remaining=(deadline.due_at - now) if state in (DeadlineState.RUNNING, DeadlineState.NEAR_OVERDUE,
                                                       DeadlineState.OVERDUE) else None,
        provisional=deadline.provisional,
    )


def ticket_deadlines(ticket: Ticket, standard: Standard, now: datetime) -> list[DeadlineView]:
    """Every deadline of the ticket, in the order they were started."""
    return [view(ticket, d, standard, now) for d in ticket.deadlines]


def is_paused(ticket: Ticket) -> bool:
    return any(d.state is DeadlineState.PAUSED for d in ticket.deadlines)


@attrs.define(frozen=True)
class QueueEntry:
    """One open ticket in a department's queue."""

    ticket: Ticket
    #: the most pressing state of its running deadlines: overdue, near_overdue, running, paused
    state: DeadlineState
    #: major or repeat complaint: handled first (SPEC E1, E3)
    priority: bool
    #: the earliest due time among its running deadlines (None when all are paused or met)
    next_due_at: datetime | None
    #: the deadline that is due next (or overdue longest)
    next_deadline: str
    overdue: tuple[str, ...]
    near_overdue: tuple[str, ...]


_RANK = {DeadlineState.OVERDUE: 0, DeadlineState.NEAR_OVERDUE: 1, DeadlineState.RUNNING: 2,
         DeadlineState.PAUSED: 3}


def entry(ticket: Ticket, standard: Standard, now: datetime) -> QueueEntry:
    views = [v for v in ticket_deadlines(ticket, standard, now)
             if v.state in (DeadlineState.RUNNING, DeadlineState.NEAR_OVERDUE, DeadlineState.OVERDUE,
                            DeadlineState.PAUSED)]
    running = sorted((v for v in views if v.state is not DeadlineState.PAUSED), key=lambda v: v.due_at)
    state = min((v.state for v in views), key=_RANK.__getitem__, default=DeadlineState.RUNNING)
    return QueueEntry(
        ticket=ticket,
        state=state,
        priority=bool({Marker.MAJOR, Marker.REPEAT} & ticket.markers),
        next_due_at=running[0].due_at if running else None,
        next_deadline=running[0].name if running else "",
        overdue=tuple(v.name for v in views if v.state is DeadlineState.OVERDUE),
        near_overdue=tuple(v.name for v in views if v.state is DeadlineState.NEAR_OVERDUE),
    )



def urgency_key(e: QueueEntry) -> tuple[int, int, float, str]:
    """Overdue tickets first; within overdue and within the rest, major and repeat complaints
    first (E1, E3: handled first); then by the earliest due time; tickets whose clock is paused
    last; ties by ticket id."""
    due = e.next_due_at.timestamp() if e.next_due_at is not None else float("inf")
    return (0 if e.state is DeadlineState.OVERDUE else 1, 0 if e.priority else 1, due, e.ticket.id)


def department_queue(tickets: Iterable[Ticket], department: str, standard: Standard,
                     now: datetime) -> list[QueueEntry]:
    """The department's open tickets, most urgent first (:func:`urgency_key`)."""
    entries = [entry(t, standard, now) for t in tickets if t.is_open and t.department == department]
    return sorted(entries, key=urgency_key)


# -- the daily digest ------------------------------------------------------------------------------


def digest_messages(tickets: Iterable[Ticket], standard: Standard, now: datetime, *,
                    tz: object = None) -> list[OutgoingMessage]:
    """One e-mail per department listing its overdue and near-overdue open tickets, most urgent
    first. The idempotency key is ``digest:<department>:<local date>``: the outbox queues a key
    once, so running the digest twice the same day sends one e-mail per department."""
    local = now.astimezone(tz) if tz is not None else now  # type: ignore[arg-type]
    day = local.date().isoformat()
    by_department: dict[str, list[QueueEntry]] = {}
    for t in tickets:
        if not t.is_open or (t.kind is TicketKind.ONLINE_FOLLOW_UP and t.state is TicketState.FOLLOW_UP):
            continue
        e = entry(t, standard, now)
        if e.overdue or e.near_overdue:
            department = t.department or standard.settings.complaint_department
            by_department.setdefault(department, []).append(e)
    messages = []
    for department in sorted(by_department):
        entries = sorted(by_department[department], key=urgency_key)
        lines = "\n".join(_line(e, tz) for e in entries)
        overdue = sum(1 for e in entries if e.overdue)
        values = {"department": department, "date": day, "count": len(entries), "overdue": overdue,
                  "near_overdue": len(entries) - overdue, "lines": lines}
        if DIGEST_TEMPLATE in standard.templates:
            text = standard.render(DIGEST_TEMPLATE, **values)
        else:
            text = (f"{department} {day}: {overdue} overdue and {len(entries) - overdue} near-overdue "
                    f"tickets (超时 {overdue} 件，即将超时 {len(entries) - overdue} 件)\n{lines}")
        messages.append(OutgoingMessage(
            key=f"digest:{department}:{day}",
            channel=MessageChannel.EMAIL,
            to=department,
            subject=f"[daily digest] {department} {day}: {overdue} overdue, {len(entries) - overdue} near-overdue",
            text=text,
            template=DIGEST_TEMPLATE,
        ))
    return messages


def _line(e: QueueEntry, tz: object) -> str:
    def fmt(d: datetime) -> str:
        return (d.astimezone(tz) if tz is not None else d).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]

    marks = "".join(f"[{m}]" for m in ("major", "repeat") if Marker(m) in e.ticket.markers)
    parts = [f"overdue: {', '.join(e.overdue)}"] if e.overdue else []
    if e.near_overdue:
        parts.append(f"near-overdue: {', '.join(e.near_overdue)}")
    due = f"earliest due: {e.next_deadline} {fmt(e.next_due_at)}" if e.next_due_at else "paused"
    return f"- {e.ticket.id}{marks} {e.ticket.category} handler {e.ticket.handler}: {'; '.join(parts)}; {due}"


__all__ = ["DeadlineView", "QueueEntry", "department_queue", "digest_messages", "entry", "internal_state",
           "is_paused", "near_at", "state_at", "ticket_deadlines", "urgency_key"]
