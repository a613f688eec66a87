"""Quality inspection of acceptance (SPEC I1): the monthly sampling detector and ``kit.parts.quality``.

Once a day the ``quality_sampling`` detector looks at the month before the current one (in the
calendar's time zone): if its cycle has not started, it freezes the month's accepted complaints
as the frame and draws the sample, seeded by the standard's ``quality.toml`` seed — so on the
first day of each month the previous month is sampled, once, whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from complaintkit.core import inputs
from complaintkit.core.errors import RuleRefused
from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.commands import SKIPPED, Command, RecentTickets
from complaintkit.engine.context import Context
from complaintkit.engine.registry import Detector, Part, Window
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.quality import commands, queries, rules, store

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit

#: the detector reads the tickets of the last two months, enough to hold the month before
SCAN = RecentTickets(timedelta(days=63))


def sample_last_month(tickets: Sequence[Ticket], window: Window, ctx: Context) -> list[Command]:
    spec = ctx.standard.quality
    if spec is None:
        return []
    month = rules.previous_month(rules.month_of(ctx.now, ctx.calendar.tz))
    entries = rules.frame(tickets, month, ctx.standard, ctx.calendar.tz)
    return [commands.start_cycle(month, entries, spec.sampling.seed, ctx.actor, action="quality_cycle:detector")]


class QualityApi:
    """``kit.parts.quality``: start a month by hand, the sample, inspections, the report."""

    def __init__(self, kit: ComplaintKit) -> None:
        self.kit = kit

    def start_cycle(self, month: str, actor: Actor, *, seed: str | None = None,
                    at: datetime | None = None) -> dict[str, Any]:
        """Freeze ``month``'s frame and draw its sample now (the detector does it on the 1st);
        a month already started is left as it is. Returns the cycle."""
        month = rules.check_month(month)
        spec = self.kit.standard.quality
        if spec is None:
            raise RuleRefused("-", f"the standard {self.kit.standard.name!r} sets no quality inspection")
        seed = inputs.line("seed", seed if seed is not None else spec.sampling.seed, limit=60, required=True)
        tz = self.kit.calendar.tz
        start = rules.month_start(month, tz)
        end = rules.month_start(rules.next_month(month), tz)
        tickets = self.kit.tickets(since=start, until=end)
        entries = rules.frame(tickets, month, self.kit.standard, tz)
        self.kit.run(commands.start_cycle(month, entries, seed, actor))
        found = self.cycle(month)
        assert found is not None
        return found

    def cycle(self, month: str) -> dict[str, Any] | None:
        with self.kit.store.read() as tx:
            return store.cycle(tx, rules.check_month(month))

    def frame(self, month: str) -> list[dict[str, Any]]:
        with self.kit.store.read() as tx:
            return store.frame_rows(tx, rules.check_month(month))

    def sample(self, month: str) -> list[dict[str, Any]]:
        """The sampled tickets of the month: id, stratum, handler and the recording's reference."""
        with self.kit.store.read() as tx:
            return store.frame_rows(tx, rules.check_month(month), sampled=True)

    def inspect(self, ticket_id: str, actor: Actor, scores: Mapping[str, Any], *, notes: str = "") -> rules.Scorecard:
        """Record the scorecard of a sampled ticket (each norm 0–100): once per ticket."""
        ticket_id = inputs.line("ticket_id", ticket_id, limit="ticket_id", required=True)
        with self.kit.store.read() as tx:
            row = store.frame_row(tx, ticket_id)
            done = store.inspections(tx, ticket_id=ticket_id)
        if row is None:
            raise RuleRefused(ticket_id, "not in any month's quality sample")
        if done:
            raise RuleRefused(ticket_id, f"already inspected (by {done[0]['inspector']})")
        result = self.kit.run(commands.inspect(ticket_id, row["month"], row["handler"], actor, scores, notes))
        assert result is not SKIPPED
        return result  # type: ignore[no-any-return]

    def inspections(self, month: str) -> list[dict[str, Any]]:
        with self.kit.store.read() as tx:
            return store.inspections(tx, rules.check_month(month))

    def report(self, month: str) -> queries.QualityReport:
        """The month's results per handler and per norm."""
        month = rules.check_month(month)
        spec = self.kit.standard.quality
        if spec is None:
            raise RuleRefused("-", f"the standard {self.kit.standard.name!r} sets no quality inspection")
        with self.kit.store.read() as tx:
            sampled = len(store.frame_rows(tx, month, sampled=True))
            rows = store.inspections(tx, month)
        return queries.report(month, spec, sampled, rows)


PART = Part("quality", detectors=(Detector("quality_sampling", timedelta(days=1), SCAN, sample_last_month),),
            api=QualityApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
