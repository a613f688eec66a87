"""The demo's summary, counted by the database.

Every figure is a query: counts by state and kind, the markers and the follow-up problem type
read out of the ticket's JSON by the database's own JSON functions, the customers' replies, the
messages, the visits and the tracking rounds. Nothing is loaded ticket by ticket, so a province's
month is summed up in the memory a small one needs; the only figure that reads rows — the mean
handling time, exact to the microsecond — reads two timestamps a ticket, a chunk at a time.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import Text, cast, func, select, true
from sqlalchemy.dialects import postgresql

from complaintkit.core.model import Marker, TicketKind, TicketState
from complaintkit.engine.store import Transaction, schema
from complaintkit.parts.reports import queries as reports
from complaintkit.parts.special.queries import SPECIAL

#: archived tickets read per query for the mean handling time
CHUNK = 2000


@attrs.define
class DemoResult:
    tickets: int
    by_state: dict[str, int]
    overdue: int
    archived: int
    average_handling_hours: float
    follow_ups: int
    replies: dict[str, int]
    sms_sent: int
    messages_failed: int
    virtual_days: float
    #: return visits done, by channel and by outcome (SPEC G1)
    visits_by_channel: dict[str, int] = attrs.field(factory=dict)
    visits_by_outcome: dict[str, int] = attrs.field(factory=dict)
    #: remedy tickets opened (G3) and tracking rounds run (F1)
    remedy_tickets: int = 0
    tracking_rounds: int = 0
    #: share of return-visit deadlines met on time (L1)
    return_visit_timeliness: float | None = None
    #: special tickets: how many carry each marker (repeat, major, misdispatched …)
    special: dict[str, int] = attrs.field(factory=dict)
    #: batch requests: callers recorded, warnings started, warnings cleared
    batch_callers: int = 0
    batch_warnings: int = 0
    batch_cleared: int = 0
    #: misdispatched tickets the complaint-management department arbitrated
    arbitrated: int = 0


def summarize(kit: Any, start: datetime, end: datetime, *, arbitrated: int = 0) -> DemoResult:
    """The figures of the complaints in the store (remedy tickets counted on their own line),
    for a run from ``start`` to ``end`` on the kit's clock."""
    t = schema.tickets.c
    complaints = t.kind != TicketKind.REMEDY.value
    with kit.store.read() as tx:
        # sorted here, not by the database: its collation may order "_" otherwise
        by_state = dict(sorted((state, int(n)) for state, n in tx.conn.execute(
            select(t.state, func.count()).where(complaints).group_by(t.state))))
        remedies = tx.conn.execute(select(func.count()).where(t.kind == TicketKind.REMEDY.value)).scalar_one()
        markers = _marker_counts(tx)
        follow_ups = tx.conn.execute(select(func.count()).where(
            complaints, func.coalesce(_text_field(tx, "problem_type"), "") != "")).scalar_one()
        hours = _average_handling_hours(tx)
        i = schema.inbound.c
        # in the order each outcome first came, as the replies arrived
        replies = {outcome: int(n) for outcome, n, _ in tx.conn.execute(
            select(i.outcome, func.count(), func.min(i.id)).group_by(i.outcome).order_by(func.min(i.id)))}
        o = schema.outbox.c
        sms_sent = tx.conn.execute(select(func.count()).where(o.channel == "sms", o.state == "completed")).scalar_one()
        failed = tx.conn.execute(select(func.count()).where(o.state == "failed")).scalar_one()
        rounds = tx.conn.execute(select(func.coalesce(func.sum(schema.tracking.c.rounds), 0))).scalar_one()
    visits = kit.parts.return_visits.summary()
    kpis = reports.kpis(kit, start, end + timedelta(seconds=1))
    batches = kit.parts.special.batches()
    return DemoResult(
        special={m.value: markers.get(m.value, 0) for m in SPECIAL},
        batch_callers=sum(b.callers for b in batches),
        batch_warnings=sum(1 for b in batches if b.warning_at is not None),
        batch_cleared=sum(1 for b in batches if b.state == "cleared"),
        arbitrated=arbitrated,
        tickets=sum(by_state.values()),
        by_state=by_state,
        overdue=markers.get(Marker.OVERDUE.value, 0),
        archived=by_state.get(TicketState.ARCHIVED.value, 0),
        average_handling_hours=hours,
        follow_ups=int(follow_ups),
        replies=replies,
        sms_sent=int(sms_sent),
        messages_failed=int(failed),
        virtual_days=(end - start).total_seconds() / 86400,
        visits_by_channel=visits.by_channel,
        visits_by_outcome=visits.by_outcome,
        remedy_tickets=int(remedies),
        tracking_rounds=int(rounds),
        return_visit_timeliness=kpis.return_visit_timeliness,
    )


