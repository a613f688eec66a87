"""The return visits' piece of the store: ``ck_return_visits``, one row per visit.

A visit changes only together with its ticket (the command locks the ticket and records an
event on it), so the ticket's version check re-runs a command that read visits another command
changed meanwhile.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import func, insert, select, update

from complaintkit.core.codec import converter
from complaintkit.engine.commands import Rows
from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc
from complaintkit.parts.return_visits.model import Visit, VisitStatus

_COLUMNS = ("id", "ticket_id", "msisdn", "channel", "status", "outcome", "opened_at", "due_at", "done_at")


def _row(visit: Visit) -> dict[str, Any]:
    doc = converter.unstructure(visit)
    return {
        "id": visit.id, "ticket_id": visit.ticket_id, "msisdn": visit.msisdn, "channel": visit.channel.value,
        "status": visit.status.value, "outcome": visit.outcome, "opened_at": utc(visit.opened_at),
        "due_at": utc(visit.due_at), "done_at": utc(visit.done_at) if visit.done_at else None,
        "data": json.dumps({k: v for k, v in doc.items() if k not in _COLUMNS}, ensure_ascii=False),
    }


def _visit(row: Any) -> Visit:
    m = row._mapping
    doc = {**json.loads(m["data"]), **{k: m[k] for k in _COLUMNS}}
    for k in ("opened_at", "due_at", "done_at"):
        doc[k] = aware(doc[k])
    return converter.structure(doc, Visit)


@attrs.define(frozen=True)
class VisitRow:
    """A visit as decided by a rule: inserted when new, else updated."""

    visit: Visit

    def write(self, tx: Transaction, now: datetime) -> None:
        row = _row(self.visit)
        v = schema.return_visits.c
        done = tx.conn.execute(update(schema.return_visits).where(v.id == self.visit.id).values(**row))
        if done.rowcount == 0:
            tx.conn.execute(insert(schema.return_visits).values(**row))


def ticket_visits(ticket_id: str) -> Rows:
    """Every visit of a ticket, oldest first."""

    def read(tx: Transaction) -> list[Visit]:
        v = schema.return_visits.c
        query = select(schema.return_visits).where(v.ticket_id == ticket_id).order_by(v.opened_at, v.id)
        return [_visit(r) for r in tx.conn.execute(query)]

    return Rows(("return_visits", ticket_id), read)


def open_visits(msisdn: str) -> Rows:
    """The customer's open visits (an SMS answer is matched among the surveys)."""

    def read(tx: Transaction) -> list[Visit]:
        v = schema.return_visits.c
        query = (select(schema.return_visits).where(v.msisdn == msisdn, v.status == VisitStatus.OPEN.value)
                 .order_by(v.opened_at, v.id))
        return [_visit(r) for r in tx.conn.execute(query)]

    return Rows(("open_return_visits", msisdn), read)


def all_visits(tx: Transaction, *, since: datetime | None = None, until: datetime | None = None) -> list[Visit]:
    """Every visit opened in ``[since, until)`` (reports, the demo's summary)."""
    v = schema.return_visits.c
    query = select(schema.return_visits).order_by(v.opened_at, v.id)
    if since is not None:
        query = query.where(v.opened_at >= utc(since))
    if until is not None:
        query = query.where(v.opened_at < utc(until))
    return [_visit(r) for r in tx.conn.execute(query)]


def visit_counts(tx: Transaction, *, since: datetime | None = None,
                 until: datetime | None = None) -> list[tuple[str, str, str, int]]:
    """How many visits opened in ``[since, until)`` there are by (status, channel, outcome):
    counted by the database, whatever their number."""
    v = schema.return_visits.c
    query = select(v.status, v.channel, v.outcome, func.count()).group_by(v.status, v.channel, v.outcome)
    if since is not None:
        query = query.where(v.opened_at >= utc(since))
    if until is not None:
        query = query.where(v.opened_at < utc(until))
    return [(r[0], r[1], r[2], int(r[3])) for r in tx.conn.execute(query)]


__all__ = ["VisitRow", "all_visits", "open_visits", "ticket_visits", "visit_counts"]
