"""Intake and the lifecycle (SPEC A1–A5): registered as an internal plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from complaintkit.core.model import Event, Marker, Ticket
from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl

if TYPE_CHECKING:
    from complaintkit.hooks.manager import Plugins


def tell_special_markers(plugins: Plugins, ticket: Ticket, events: Sequence[Event]) -> None:
    """A major complaint starts the province's emergency plan (E1); a sensitive or potential-
    escalation customer is handed to the province's own flow (E5) — after the commit."""
    if not any(ev.kind == "accept" for ev in events):
        return
    if Marker.MAJOR in ticket.markers:
        plugins.major_complaint(ticket=ticket)
    for marker in (Marker.SENSITIVE, Marker.POTENTIAL_ESCALATION):
        if marker in ticket.markers:
            plugins.sensitive_ticket(ticket=ticket, marker=marker.value)


PART = Part("intake", listeners=(tell_special_markers,))


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
