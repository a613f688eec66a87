"""ComplaintKit: the process, embedded — open/close and the documented commands.

Each command is built by the part of the process it belongs to (``complaintkit/parts/<part>/
commands.py``) and run by the one command runner (:mod:`complaintkit.engine.commands`): load
what the command declares, ask the pure rules, write everything in one transaction, re-run on a
conflict, tell the plugins after the commit. Parts registered by plugins add their own commands
and queries under ``kit.parts.<name>``.
"""

from __future__ import annotations

import secrets
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from complaintkit.core import inputs
from complaintkit.core.calendar import WorkCalendar
from complaintkit.core.clock import Clock, SystemClock
from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import (
    Actor,
    Channel,
    Customer,
    Event,
    Marker,
    Msisdn,
    Ticket,
    TicketKind,
    TicketState,
    Urgency,
)
from complaintkit.engine import timers as timer_engine
from complaintkit.engine.calendar_setup import build_calendar
from complaintkit.engine.commands import Command, Runner, one_ticket
from complaintkit.engine.context import Context
from complaintkit.engine.registry import Registry
from complaintkit.engine.store import Store
from complaintkit.engine.store.quiet import TIMERS
from complaintkit.hooks.manager import Plugins
from complaintkit.logging import get_logger
from complaintkit.parts.delivery.store import DeliveryRecord
from complaintkit.parts.follow_up import commands as follow_up
from complaintkit.parts.intake import commands as intake
from complaintkit.parts.permissions import part as permission_checks
from complaintkit.parts.permissions.gate import PermissionGate
from complaintkit.parts.time_limits import commands as time_limits
from complaintkit.parts.time_limits import queries as deadlines_view
from complaintkit.ports.boss import BossCrm
from complaintkit.ports.transports import DeliveryReceipt, InboundSms
from complaintkit.standard import Standard

log = get_logger(__name__)

Rule = Callable[[Ticket, Context], Any]


