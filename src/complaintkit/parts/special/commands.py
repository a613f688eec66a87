"""Special-ticket commands (SPEC E1, E2, E5): what each reads, which rule decides.

Repeat detection (E3) runs inside the acceptance command itself (``parts/intake/commands.py``
declares the customer's tickets of the repeat window; :func:`rules.repeat_of` decides).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import attrs

from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Actor, Marker, Msisdn
from complaintkit.engine.commands import Command, Loaded, Outcome, Rows, one_ticket
from complaintkit.engine.context import Context, KitServices
from complaintkit.parts.intake.commands import enum_value
from complaintkit.parts.special import rules, store

#: the most numbers one call records (an IVR's or a list's import)
MAX_NUMBERS = 100_000


def mark(ticket_id: str, marker: Marker | str, actor: Actor, *, reason: str) -> Command:
    """Mark a ticket major, sensitive or potential-escalation after acceptance (E1, E5)."""
    chosen = enum_value(Marker, marker, "marker")
    return one_ticket(ticket_id, actor, f"mark:{chosen.value}", lambda t, c: rules.mark(t, chosen, c, reason=reason))


def new_batch_id(now: datetime) -> str:
    return f"BATCH{now:%Y%m%d}{secrets.token_hex(4).upper()}"


def record_callers(kit: KitServices, actor: Actor, *, category: str, numbers: Sequence[str], area: str = "") -> Command:
    """The front desk records callers' numbers against the batch request of a category and area
    (E2): a request is opened by its first caller; each number counts once."""
    if isinstance(numbers, str) or not isinstance(numbers, Sequence):
        raise InvalidInput("numbers", "expected a list of mobile numbers")
    if not numbers or len(numbers) > MAX_NUMBERS:
        raise InvalidInput("numbers", f"between 1 and {MAX_NUMBERS} numbers, not {len(numbers)}")
    digits = [Msisdn.parse(n, field=f"numbers[{i}]").digits for i, n in enumerate(numbers)]
    kit.standard.category(category)
    new_id = new_batch_id(kit.clock.now())

    def read(tx: object) -> tuple[rules.Batch | None, set[str]]:
        found = store.open_batch(tx, category, area)  # type: ignore[arg-type]
        known = set(store.callers(tx, found.id, digits)) if found is not None else set()  # type: ignore[arg-type]
        return found, known

    rows = Rows(("batch:open",), read)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        found, known = loaded.rows(rows)
        batch, fresh, started, messages = rules.record_callers(found, new_id, category, area, digits, known, ctx)
        records = (store.BatchRow(batch, new=found is None), store.CallerRows(batch.id, tuple(fresh), ctx.actor.id))
        return Outcome(messages=messages, records=records,
                       result=BatchRecorded(batch, len(fresh), started))

    return Command("record_batch_callers", actor, (rows,), decide)


def clear_warning(batch_id: str, actor: Actor, *, result: str) -> Command:
    """Clear a batch warning: every recorded caller gets one SMS, queued in this transaction (E2)."""

    def read(tx: object) -> tuple[rules.Batch | None, list[str]]:
        found = store.batch(tx, batch_id)  # type: ignore[arg-type]
        return found, store.callers(tx, batch_id) if found is not None else []  # type: ignore[arg-type]

    rows = Rows(("batch:clear",), read)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        found, numbers = loaded.rows(rows)
        if found is None:
            raise InvalidInput("batch_id", f"no batch request {batch_id[:40]!r}")
        cleared, messages = rules.clear(found, numbers, ctx, result=result)
        return Outcome(records=(store.BatchRow(cleared, new=False), store.ClearingSms(messages)),
                       result=BatchRecorded(cleared, 0, False, len(messages)))

    return Command("clear_batch_warning", actor, (rows,), decide)


@attrs.define(frozen=True)
class BatchRecorded:
    """What a batch command returns: the batch, callers newly recorded, whether the warning
    started, and how many SMS a clearing queued."""

    batch: rules.Batch
    new_callers: int
    warning_started: bool
    sms_queued: int = 0


__all__ = ["MAX_NUMBERS", "BatchRecorded", "clear_warning", "mark", "new_batch_id", "record_callers"]
