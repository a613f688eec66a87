"""Tracking's piece of the store: ``ck_tracking``, one row per tracked complaint (F1, F2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import insert, select, update

from complaintkit.engine.commands import Rows
from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc


@attrs.define(frozen=True)
class Tracking:
    """A tracked complaint: its expected resolution, first reply, rounds, final reply, escalation."""

    ticket_id: str
    expected_at: datetime
    marked_at: datetime
    first_reply_at: datetime | None = None
    rounds: int = 0
    final_replied_at: datetime | None = None
    escalated_at: datetime | None = None

    def write(self, tx: Transaction, now: datetime) -> None:
        row = {k: (utc(v) if isinstance(v, datetime) else v) for k, v in attrs.asdict(self).items()}
        t = schema.tracking.c
        if tx.conn.execute(update(schema.tracking).where(t.ticket_id == self.ticket_id).values(**row)).rowcount == 0:
            tx.conn.execute(insert(schema.tracking).values(**row))


def read_one(tx: Transaction, ticket_id: str) -> Tracking | None:
    t = schema.tracking.c
    row = tx.conn.execute(select(schema.tracking).where(t.ticket_id == ticket_id)).first()
    return None if row is None else _tracking(row._mapping)


def _tracking(m: Any) -> Tracking:
    values: dict[str, Any] = {k: (aware(v) if isinstance(v, datetime) else v) for k, v in dict(m).items()}
    return Tracking(**values)


def tracking_of(ticket_id: str) -> Rows:
    return Rows(("tracking", ticket_id), lambda tx: read_one(tx, ticket_id))


def every(tx: Transaction) -> list[Tracking]:
    return [_tracking(r._mapping) for r in tx.conn.execute(select(schema.tracking).order_by(schema.tracking.c.marked_at))]


__all__ = ["Tracking", "every", "read_one", "tracking_of"]
