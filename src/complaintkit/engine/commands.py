"""The one command runner: load what the command declares → pure rule → one transaction.

A :class:`Command` says what it reads — a ticket, a ticket and its history, the customer's recent
tickets, every ticket of a batch request, the open tickets — and gives a pure ``decide(loaded,
ctx)`` that returns a :class:`~complaintkit.core.model.Decision` (one ticket) or an
:class:`Outcome` (several tickets, records of a part's own tables, messages, and further commands
to run in the same transaction). The runner loads, decides and writes it all in one transaction,
then tells the plugins after the commit.

This is the only retry loop in the kit: a version conflict on any ticket, a deadlock, a
serialization failure or a busy SQLite database re-runs the whole command on fresh data. Tickets a
command declares are locked in id order before anything else, and a ticket always before its
timers and messages — the one lock order, everywhere.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from sqlalchemy.exc import DBAPIError

from complaintkit.core.errors import ConcurrentChange
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
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    from complaintkit.engine.registry import Registry
    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins

log = get_logger(__name__)


# -- what a command reads ------------------------------------------------------------------------


@attrs.define(frozen=True)
class OneTicket:
    """One ticket, locked for the command (``skip_locked``: give up instead of waiting)."""

    ticket_id: str
    history: bool = False
    skip_locked: bool = False


def TicketWithHistory(ticket_id: str) -> OneTicket:
    """One ticket and its events, oldest first."""
    return OneTicket(ticket_id, history=True)


@attrs.define(frozen=True)
class CustomerTickets:
    """The customer's tickets (by number), optionally of one kind and created within a period
    before the command's time (a repeat complaint looks 30 days back)."""

    msisdn: str
    kind: TicketKind | None = None
    within: timedelta | None = None


@attrs.define(frozen=True)
class BatchTickets:
    """Every ticket of a batch request: the ones whose ``parent_id`` is ``batch_id``."""

    batch_id: str


@attrs.define(frozen=True)
class OpenTickets:
    """Every ticket not yet archived, optionally of one department."""

    department: str | None = None


@attrs.define(frozen=True)
class RecentTickets:
    """Tickets created within a period before the command's time (the last hours' complaints)."""

    within: timedelta


@attrs.define(frozen=True)
class PartRows:
    """Rows of a part's own tables, read inside the command's transaction by ``read(tx)`` (which
    may lock them: it runs after the declared tickets are locked, keeping the one lock order).
    ``key`` names it in logs and tells two reads of one command apart."""

    key: str
    read: Callable[[Transaction], Any] = attrs.field(eq=False)


Need = OneTicket | CustomerTickets | BatchTickets | OpenTickets | RecentTickets | PartRows

_OPEN = tuple(s for s in TicketState if s is not TicketState.ARCHIVED)


class Loaded:
    """What the runner read for a command, by declaration."""

    def __init__(self, tickets: dict[str, Ticket], histories: dict[str, list[Event]],
                 sets: dict[Any, Any]) -> None:
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

    def history(self, ticket_id: str | None = None) -> list[Event]:
        return self._histories[ticket_id or self.ticket().id]

    def tickets(self, need: Need) -> list[Ticket]:
        """The tickets a set-valued declaration (customer, batch, open, recent) found."""
        found: list[Ticket] = self._sets[need]
        return found

    def rows(self, need: PartRows) -> Any:
        """What a part's own read (:class:`PartRows`) returned."""
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


SKIPPED = object()


@attrs.define(frozen=True)
class Written:
    """What one command wrote: the stored tickets with the events each received."""

    changes: tuple[tuple[Ticket, tuple[Event, ...]], ...]
    result: Any


def as_outcome(answer: Decision | Outcome | None) -> Outcome:
    if answer is None:
        return Outcome()
    if isinstance(answer, Decision):
        return Outcome(decisions=(answer,))
    return answer


# -- the runner --------------------------------------------------------------------------------------

