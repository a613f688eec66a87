"""Tracking long cases (SPEC F1, F2): ``kit.parts.tracking``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from complaintkit.core.model import Actor, Event, Ticket
from complaintkit.engine.registry import Part, Veto
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.tracking import commands, queries, rules
from complaintkit.parts.tracking.store import Tracking, read_one
from complaintkit.parts.tracking.timers import TIMER_KINDS

if TYPE_CHECKING:
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit


class TrackingApi:
    """``kit.parts.tracking``: mark a long case, reply to it, read its tracking."""

    def __init__(self, kit: ComplaintKit) -> None:
        self._kit = kit

    def mark(self, ticket_id: str, actor: Actor, *, expected: datetime) -> Ticket:
        """The handler's expected resolution; more than 10 days away gets the tracking marker (F1)."""
        return self._kit.run(commands.mark(ticket_id, actor, expected))  # type: ignore[no-any-return]

    def reply(self, ticket_id: str, actor: Actor, *, result: str, final: bool = False) -> Ticket:
        """Reply to a tracked complaint: progress, or ``final=True`` with the final result (F2)."""
        return self._kit.run(commands.reply(ticket_id, actor, result=result, final=final))  # type: ignore[no-any-return]

    def tracking(self, ticket_id: str) -> Tracking | None:
        return queries.tracking(self._kit, ticket_id)

    def tracked(self) -> list[Tracking]:
        return queries.tracked(self._kit)


def tell_escalation(plugins: Plugins, ticket: Ticket, events: Sequence[Event]) -> None:
    """Two tracking rounds without resolution: the province's escalation flow (F2), once."""
    for event in events:
        if event.kind == "escalate" and event.data.get("source") == "tracking":
            plugins.escalation(ticket=ticket, source="tracking", reason=event.reason)


def _api(kit: Any) -> TrackingApi:
    return TrackingApi(kit)


PART = Part("tracking", timers=TIMER_KINDS, listeners=(tell_escalation,), api=_api,
            vetoes=(Veto("reply", rules.must_reply_through_tracking),
                    Veto("archive", rules.final_reply_before_archive, read_one)))


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
