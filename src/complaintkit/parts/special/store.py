"""The special tickets' tables: batch complaint requests and their callers (E2).

Reads run inside a command's transaction (declared as :class:`~complaintkit.engine.commands.
Rows`), locking the batch row on PostgreSQL — on SQLite the command's ``BEGIN IMMEDIATE``
already serialises writers — so two front-desk agents recording callers at once count both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import Select, func, select, update

from complaintkit.core.model import OutgoingMessage
from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc
from complaintkit.parts.special.rules import Batch

#: outbox rows per INSERT when a cleared warning queues its SMS (PostgreSQL binds at most 65535
#: parameters in one statement; an outbox row has 18)
CHUNK = 1000


def _batch(row: object) -> Batch:
    r = row._mapping  # type: ignore[attr-defined]
    return Batch(id=r["id"], category=r["category"], area=r["area"], state=r["state"], threshold=r["threshold"],
                 lead_department=r["lead_department"], callers=r["callers"], opened_at=aware(r["opened_at"]),  # type: ignore[arg-type]
                 opened_by=r["opened_by"], warning_at=aware(r["warning_at"]), cleared_at=aware(r["cleared_at"]),
                 cleared_by=r["cleared_by"], result=r["result"])


def _locked(tx: Transaction, query: Select[Any]) -> Select[Any]:
    return query.with_for_update() if tx.dialect == "postgresql" else query


def open_batch(tx: Transaction, category: str, area: str) -> Batch | None:
    """The batch request of a category and area still collecting or warning, locked."""
    b = schema.batches.c
    query = (select(schema.batches).where(b.category == category, b.area == area, b.state.in_(("collecting", "warning")))
             .order_by(b.opened_at.desc()).limit(1))
    row = tx.conn.execute(_locked(tx, query)).first()
    return _batch(row) if row is not None else None


def batch(tx: Transaction, batch_id: str, *, lock: bool = True) -> Batch | None:
    query = select(schema.batches).where(schema.batches.c.id == batch_id)
    row = tx.conn.execute(_locked(tx, query) if lock else query).first()
    return _batch(row) if row is not None else None


def batches(tx: Transaction, *, state: str | None = None) -> list[Batch]:
    query = select(schema.batches).order_by(schema.batches.c.opened_at)
    if state is not None:
        query = query.where(schema.batches.c.state == state)
    return [_batch(r) for r in tx.conn.execute(query)]


def callers(tx: Transaction, batch_id: str, among: Sequence[str] | None = None) -> list[str]:
    """The numbers recorded against a batch (only those ``among`` the given ones, if given)."""
    c = schema.batch_callers.c
    query = select(c.msisdn).where(c.batch_id == batch_id).order_by(c.msisdn)
    if among is not None:
        query = query.where(c.msisdn.in_(sorted(set(among))))
    return [r.msisdn for r in tx.conn.execute(query)]


def caller_count(tx: Transaction, batch_id: str) -> int:
    c = schema.batch_callers.c
    return int(tx.conn.execute(select(func.count()).where(c.batch_id == batch_id)).scalar_one())


@attrs.define(frozen=True)
class BatchRow:
    """The batch request as decided, inserted when new, updated otherwise."""

    batch: Batch
    new: bool

    def write(self, tx: Transaction, now: datetime) -> None:
        b = self.batch
        values = {"category": b.category, "area": b.area, "state": b.state, "threshold": b.threshold,
                  "lead_department": b.lead_department, "callers": b.callers, "opened_at": utc(b.opened_at),
                  "opened_by": b.opened_by, "warning_at": utc(b.warning_at) if b.warning_at else None,
                  "cleared_at": utc(b.cleared_at) if b.cleared_at else None, "cleared_by": b.cleared_by,
                  "result": b.result}
        if self.new:
            tx.conn.execute(schema.batches.insert().values(id=b.id, **values))
        else:
            tx.conn.execute(update(schema.batches).where(schema.batches.c.id == b.id).values(**values))


@attrs.define(frozen=True)
class CallerRows:
    """Callers newly recorded against a batch."""

    batch_id: str
    numbers: tuple[str, ...]
    actor: str

    def write(self, tx: Transaction, now: datetime) -> None:
        if self.numbers:
            tx.conn.execute(schema.batch_callers.insert(), [
                {"batch_id": self.batch_id, "msisdn": n, "recorded_at": utc(now), "actor": self.actor}
                for n in self.numbers])


@attrs.define(frozen=True)
class ClearingSms:
    """The SMS a cleared warning sends, one per caller, queued in the clearing transaction.

    The batch row was locked and found ``warning`` in this transaction, and its keys carry the
    batch id, so none of them can exist yet: they are inserted in chunks without the duplicate
    check (10,000 callers are ten statements, not ten thousand)."""

    messages: tuple[OutgoingMessage, ...]

    def write(self, tx: Transaction, now: datetime) -> None:
        for start in range(0, len(self.messages), CHUNK):
            tx.add_messages(self.messages[start:start + CHUNK], now, fresh=True)


__all__ = ["CHUNK", "BatchRow", "CallerRows", "ClearingSms", "batch", "batches", "caller_count", "callers",
           "open_batch"]