#: SQLSTATEs worth re-running a command for: deadlock detected, serialization failure
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(exc: BaseException) -> bool:
    """A conflict the command may be re-run for: a version conflict, a deadlock, a
    serialization failure, a SQLite database busy beyond its timeout."""
    if isinstance(exc, ConcurrentChange):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
            return True
        return "database is locked" in str(orig)
    return getattr(exc, "sqlstate", None) in _RETRY_SQLSTATES


class Runner:
    """Runs commands for one kit: the store, the rules' context, the after-commit listeners."""

    def __init__(self, store: Store, context: Callable[[Actor, datetime | None], Context], plugins: Plugins,
                 registry: Registry, *, attempts: int = 5) -> None:
        self.store = store
        self.context = context
        self.plugins = plugins
        self.registry = registry
        self.attempts = attempts

    def run(self, command: Command) -> Any:
        """Run ``command`` in one transaction, re-running it on a conflict; its result."""
        for attempt in range(self.attempts):
            try:
                written = self._once(command)
            except Exception as exc:
                if not is_retryable(exc) or attempt == self.attempts - 1:
                    if is_retryable(exc) and not isinstance(exc, ConcurrentChange):
                        raise ConcurrentChange(f"{command.action}: gave up after {self.attempts} "
                                               f"conflicts ({type(exc).__name__})") from exc
                    raise
                log.debug("command conflict; re-running", action=command.action, attempt=attempt + 1,
                          error=type(exc).__name__)
                # a little jitter so two workers that collided do not collide again
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
                continue
            if written is SKIPPED:
                return SKIPPED
            self.after_commit(written)
            return written.result
        raise AssertionError("unreachable")

    def _once(self, command: Command) -> Any:
        if not command.needs and command.claim is None:
            # nothing to read: decide first, and a command that only creates writes with the
            # store's insert-only path (one statement on PostgreSQL)
            ctx = self.context(command.actor, command.at)
            outcome = as_outcome(command.decide(EMPTY, ctx))
            if _insert_only(outcome) and command.settle is None:
                with self.store.inserting() as tx:
                    return self._write(tx, outcome, ctx.now, fresh=True)
            with self.store.transaction() as tx:
                return self._complete(tx, command, outcome, ctx.now)
        if command.claim is None and all(isinstance(n, CustomerTickets) for n in command.needs):
            # a command that reads only a customer's tickets (acceptance: repeat complaints)
            # and then only inserts keeps the insert-only path: on PostgreSQL the read is one
            # autocommit statement first. Under READ COMMITTED the same SELECT inside the
            # transaction would see nothing more (it locks none of those tickets).
            reader = self.store.quick_read()
            if reader is not None:
                ctx = self.context(command.actor, command.at)
                outcome = as_outcome(command.decide(self._load(reader, command), ctx))
                if _insert_only(outcome) and command.settle is None:
                    with self.store.inserting() as tx:
                        return self._write(tx, outcome, ctx.now, fresh=True)
        with self.store.transaction() as tx:
            return self.execute(tx, command)

    def execute(self, tx: Transaction, command: Command) -> Any:
        """Load, claim, decide and write ``command`` inside ``tx`` (no retry: the caller's)."""
        loaded = self._load(tx, command)
        if command.claim is not None and not command.claim(tx):
            return SKIPPED
        ctx = self.context(command.actor, command.at)
        return self._complete(tx, command, as_outcome(command.decide(loaded, ctx)), ctx.now)

    def _complete(self, tx: Transaction, command: Command, outcome: Outcome, now: datetime) -> Written:
        """Write a decided outcome, run its further commands, settle the claimed row."""
        written = self._write(tx, outcome, now)
        for nested in outcome.then:
            result = self.execute(tx, nested)
            if result is not SKIPPED:
                written = _join(written, result)
        if command.settle is not None:
            command.settle(tx, outcome)
        return written

    def _load(self, tx: Transaction, command: Command) -> Loaded:
        tickets: dict[str, Ticket] = {}
        histories: dict[str, list[Event]] = {}
        sets: dict[Any, Any] = {}
        # the one lock order: declared tickets by id, before anything else is touched
        for one in sorted((n for n in command.needs if isinstance(n, OneTicket)), key=lambda n: n.ticket_id):
            tickets[one.ticket_id] = tx.load_ticket(one.ticket_id, skip_locked=one.skip_locked)
            if one.history:
                histories[one.ticket_id] = tx.events(one.ticket_id)
        at = command.at
        for need in command.needs:
            if isinstance(need, CustomerTickets):
                since = None
                if need.within is not None:
                    since = (at or self.context(command.actor, None).now) - need.within
                sets[need] = tx.find_tickets(msisdn=need.msisdn, kind=need.kind, since=since)
            elif isinstance(need, BatchTickets):
                sets[need] = tx.find_tickets(parent_id=need.batch_id)
            elif isinstance(need, OpenTickets):
                sets[need] = tx.find_tickets(states=_OPEN, department=need.department)
            elif isinstance(need, RecentTickets):
                now = at or self.context(command.actor, None).now
                sets[need] = tx.find_tickets(since=now - need.within)
            elif isinstance(need, PartRows):
                sets[need] = need.read(tx)
        return Loaded(tickets, histories, sets)

    def _write(self, tx: Transaction, outcome: Outcome, now: datetime, *, fresh: bool = False) -> Written:
        changes = []
        for decision in outcome.decisions:
            stored = write_decision(tx, decision, now, fresh=fresh)
            changes.append((stored, decision.events))
        for record in outcome.records:
            record.write(tx, now)
        if outcome.messages:
            tx.add_messages(outcome.messages, now)
        result = outcome.result
        if result is None and len(changes) == 1:
            result = changes[0][0]
        return Written(tuple(changes), result)

    def after_commit(self, written: Written) -> None:
        """Tell the plugins and the parts' listeners, after the commit (a failure is logged)."""
        for ticket, events in written.changes:
            if not events:
                continue
            self.plugins.ticket_changed(ticket=ticket, events=events)
            for listener in self.registry.listeners:
                try:
                    listener(self.plugins, ticket, events)
                except Exception:
                    log.exception("after-commit listener failed", listener=getattr(listener, "__qualname__", "?"),
                                  ticket_id=ticket.id)
            log.debug("ticket changed", ticket_id=ticket.id, state=ticket.state.value,
                      events=[e.kind for e in events])


