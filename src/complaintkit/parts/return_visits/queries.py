"""The return visits' read side: a ticket's visits, the attempts due, the summary for reports."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import attrs

from complaintkit.engine.context import KitReads
from complaintkit.parts.return_visits.model import Visit, VisitStatus
from complaintkit.parts.return_visits.store import all_visits, ticket_visits, visit_counts


def visits(kit: KitReads, ticket_id: str) -> list[Visit]:
    with kit.store.read() as tx:
        return list(ticket_visits(ticket_id).read(tx))


def due_attempts(kit: KitReads, now: datetime | None = None) -> list[Visit]:
    """Open manual visits whose scheduled next attempt has come, earliest first (the visitors'
    queue, G4)."""
    moment = now or kit.clock.now()
    with kit.store.read() as tx:
        found = [v for v in all_visits(tx) if v.is_open and v.next_attempt_at is not None
                 and v.next_attempt_at <= moment]
    return sorted(found, key=lambda v: v.next_attempt_at)  # type: ignore[arg-type, return-value]


@attrs.define(frozen=True)
class VisitSummary:
    """Return visits by channel and outcome (done visits; ``open`` counts those not done)."""

    by_channel: dict[str, int]
    by_outcome: dict[str, int]
    open: int


def summary(kit: KitReads, *, since: datetime | None = None, until: datetime | None = None) -> VisitSummary:
    """The visits opened in ``[since, until)``, counted by the database (none is loaded)."""
    with kit.store.read() as tx:
        counts = visit_counts(tx, since=since, until=until)
    by_channel: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    still_open = 0
    for status, channel, outcome, n in counts:
        if status == VisitStatus.OPEN.value:
            still_open += n
        else:
            by_channel[channel] += n
            by_outcome[outcome] += n
    return VisitSummary(dict(sorted(by_channel.items())), dict(sorted(by_outcome.items())), still_open)


__all__ = ["VisitSummary", "due_attempts", "summary", "visits"]
