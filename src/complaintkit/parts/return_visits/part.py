"""Return visits, remedy tickets and contact attempts (SPEC G1–G5): ``kit.parts.return_visits``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from complaintkit.core.model import Actor, Event, Ticket
from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.intake.commands import enum_value
from complaintkit.parts.return_visits import commands, queries
from complaintkit.parts.return_visits.model import Visit, VisitChannel
from complaintkit.parts.return_visits.rules import VisitReport
from complaintkit.parts.return_visits.timers import TIMER_KINDS

if TYPE_CHECKING:
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit


class ReturnVisitsApi:
    """``kit.parts.return_visits``: the commands and queries of return visits and remedy."""

    def __init__(self, kit: ComplaintKit) -> None:
        self._kit = kit

    def send_survey(self, ticket_id: str, actor: Actor) -> Visit:
        """The return visit by SMS (G1): the survey goes out through the outbox; the answer comes
        back through the inbox (``kit.receive_sms``); no answer in the window is ``no_answer``."""
        return self._kit.run(commands.send_survey(ticket_id, actor))  # type: ignore[no-any-return]

    def record_visit(self, ticket_id: str, actor: Actor, *, channel: VisitChannel | str, outcome: str,
                     words: str = "", remaining_problem: bool = False, reason: str = "", needs: str = "",
                     company_at_fault: bool = False, mishandled: bool = False) -> Visit:
        """A visit by phone or in person that reached the customer (G1). Dissatisfied, or a
        remaining problem, needs ``reason`` and ``needs`` and opens a remedy ticket (G3); the
        returned visit names it in ``remedy_id``."""
        report = VisitReport(enum_value(VisitChannel, channel, "channel"), outcome, words, remaining_problem,
                             reason, needs, company_at_fault, mishandled)
        return self._kit.run(commands.record_visit(self._kit, ticket_id, actor, report))  # type: ignore[no-any-return]

    def attempt(self, ticket_id: str, actor: Actor, *, channel: VisitChannel | str = VisitChannel.PHONE,
                note: str = "") -> Visit:
        """A manual visit's attempt that reached nobody (G4); refused when it breaks the rule."""
        return self._kit.run(commands.attempt(ticket_id, actor, channel=enum_value(  # type: ignore[no-any-return]
            VisitChannel, channel, "channel"), note=note))

    def open_remedy(self, ticket_id: str, actor: Actor, *, reason: str, needs: str) -> Ticket:
        """A remedy ticket for the complaint ``ticket_id`` (G3): kind remedy, 24 h."""
        return self._kit.run(commands.open_remedy(self._kit, ticket_id, actor,  # type: ignore[no-any-return]
                                                  reason=reason, needs=needs))

    def visits(self, ticket_id: str) -> list[Visit]:
        return queries.visits(self._kit, ticket_id)

    def due_attempts(self, now: datetime | None = None) -> list[Visit]:
        return queries.due_attempts(self._kit, now)

    def summary(self, *, since: datetime | None = None, until: datetime | None = None) -> queries.VisitSummary:
        return queries.summary(self._kit, since=since, until=until)


def tell_escalation(plugins: Plugins, ticket: Ticket, events: Sequence[Event]) -> None:
    """A remedy ticket still dissatisfied, the company at fault: the province's escalation flow
    (G3), after the commit, once."""
    for event in events:
        if event.kind == "escalate" and event.data.get("source") == "remedy":
            plugins.escalation(ticket=ticket, source="remedy", reason=event.reason)


def _api(kit: Any) -> ReturnVisitsApi:
    return ReturnVisitsApi(kit)


PART = Part("return_visits", timers=TIMER_KINDS, listeners=(tell_escalation,), api=_api)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