class ComplaintKit:
    """The process, embedded: one object per province deployment and database."""

    def __init__(
        self,
        store: Store,
        *,
        standard: Standard | None = None,
        plugins: Plugins | None = None,
        clock: Clock | None = None,
        calendar: WorkCalendar | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        id_factory: Callable[[datetime], str] | None = None,
    ) -> None:
        self.store = store
        self.plugins = plugins or Plugins.discover()
        self.settings = dict(settings or {})
        self.clock = clock or SystemClock()
        found = standard or self.plugins.standard()
        if found is None:
            raise InvalidInput(
                "standard", "no province standard: install a standard plugin (complaintkit-baseline) "
                "or pass standard=load_standard(folder)")
        self.standard: Standard = found
        self.calendar = calendar or build_calendar(self.standard, self.plugins)
        self.boss: BossCrm | None = self.plugins.boss_client(settings=self.settings.get("boss", {}))
        self._ids = id_factory or _default_id
        self.registry = Registry(self.plugins.parts())
        #: who may do what (SPEC H): checked by the runner for every command
        self.policy = permission_checks.start_up(self.standard, self.registry)
        self.runner = Runner(self.store, self._context, self.plugins, self.registry, gate=PermissionGate(self.policy))
        #: each registered part's namespace (``kit.parts.<name>``), for parts that have one
        self.parts = types.SimpleNamespace(**{
            name: part.api(self) for name, part in self.registry.parts.items() if part.api is not None})
        attach = getattr(self.clock, "attach", None)
        if attach is not None:
            attach(self)

    @classmethod
    def open(cls, url: str, **options: Any) -> ComplaintKit:
        """A kit on the database at ``url`` (``sqlite:///complaints.db``, ``postgresql://…``)."""
        return cls(Store.open(url), **options)

    def context(self, actor: Actor | None = None) -> Context:
        return Context(self.standard, self.calendar, self.clock.now(), actor or Actor.system())

    def _context(self, actor: Actor, at: datetime | None) -> Context:
        return Context(self.standard, self.calendar, at or self.clock.now(), actor)

    def new_ticket_id(self) -> str:
        return self._ids(self.clock.now())

    def run(self, command: Command) -> Any:
        """Run a command (one transaction, re-run on a conflict) and return its result."""
        return self.runner.run(command)

    # -- intake (parts/intake) ---------------------------------------------------------------

    def customer(self, msisdn: str, *, name: str = "", value_tier: str | None = None,
                 star_level: int | None = None) -> Customer:
        """Build the customer from the number, with the CRM's facts where it has them."""
        return intake.customer(self, msisdn, name=name, value_tier=value_tier, star_level=star_level)

    def accept(self, actor: Actor, *, msisdn: str, channel: Channel | str, category: str, description: str,
               urgency: Urgency | str | None = None, markers: Iterable[Marker | str] = (),
               name: str = "", value_tier: str | None = None, star_level: int | None = None,
               recording: str = "", city: str | None = None) -> Ticket:
        """Accept (受理) a complaint. Bad input raises :class:`InvalidInput` and stores nothing.

        ``recording`` is the channel's reference to the call's recording, carried on the ticket
        for the monthly quality inspection (SPEC I1). ``city``: the customer's area, when the CRM
        does not give it (the dispatch standard may route by it). A repeat complaint (same
        customer, same category family, within the standard's ``repeat_window_days``) is
        detected here (docs/special-tickets.md)."""
        return self.run(intake.accept(self, actor, msisdn=msisdn, channel=channel, category=category,  # type: ignore[no-any-return]
                                      description=description, urgency=urgency, markers=markers, name=name,
                                      value_tier=value_tier, star_level=star_level, recording=recording,
                                      city=city))

    def dispatch(self, ticket_id: str, department: str, actor: Actor, *, reason: str = "") -> Ticket:
        return self.run(intake.dispatch(ticket_id, department, actor, reason=reason))  # type: ignore[no-any-return]

    def handle(self, ticket_id: str, actor: Actor) -> Ticket:
        return self.run(intake.handle(ticket_id, actor))  # type: ignore[no-any-return]

    def forward(self, ticket_id: str, department: str, actor: Actor, *, reason: str) -> Ticket:
        return self.run(intake.forward(ticket_id, department, actor, reason=reason))  # type: ignore[no-any-return]

    def warm_transfer(self, ticket_id: str, to: str, actor: Actor, *, notes: str) -> Ticket:
        return self.run(intake.warm_transfer(ticket_id, to, actor, notes=notes))  # type: ignore[no-any-return]

    def record(self, ticket_id: str, actor: Actor, **facts: Any) -> Ticket:
        return self.run(intake.record(ticket_id, actor, **facts))  # type: ignore[no-any-return]

    def reply(self, ticket_id: str, actor: Actor, *, result: str) -> Ticket:
        return self.run(intake.reply(ticket_id, actor, result=result))  # type: ignore[no-any-return]

    def return_visit(self, ticket_id: str, actor: Actor) -> Ticket:
        return self.run(intake.return_visit(ticket_id, actor))  # type: ignore[no-any-return]

    def archive(self, ticket_id: str, actor: Actor, *, reason: str = "") -> Ticket:
        return self.run(intake.archive(ticket_id, actor, reason=reason))  # type: ignore[no-any-return]

    def reclassify(self, ticket_id: str, category: str, actor: Actor, reason: str) -> Ticket:
        """Change the category; limits are looked up again and running deadlines re-computed."""
        return self.run(intake.reclassify(ticket_id, category, actor, reason))  # type: ignore[no-any-return]

    def reactivate(self, ticket_id: str, actor: Actor, reason: str) -> Ticket:
        """REPLIED / RETURN_VISIT → IN_HANDLING; the reply and handling stages start again."""
        return self.run(intake.reactivate(ticket_id, actor, reason))  # type: ignore[no-any-return]

    def command(self, ticket_id: str, actor: Actor, rule: Rule, *, attempts: int = 3) -> Ticket:
        """Run ``rule(ticket, ctx) -> Decision`` on one ticket in one transaction (0.1 API).

        Its action is ``command:<the rule's name>``: it needs the ``ticket.command`` permission."""
        return self.run(one_ticket(ticket_id, actor, f"command:{getattr(rule, '__name__', 'rule')}", rule))  # type: ignore[no-any-return]

    # -- time limits (parts/time_limits; docs/time-limits.md) ---------------------------------

    def pause(self, ticket_id: str, actor: Actor, reason: str) -> Ticket:
        """Stop the ticket's clock while waiting on the customer (SPEC C5). Refused with
        :class:`RuleRefused` when the standard's ``settings.pause_while_waiting`` is off."""
        return self.run(time_limits.pause(ticket_id, actor, reason))  # type: ignore[no-any-return]

    def resume(self, ticket_id: str, actor: Actor, reason: str = "") -> Ticket:
        """Start the clock again; due times move on by the paused time (docs/time-limits.md)."""
        return self.run(time_limits.resume(ticket_id, actor, reason))  # type: ignore[no-any-return]

    def deadlines(self, ticket_id: str, *, now: datetime | None = None) -> list[deadlines_view.DeadlineView]:
        """Every deadline of the ticket with its state and internal-target state at ``now``."""
        return deadlines_view.ticket_deadlines(self.ticket(ticket_id), self.standard, now or self.clock.now())

    def queue(self, department: str, *, now: datetime | None = None) -> list[deadlines_view.QueueEntry]:
        """The department's open tickets, most urgent first (overdue, major/repeat, due time)."""
        return deadlines_view.department_queue(self._open_tickets(department), department, self.standard,
                                               now or self.clock.now())

    def send_daily_digest(self, now: datetime | None = None) -> int:
        """Queue one e-mail per department listing its overdue and near-overdue tickets.

        Run it once each morning (the worker's schedule or cron, e.g. 08:30): the key is per
        department per local day, so a second run the same day queues nothing. Returns how many
        e-mails were newly queued."""
        moment = now or self.clock.now()
        messages = deadlines_view.digest_messages(self._open_tickets(), self.standard, moment,
                                                  tz=self.calendar.tz)
        with self.store.transaction() as tx:
            added = tx.add_messages(messages, moment)
        log.info("daily digest", departments=len(messages), queued=added)
        return added

    def _open_tickets(self, department: str | None = None) -> list[Ticket]:
        with self.store.read() as tx:
            return tx.find_tickets(states=deadlines_view.OPEN_STATES, department=department)

    # -- online follow-up (parts/follow_up) --------------------------------------------------------

    def open_follow_up(self, actor: Actor, *, msisdn: str, problem_type: str, category: str,
                       description: str, channel: Channel | str = Channel.HOTLINE) -> Ticket:
        """After a problem was solved online: the follow-up ticket (SPEC B1)."""
        return self.run(follow_up.open_follow_up(self, actor, msisdn=msisdn, problem_type=problem_type,  # type: ignore[no-any-return]
                                                 category=category, description=description, channel=channel))

    def receive_sms(self, sms: InboundSms) -> str:
        """A customer's SMS to the service port (SPEC B3, B5). Returns the outcome recorded.

        ``converted`` — the reply code inside an open follow-up's window; ``late`` — the code after
        the window closed; ``unknown_code`` — other text while a follow-up is open; ``unmatched`` —
        nothing open for this number; ``malformed`` — not a mobile number. Every SMS is recorded,
        and every one but ``malformed`` is answered. It is judged at ``sms.received_at`` when
        given (never later than now), so a reply that came inside its window counts even if it is
        handled after the window closed. Fields that are not text, hold control characters or
        are too long are refused with :class:`InvalidInput` naming them, and nothing is stored.
        """
        sms = inputs.instance("sms", sms, kind=InboundSms).checked()
        if sms.received_at is not None and sms.received_at > self.clock.now():
            sms = InboundSms(sms.sender, sms.to, sms.text, self.clock.now())
        outcome: str = self.run(follow_up.receive_sms(sms))
        if outcome != "malformed":
            log.info("inbound sms", sender=Msisdn.parse(sms.sender).masked(), outcome=outcome)
        return outcome

    def receive_receipt(self, receipt: DeliveryReceipt) -> bool:
        """A delivery receipt, recorded on the message whose remote id it names; False if unknown."""
        now = self.clock.now()
        with self.store.transaction() as tx:
            return DeliveryRecord(receipt.remote_id, receipt.state.value, receipt.at or now).write(tx, now)

    # -- timers ---------------------------------------------------------------------------------

    def fire_due_timers(self, *, limit: int | None = None) -> int:
        """Fire every timer due by now, earliest first, each exactly once; return how many fired.

        Each timer fires in its own transaction together with the change it causes, so a crash
        either fires it completely or leaves it pending for the next worker. A timer whose rule
        fails is quarantined with its error (``complaintkit doctor``) and the others go on.
        """
        return timer_engine.fire_due(self.runner, self.clock.now(), limit=limit)

    def next_due(self) -> datetime | None:
        """When the next timer is due (None: no timer pending)."""
        quiet = self.store.quiet
        known, at = quiet.known(TIMERS)
        if known:  # a virtual clock asks before every step it takes: answered without a read
            return at
        mark = quiet.mark(TIMERS)
        with self.store.read() as tx:
            at = tx.next_timer_due()
        quiet.settle(TIMERS, at, mark)
        return at

    # -- queries ----------------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket:
        """The ticket as stored; :class:`TicketNotFound` if there is none."""
        ticket_id = inputs.line("ticket_id", ticket_id, limit="ticket_id", required=True)
        with self.store.read() as tx:
            return tx.load_ticket(ticket_id, lock=False)

    def history(self, ticket_id: str) -> list[Event]:
        """The ticket's events, oldest first."""
        ticket_id = inputs.line("ticket_id", ticket_id, limit="ticket_id", required=True)
        with self.store.read() as tx:
            return tx.events(ticket_id)

    def tickets(self, **filters: Any) -> list[Ticket]:
        """Tickets matching every filter, oldest first: ``msisdn``, ``state``, ``states``,
        ``department``, ``kind``, ``parent_id``, ``since``, ``until``, ``limit``."""
        with self.store.read() as tx:
            return tx.find_tickets(**ticket_filters(filters))

    def close(self) -> None:
        self.store.close()


