"""The special tickets' read side: batch requests and their callers, and the special tickets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from complaintkit.core.model import Marker, Ticket
from complaintkit.parts.special import store
from complaintkit.parts.special.rules import Batch

if TYPE_CHECKING:
    from complaintkit.engine.store import Store

#: the markers the special-ticket counts report
SPECIAL = (Marker.MAJOR, Marker.REPEAT, Marker.BATCH, Marker.SENSITIVE, Marker.POTENTIAL_ESCALATION,
           Marker.MISDISPATCHED)


def batch(db: Store, batch_id: str) -> Batch | None:
    with db.read() as tx:
        return store.batch(tx, batch_id, lock=False)


def batches(db: Store, *, state: str | None = None) -> list[Batch]:
    with db.read() as tx:
        return store.batches(tx, state=state)


def callers(db: Store, batch_id: str) -> list[str]:
    with db.read() as tx:
        return store.callers(tx, batch_id)


def marker_counts(tickets: Iterable[Ticket]) -> dict[str, int]:
    """How many tickets carry each special marker (a ticket may count under several)."""
    counts: Counter[str] = Counter()
    for t in tickets:
        for m in SPECIAL:
            if m in t.markers:
                counts[m.value] += 1
    return {m.value: counts.get(m.value, 0) for m in SPECIAL}


__all__ = ["SPECIAL", "batch", "batches", "callers", "marker_counts"]
