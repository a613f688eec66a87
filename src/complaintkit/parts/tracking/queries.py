"""Tracking's read side: one complaint's tracking, and every tracked complaint (reports)."""

from __future__ import annotations

from complaintkit.engine.context import KitReads
from complaintkit.parts.tracking.store import Tracking, every, read_one


def tracking(kit: KitReads, ticket_id: str) -> Tracking | None:
    with kit.store.read() as tx:
        return read_one(tx, ticket_id)


def tracked(kit: KitReads) -> list[Tracking]:
    with kit.store.read() as tx:
        return every(tx)


__all__ = ["tracked", "tracking"]
