"""Tracking's read side: one complaint's tracking, and every tracked complaint (reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit.parts.tracking.store import Tracking, every, read_one

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit


def tracking(kit: ComplaintKit, ticket_id: str) -> Tracking | None:
    with kit.store.read() as tx:
        return read_one(tx, ticket_id)


def tracked(kit: ComplaintKit) -> list[Tracking]:
    with kit.store.read() as tx:
        return every(tx)


__all__ = ["tracked", "tracking"]
