"""The quality inspection's piece of the store: cycles, their frozen frames, the inspections."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import insert, select

from complaintkit.engine.store import Transaction, schema
from complaintkit.engine.store.sql import aware, utc
from complaintkit.parts.quality.rules import FrameEntry, Scorecard


@attrs.define(frozen=True)
class Cycle:
    """A month's cycle as started: its frame (frozen) and the sampled ticket ids."""

    month: str
    seed: str
    actor: str
    entries: tuple[FrameEntry, ...]
    sampled: tuple[str, ...]
    strata: tuple[str, ...]

    def write(self, tx: Transaction, now: datetime) -> None:
        tx.conn.execute(insert(schema.quality_cycles).values(
            month=self.month, seed=self.seed, started_at=utc(now), frame_size=len(self.entries),
            sample_size=len(self.sampled), actor=self.actor))
        chosen = set(self.sampled)
        if self.entries:
            tx.conn.execute(insert(schema.quality_frame), [
                {"month": self.month, "ticket_id": e.ticket_id, "stratum": e.stratum(self.strata)[:240],
                 "city": e.city[:60], "category": e.category[:60], "handler": e.handler[:60],
                 "recording": e.recording[:200], "sampled": int(e.ticket_id in chosen)}
                for e in self.entries])


@attrs.define(frozen=True)
class Inspection:
    month: str
    ticket_id: str
    handler: str
    inspector: str
    card: Scorecard
    notes: str = ""

    def write(self, tx: Transaction, now: datetime) -> None:
        tx.conn.execute(insert(schema.quality_inspections).values(
            month=self.month, ticket_id=self.ticket_id, handler=self.handler, inspector=self.inspector,
            at=utc(now), scores=json.dumps(self.card.scores, sort_keys=True), total=self.card.total_hundredths,
            passed=int(self.card.passed), notes=self.notes))


def cycle(tx: Transaction, month: str) -> dict[str, Any] | None:
    c = schema.quality_cycles.c
    row = tx.conn.execute(select(schema.quality_cycles).where(c.month == month)).first()
    if row is None:
        return None
    found = dict(row._mapping)
    found["started_at"] = aware(found["started_at"])
    return found


def frame_rows(tx: Transaction, month: str, *, sampled: bool | None = None) -> list[dict[str, Any]]:
    f = schema.quality_frame.c
    query = select(schema.quality_frame).where(f.month == month).order_by(f.ticket_id)
    if sampled is not None:
        query = query.where(f.sampled == int(sampled))
    return [dict(r._mapping) for r in tx.conn.execute(query)]


def frame_row(tx: Transaction, ticket_id: str) -> dict[str, Any] | None:
    f = schema.quality_frame.c
    row = tx.conn.execute(select(schema.quality_frame).where(f.ticket_id == ticket_id, f.sampled == 1)
                          .order_by(f.month.desc())).first()
    return None if row is None else dict(row._mapping)


def inspections(tx: Transaction, month: str | None = None, *, ticket_id: str | None = None) -> list[dict[str, Any]]:
    i = schema.quality_inspections.c
    query = select(schema.quality_inspections).order_by(i.id)
    if month is not None:
        query = query.where(i.month == month)
    if ticket_id is not None:
        query = query.where(i.ticket_id == ticket_id)
    rows = []
    for r in tx.conn.execute(query):
        found = dict(r._mapping)
        found["scores"] = json.loads(found["scores"])
        found["at"] = aware(found["at"])
        found["passed"] = bool(found["passed"])
        rows.append(found)
    return rows


__all__ = ["Cycle", "Inspection", "cycle", "frame_row", "frame_rows", "inspections"]