def write_decision(tx: Transaction, decision: Decision, now: datetime, *, fresh: bool = False) -> Ticket:
    """Write one ticket's decision: the ticket (new when its version is 0), its events, its
    timers (cancelled before set, so a re-set timer replaces the old one) and its messages."""
    if decision.ticket.version == 0:
        stored = tx.insert_ticket(decision.ticket)
        tx.add_events(decision.events)
        tx.set_timers(decision.set_timers, replace=False)
        if decision.messages:
            tx.add_messages(decision.messages, now, fresh=fresh)
        return stored
    stored = tx.update_ticket(decision.ticket)
    tx.add_events(decision.events)
    tx.cancel_timers(stored.id, (*decision.cancel_timers, *(t.name for t in decision.set_timers)))
    tx.set_timers(decision.set_timers, replace=False)
    tx.add_messages(decision.messages, now)
    return stored


def _insert_only(outcome: Outcome) -> bool:
    return (not outcome.records and not outcome.messages and not outcome.then
            and all(d.ticket.version == 0 for d in outcome.decisions))


def _join(first: Written, second: Written) -> Written:
    return Written(first.changes + second.changes, first.result if first.result is not None else second.result)


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
    "SKIPPED", "BatchTickets", "Command", "CustomerTickets", "Loaded", "Need", "OneTicket", "OpenTickets",
    "Outcome", "PartRows", "RecentTickets", "Record", "Runner", "TicketWithHistory", "Written", "is_retryable",
    "merge_outcomes", "one_ticket", "write_decision",
]