def ticket_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """``filters`` checked one by one: an unknown name or a value of the wrong kind is
    :class:`InvalidInput` naming it, before any query runs."""
    checked: dict[str, Any] = {}
    for name, value in filters.items():
        field = f"filters.{name}"
        if value is None:
            checked[name] = None
        elif name in ("msisdn",):
            checked[name] = Msisdn.parse(value, field=field).digits
        elif name in ("department", "parent_id"):
            checked[name] = inputs.line(field, value, limit="ticket_id" if name == "parent_id" else "department")
        elif name == "state":
            checked[name] = inputs.instance(field, value, kind=TicketState)
        elif name == "states":
            if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                raise InvalidInput(field, f"expected TicketState values, got {type(value).__name__}")
            checked[name] = [inputs.instance(field, v, kind=TicketState) for v in value]
        elif name == "kind":
            checked[name] = inputs.instance(field, value, kind=TicketKind)
        elif name in ("since", "until"):
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidInput(field, "expected a timezone-aware datetime")
            checked[name] = value
        elif name == "limit":
            checked[name] = inputs.whole_number(field, value, low=0, high=10_000_000)
        else:
            raise InvalidInput(field, "is not a filter (msisdn, state, states, department, kind, "
                                      "parent_id, since, until, limit)")
    return checked


def _default_id(now: datetime) -> str:
    return f"CK{now:%Y%m%d}{secrets.token_hex(4).upper()}"


__all__ = ["ComplaintKit", "TicketState"]
