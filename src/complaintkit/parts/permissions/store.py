"""The permission part's piece of the store: every refusal, kept for audit (SPEC H3).

A refusal is written in a transaction of its own — the refused command's transaction was rolled
back — as a row of ``ck_refusals`` and, for each ticket the command concerned, a
``permission_refused`` event in the ticket's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import insert, select

from complaintkit.core.errors import PermissionDenied
from complaintkit.core.model import Event
from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc


@attrs.define(frozen=True)
class Refusal:
    """One refused command: who, what, on which tickets, by which rule and why."""

    at: datetime
    actor: str
    role: str
    action: str
    permission: str
    rule: str
    reason: str
    ticket_ids: tuple[str, ...] = ()
    amount_fen: int | None = None
    limit_fen: int | None = None

    @classmethod
    def of(cls, refused: PermissionDenied, at: datetime) -> Refusal:
        return cls(at, refused.actor, refused.role, refused.action, refused.permission, refused.rule,
                   refused.reason, refused.ticket_ids, refused.amount_fen, refused.limit_fen)

    def event(self, ticket_id: str) -> Event:
        data: dict[str, Any] = {"action": self.action, "permission": self.permission, "role": self.role,
                                "rule": self.rule}
        if self.amount_fen is not None:
            data["amount_fen"] = self.amount_fen
        if self.limit_fen is not None:
            data["limit_fen"] = self.limit_fen
        return Event(ticket_id, self.at, self.actor, "permission_refused", reason=self.reason, data=data)

    def write(self, tx: Transaction, now: datetime) -> None:
        tx.add_events([self.event(t) for t in self.ticket_ids])
        tx.conn.execute(insert(schema.refusals).values(
            at=utc(self.at), actor=self.actor[:60], role=self.role[:20], action=self.action[:80],
            permission=self.permission[:80], rule=self.rule[:12], reason=self.reason,
            ticket_id=",".join(self.ticket_ids)[:400], amount_fen=self.amount_fen, limit_fen=self.limit_fen))


def refusals(tx: Transaction, *, actor: str | None = None) -> list[dict[str, Any]]:
    """Every stored refusal, oldest first (of one actor, if given)."""
    r = schema.refusals.c
    query = select(schema.refusals).order_by(r.id)
    if actor is not None:
        query = query.where(r.actor == actor)
    rows = []
    for row in tx.conn.execute(query):
        found = dict(row._mapping)
        found["at"] = aware(found["at"])
        found["ticket_ids"] = tuple(t for t in found.pop("ticket_id").split(",") if t)
        rows.append(found)
    return rows


__all__ = ["Refusal", "refusals"]
