"""The dispatch part's table: every misdispatch with its reason (D5), across tickets.

The ticket's history has the same facts; this table lets the complaint-management department and
the reports ask "which department called which tickets misdispatched, and why" on an index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import select

from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc


@attrs.define(frozen=True)
class MisdispatchRow:
    ticket_id: str
    at: datetime
    from_department: str
    requested: str
    department: str
    reason: str
    actor: str
    bounces: int

    def write(self, tx: Transaction, now: datetime) -> None:
        tx.conn.execute(schema.misdispatches.insert().values(
            ticket_id=self.ticket_id, at=utc(self.at), from_department=self.from_department,
            requested=self.requested, department=self.department, reason=self.reason, actor=self.actor,
            bounces=self.bounces))


def misdispatches(tx: Transaction, *, ticket_id: str | None = None, from_department: str | None = None) -> list[dict[str, Any]]:
    m = schema.misdispatches.c
    query = select(schema.misdispatches).order_by(m.id)
    if ticket_id is not None:
        query = query.where(m.ticket_id == ticket_id)
    if from_department is not None:
        query = query.where(m.from_department == from_department)
    return [{**r._mapping, "at": aware(r.at)} for r in tx.conn.execute(query)]


__all__ = ["MisdispatchRow", "misdispatches"]
