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

Before anything is written — inside the transaction, once the declared tickets are loaded — the
runner asks its :class:`Gate` (the permissions part's ``authorize``) whether the command's actor may
do its action on those tickets (and amount). A refusal writes nothing the command decided: the
runner rolls it back, stores the refusal on its own (a ``permission_refused`` event on each
ticket, a row in ``ck_refusals``), logs it once, masked, and raises
:class:`~complaintkit.core.errors.PermissionDenied`. No command, the kit's or a part's, passes
the runner without the check; an action no rule covers is refused.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from sqlalchemy.exc import DBAPIError

from complaintkit.core.errors import ConcurrentChange, PermissionDenied, TicketBusy
from complaintkit.core.model import Actor, Decision, Event, Ticket
from complaintkit.engine.context import Context

# what a command is lives in ``declarations``; the parts import it from here, beside the runner
from complaintkit.engine.declarations import (
    EMPTY,
    OPEN_STATES,
    BatchTickets,
    Command,
    CustomerTickets,
    Loaded,
    Need,
    OneTicket,
    OpenTickets,
    Outcome,
    RecentTickets,
    Record,
    Rows,
    TicketWithHistory,
    as_outcome,
    merge_outcomes,
    one_ticket,
)
from complaintkit.engine.store import Transaction
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    from complaintkit.engine.registry import Registry
    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins

log = get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)


SKIPPED = object()


@attrs.define(frozen=True)
class Written:
    """What one command wrote: the stored tickets with the events each received."""

    changes: tuple[tuple[Ticket, tuple[Event, ...]], ...]
    result: Any


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
    if isinstance(exc, sqlite3.OperationalError):  # the store's statements run on the driver itself
        return "database is locked" in str(exc)
    return getattr(exc, "sqlstate", None) in _RETRY_SQLSTATES


class Gate(Protocol):
    """Who may run which command: the kit gives the runner the permissions part's gate, so the
    engine enforces the rules without depending on the part that holds them."""

    def check(self, command: Command, tickets: Sequence[Ticket]) -> None:
        """Return if the command's actor may do its action on ``tickets``; else raise
        :class:`PermissionDenied`."""

    def record(self, tx: Transaction, refused: PermissionDenied, now: datetime) -> None:
        """Store a refusal (in a transaction of its own: the command's was rolled back)."""


class Runner:
    """Runs commands for one kit: the store, the rules' context, the after-commit listeners."""

    def __init__(self, store: Store, context: Callable[[Actor, datetime | None], Context], plugins: Plugins,
                 registry: Registry, *, gate: Gate, attempts: int = 5) -> None:
        self.store = store
        self.context = context
        self.plugins = plugins
        self.registry = registry
        self.gate = gate
        self.attempts = attempts
        #: each detector's last window this process saw done: a detector looks at its scan (open
        #: tickets, the last hours' complaints) once per window, not on every pass
        self.windows_done: dict[str, datetime] = {}

    def run(self, command: Command) -> Any:
        """Run ``command`` in one transaction, re-running it on a conflict; its result."""
        for attempt in range(self.attempts):
            try:
                written = self._once(command)
            except PermissionDenied as refused:
                self._record_refusal(refused, command.at)
                raise
            except TicketBusy:
                raise  # asked not to wait for a ticket another transaction holds: nor to retry it
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
            self.gate.check(command, ())
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
                self.gate.check(command, ())
                ctx = self.context(command.actor, command.at)
                outcome = as_outcome(command.decide(self._load(reader, command), ctx))
                if _insert_only(outcome) and command.settle is None:
                    with self.store.inserting() as tx:
                        return self._write(tx, outcome, ctx.now, fresh=True)
        with self.store.transaction() as tx:
            return self.execute(tx, command)

    def execute(self, tx: Transaction, command: Command) -> Any:
        """Load, claim, decide and write ``command`` inside ``tx`` (no retry: the caller's)."""
        if command.claim is not None and not any(isinstance(n, OneTicket) for n in command.needs):
            # nothing to lock first: claim before reading, so that a claim already taken — a
            # detector's window that ran, on every worker pass after the first — costs one
            # statement, not a scan of the open or recent tickets
            if not command.claim(tx):
                return SKIPPED
            loaded = self._load(tx, command)
            self.gate.check(command, loaded.declared())
        else:
            loaded = self._load(tx, command)
            self.gate.check(command, loaded.declared())
            if command.claim is not None and not command.claim(tx):
                return SKIPPED
        ctx = self.context(command.actor, command.at)
        return self._complete(tx, command, as_outcome(command.decide(loaded, ctx)), ctx.now)

    def _complete(self, tx: Transaction, command: Command, outcome: Outcome, now: datetime) -> Written:
        """Write a decided outcome, run its further commands, settle the claimed row."""
        if self.registry.vetoes:
            self._vetoes(tx, command, outcome, now)
        written = self._write(tx, outcome, now)
        for nested in outcome.then:
            result = self.execute(tx, nested)
            if result is not SKIPPED:
                written = _join(written, result)
        if command.settle is not None:
            command.settle(tx, outcome)
        return written

    def _record_refusal(self, refused: PermissionDenied, at: datetime | None) -> None:
        """Store and log a refusal, in a transaction of its own: the refused command's was rolled
        back, and what it would have written with it."""
        now = at or self.context(Actor.system(), None).now
        log.warning("permission refused", actor=refused.actor, role=refused.role, action=refused.action,
                    permission=refused.permission, rule=refused.rule, reason=refused.reason,
                    ticket_ids=list(refused.ticket_ids), amount_fen=refused.amount_fen, limit_fen=refused.limit_fen)
        try:
            with self.store.transaction() as tx:
                self.gate.record(tx, refused, now)
        except Exception:
            log.exception("could not store a permission refusal", action=refused.action)

    def _vetoes(self, tx: Transaction, command: Command, outcome: Outcome, now: datetime) -> None:
        """Let the parts that registered a :class:`~complaintkit.engine.registry.Veto` refuse an
        action another part decided, before anything of the command is written."""
        ctx = self.context(command.actor, now)
        for decision in outcome.decisions:
            for event in decision.events:
                for veto in self.registry.vetoes.get(event.kind, ()):
                    facts = veto.read(tx, decision.ticket.id) if veto.read is not None else None
                    veto.check(decision, facts, ctx)

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
                sets[need] = tx.find_tickets(states=OPEN_STATES, department=need.department)
            elif isinstance(need, RecentTickets):
                now = at or self.context(command.actor, None).now
                sets[need] = tx.find_tickets(since=now - need.within)
            elif isinstance(need, Rows):
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
            if _stdlib_log.isEnabledFor(logging.DEBUG):  # every command passes here: build nothing unasked
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


__all__ = [
    "SKIPPED", "BatchTickets", "Command", "CustomerTickets", "Loaded", "Need", "OneTicket", "OpenTickets",
    "Outcome", "RecentTickets", "Record", "Rows", "Runner", "TicketWithHistory", "Written", "is_retryable",
    "merge_outcomes", "one_ticket", "write_decision",
]
