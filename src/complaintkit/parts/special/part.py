"""Special tickets (SPEC E1–E3, E5): registered as an internal plugin; ``kit.parts.special``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from complaintkit.core.model import Actor, Event, Marker, Ticket
from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.special import commands, queries
from complaintkit.parts.special.commands import BatchRecorded
from complaintkit.parts.special.rules import Batch

if TYPE_CHECKING:
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit


def tell_later_markers(plugins: Plugins, ticket: Ticket, events: Sequence[Event]) -> None:
    """A marker set after acceptance calls the province's hook once, after the commit (E1, E5);
    markers given at acceptance are told by the intake part."""
    for ev in events:
        if ev.kind != "mark":
            continue
        marker = ev.data.get("marker")
        if marker == Marker.MAJOR.value:
            plugins.major_complaint(ticket=ticket)
        elif marker in (Marker.SENSITIVE.value, Marker.POTENTIAL_ESCALATION.value):
            plugins.sensitive_ticket(ticket=ticket, marker=marker)


class SpecialApi:
    """``kit.parts.special``: markers set later, batch complaints and their warnings."""

    def __init__(self, kit: ComplaintKit) -> None:
        self._kit = kit

    def mark(self, ticket_id: str, marker: Marker | str, actor: Actor, *, reason: str) -> Ticket:
        """Mark a ticket ``major``, ``sensitive`` or ``potential_escalation`` after acceptance."""
        return self._kit.run(commands.mark(ticket_id, marker, actor, reason=reason))  # type: ignore[no-any-return]

    def mark_major(self, ticket_id: str, actor: Actor, *, reason: str) -> Ticket:
        """E1: urgent from now on, first in every queue; the emergency-plan hook runs once."""
        return self.mark(ticket_id, Marker.MAJOR, actor, reason=reason)

    def record_caller(self, actor: Actor, *, msisdn: str, category: str, area: str = "") -> BatchRecorded:
        """E2: the front desk records one caller's number against the batch request."""
        return self.record_callers(actor, numbers=[msisdn], category=category, area=area)

    def record_callers(self, actor: Actor, *, numbers: Sequence[str], category: str, area: str = "") -> BatchRecorded:
        """E2: several callers at once (an IVR's list); each number counts once."""
        return self._kit.run(commands.record_callers(self._kit, actor, category=category,  # type: ignore[no-any-return]
                                                     numbers=numbers, area=area))

    def clear_warning(self, batch_id: str, actor: Actor, *, result: str) -> BatchRecorded:
        """E2: clear the warning; every recorded caller gets one SMS (queued in this transaction)."""
        return self._kit.run(commands.clear_warning(batch_id, actor, result=result))  # type: ignore[no-any-return]

    def batch(self, batch_id: str) -> Batch | None:
        return queries.batch(self._kit.store, batch_id)

    def batches(self, *, state: str | None = None) -> list[Batch]:
        return queries.batches(self._kit.store, state=state)

    def callers(self, batch_id: str) -> list[str]:
        return queries.callers(self._kit.store, batch_id)

    def counts(self) -> dict[str, int]:
        """How many tickets carry each special marker."""
        return queries.marker_counts(self._kit.tickets())


PART = Part("special", listeners=(tell_later_markers,), api=SpecialApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
