"""What a command is: what it reads, the pure rule that decides, and the shape of its decision.

These are values, with no behaviour: a part builds a :class:`Command` and the runner
(:mod:`complaintkit.engine.commands`) carries it out. They live apart from the runner so that what
a part registers (:mod:`complaintkit.engine.registry`) can name them without depending on how
they are run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from complaintkit.core import inputs
from complaintkit.core.model import (
    Actor,
    Decision,
    Event,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
)
from complaintkit.engine.context import Context
from complaintkit.engine.store import Transaction

# -- what a command reads ------------------------------------------------------------------------


@attrs.define(frozen=True)
class OneTicket:
    """One ticket, locked for the command (``skip_locked``: give up instead of waiting)."""

    # every command that names a ticket passes here first: a malformed id is the caller's
    # InvalidInput, never a driver error or a silent "not found"
    ticket_id: str = attrs.field(validator=inputs.validator("ticket_id", inputs.line, limit="ticket_id",
                                                             required=True))
    history: bool = False
    skip_locked: bool = False


def TicketWithHistory(ticket_id: str) -> OneTicket:
    """One ticket and its events, oldest first."""
    return OneTicket(ticket_id, history=True)


@attrs.define(frozen=True)
class CustomerTickets:
    """The customer's tickets (by number), optionally of one kind and created within a period
    before the command's time (a repeat complaint looks 30 days back)."""

    msisdn: str = attrs.field(validator=inputs.validator("msisdn", inputs.line, limit="address", required=True))
    kind: TicketKind | None = None
    within: timedelta | None = None


@attrs.define(frozen=True)
class BatchTickets:
    """Every ticket of a batch request: the ones whose ``parent_id`` is ``batch_id``."""

    batch_id: str = attrs.field(validator=inputs.validator("batch_id", inputs.line, limit="ticket_id",
                                                           required=True))


@attrs.define(frozen=True)
class OpenTickets:
    """Every ticket not yet archived, optionally of one department."""

    department: str | None = None


@attrs.define(frozen=True)
class RecentTickets:
    """Tickets created within a period before the command's time (the last hours' complaints)."""

    within: timedelta


@attrs.define(frozen=True)
class Rows:
    """Rows of a part's own table, read inside the command's transaction after its declared
    tickets are locked (the one lock order): ``read(tx)`` comes from the part's ``store.py``.

    ``key`` names the read (``("open_surveys", msisdn)``) and tells two declarations apart. A
    part keeps its rows consistent by changing them only together with the ticket they belong
    to, whose version check re-runs a command that read rows another command changed.
    """

    key: tuple[Any, ...]
    read: Callable[[Transaction], Any] = attrs.field(eq=False, hash=False, repr=False)


Need = OneTicket | CustomerTickets | BatchTickets | OpenTickets | RecentTickets | Rows

#: every state but archived
OPEN_STATES = tuple(s for s in TicketState if s is not TicketState.ARCHIVED)


class Loaded:
    """What the runner read for a command, by declaration."""

    def __init__(self, tickets: dict[str, Ticket], histories: dict[str, list[Event]],
                 sets: dict[Any, list[Ticket]]) -> None:
        self._tickets = tickets
        self._histories = histories
        self._sets = sets

    def ticket(self, ticket_id: str | None = None) -> Ticket:
        """A declared ticket (the only one, when the command declared one)."""
        if ticket_id is None:
            if len(self._tickets) != 1:
                raise LookupError(f"the command declared {len(self._tickets)} tickets; name one")
            return next(iter(self._tickets.values()))
        return self._tickets[ticket_id]

    def declared(self) -> tuple[Ticket, ...]:
        """The tickets the command declared one by one (what it acts on), in id order."""
        return tuple(self._tickets[k] for k in sorted(self._tickets))

    def history(self, ticket_id: str | None = None) -> list[Event]:
        return self._histories[ticket_id or self.ticket().id]

    def tickets(self, need: Need) -> list[Ticket]:
        """The tickets a set-valued declaration (customer, batch, open, recent) found."""
        return self._sets[need]  # type: ignore[no-any-return]

    def rows(self, need: Rows) -> Any:
        """What a :class:`Rows` declaration read."""
        return self._sets[need]


EMPTY = Loaded({}, {}, {})


# -- what a command decides ------------------------------------------------------------------------


class Record(Protocol):
    """A row of a part's own table, decided by a rule and written by the runner.

    The rule returns the value (pure); the part's ``store.py`` defines it with ``write``, which the
    runner calls inside the command's transaction.
    """

    def write(self, tx: Transaction, now: datetime) -> Any: ...


@attrs.define(frozen=True)
class Outcome:
    """Everything a command changes, written in its one transaction."""

    #: changed or new tickets (a ticket with version 0 is new), with their events, timers, messages
    decisions: tuple[Decision, ...] = ()
    #: messages not tied to a ticket change (an answer to an unmatched SMS, a digest)
    messages: tuple[OutgoingMessage, ...] = ()
    #: rows of parts' own tables
    records: tuple[Record, ...] = ()
    #: further commands to run inside the same transaction (a detector's findings)
    then: tuple[Command, ...] = ()
    #: what the command returns to its caller; by default the one ticket it changed
    result: Any = None


Decide = Callable[[Loaded, Context], "Decision | Outcome"]


@attrs.define(frozen=True)
class Command:
    """One thing to do, declared: who does it, what it reads, and the pure rule that decides."""

    #: what is done (``accept``, ``reply``, ``timer:near``, ``sms``…): for logs and permissions
    action: str
    actor: Actor
    needs: tuple[Need, ...]
    decide: Decide
    #: when it happened, if not now (a customer's reply is judged at its own receipt time)
    at: datetime | None = None
    #: first, inside the transaction, after the declared tickets are locked: take the row that
    #: makes this command happen once (a timer, an inbox row, a detector window). False: nothing
    #: to do, the command returns ``SKIPPED``.
    claim: Callable[[Transaction], bool] | None = None
    #: last, inside the transaction: mark that row done
    settle: Callable[[Transaction, Outcome], None] | None = None
    #: the amount the action concerns, in fen (a refund, a refund promise): checked against the
    #: role's authorisation
    amount_fen: int | None = None


def as_outcome(answer: Decision | Outcome | None) -> Outcome:
    if answer is None:
        return Outcome()
    if isinstance(answer, Decision):
        return Outcome(decisions=(answer,))
    return answer


def one_ticket(ticket_id: str, actor: Actor, action: str,
               rule: Callable[[Ticket, Context], Decision]) -> Command:
    """The common case: a rule over one ticket, ``rule(ticket, ctx) -> Decision``."""
    return Command(action, actor, (OneTicket(ticket_id),), lambda loaded, ctx: rule(loaded.ticket(ticket_id), ctx))


def merge_outcomes(outcomes: Iterable[Outcome]) -> Outcome:
    decisions: list[Decision] = []
    messages: list[OutgoingMessage] = []
    records: list[Record] = []
    then: list[Command] = []
    for o in outcomes:
        decisions += o.decisions
        messages += o.messages
        records += o.records
        then += o.then
    return Outcome(tuple(decisions), tuple(messages), tuple(records), tuple(then))


__all__ = [
    "EMPTY", "OPEN_STATES", "BatchTickets", "Command", "CustomerTickets", "Decide", "Loaded", "Need", "OneTicket",
    "OpenTickets", "Outcome", "RecentTickets", "Record", "Rows", "TicketWithHistory", "as_outcome", "merge_outcomes",
    "one_ticket",
]