def summary_rows(result: DemoResult, *, emails_sent: int) -> list[tuple[str, str]]:
    """The summary as the demo prints it, one (measure, value) a line."""
    rows = [("tickets", str(result.tickets))]
    rows += [(f"  in state {state}", str(count)) for state, count in result.by_state.items()]
    rows += [("archived", str(result.archived)),
             ("overdue (marked)", str(result.overdue)),
             ("average handling time (accept → archive)", f"{result.average_handling_hours:.1f} h"),
             ("online follow-ups", str(result.follow_ups))]
    rows += [(f"  customer replies: {outcome}", str(count)) for outcome, count in sorted(result.replies.items())]
    rows += [(f"return visits by {channel}", str(count)) for channel, count in result.visits_by_channel.items()]
    rows += [(f"  return visits: {outcome}", str(count)) for outcome, count in result.visits_by_outcome.items()]
    if result.return_visit_timeliness is not None:
        rows.append(("return-visit timeliness", f"{result.return_visit_timeliness:.1%}"))
    rows += [("remedy tickets", str(result.remedy_tickets)),
             ("tracking rounds", str(result.tracking_rounds)),
             ("special tickets (E): repeat", str(result.special.get("repeat", 0))),
             ("  major", str(result.special.get("major", 0))),
             ("  misdispatched (D5)", str(result.special.get("misdispatched", 0))),
             ("  misdispatched, arbitrated", str(result.arbitrated)),
             ("  batch callers recorded", str(result.batch_callers)),
             ("  batch warnings started / cleared", f"{result.batch_warnings} / {result.batch_cleared}"),
             ("SMS sent", str(result.sms_sent)),
             ("e-mail reminders sent", str(emails_sent)),
             ("messages failed", str(result.messages_failed))]
    return rows


def _text_field(tx: Transaction, key: str) -> Any:
    """A top-level text field of the ticket's JSON, read by the database."""
    data = schema.tickets.c.data
    if tx.dialect == "postgresql":
        return cast(data, postgresql.JSON)[key].astext
    return func.json_extract(data, f"$.{key}")


def _marker_counts(tx: Transaction) -> Counter[str]:
    """How many complaints carry each marker (a ticket counts once under each of its markers:
    they are a set)."""
    t = schema.tickets.c
    if tx.dialect == "postgresql":
        markers = func.json_array_elements_text(cast(t.data, postgresql.JSON)["markers"]).table_valued(
            "value", name="marker")
    else:
        markers = func.json_each(t.data, "$.markers").table_valued("value", name="marker")
    value = cast(markers.c.value, Text)
    rows = tx.conn.execute(select(value, func.count()).select_from(schema.tickets.join(markers, true()))
                           .where(t.kind != TicketKind.REMEDY.value).group_by(value))
    return Counter({str(marker): int(n) for marker, n in rows})


def _average_handling_hours(tx: Transaction) -> float:
    """Mean natural hours from creation to the last change, over the archived normal complaints:
    the durations are summed exactly, a chunk of tickets at a time."""
    t = schema.tickets.c
    query = (select(t.id, t.created_at, t.updated_at)
             .where(t.kind == TicketKind.NORMAL.value, t.state == TicketState.ARCHIVED.value)
             .order_by(t.id).limit(CHUNK))
    total, count, after = timedelta(0), 0, None
    while True:
        rows = tx.conn.execute(query if after is None else query.where(t.id > after)).all()
        if not rows:
            break
        for r in rows:
            total += r.updated_at - r.created_at
        count += len(rows)
        after = rows[-1].id
    return total.total_seconds() / 3600 / count if count else 0.0


__all__ = ["CHUNK", "DemoResult", "summarize", "summary_rows"]
