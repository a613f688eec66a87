"""ComplaintKit: commands → rules → one store transaction → hooks.

Every command follows the same path: load the ticket, ask the pure rules for a decision, write
the ticket, its events, its timers and its outgoing messages in one transaction, and only after
the commit tell the plugins. If the ticket changed underneath (another worker), the command is
re-run on the fresh ticket.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from complaintkit.core.calendar import WorkCalendar
from complaintkit.core.clock import Clock, SystemClock
from complaintkit.core.errors import (
    ConcurrentChange,
    InvalidInput,
    RuleRefused,
    TicketNotFound,
)
from complaintkit.core.model import (
    Actor,
    Channel,
    Customer,
    Decision,
    Event,
    Marker,
    Msisdn,
    Ticket,
    TicketKind,
    TicketState,
    Timer,
    Urgency,
    mask_number,
)
from complaintkit.engine.calendar_setup import build_calendar
from complaintkit.engine.context import Context
from complaintkit.engine.store import Store, Transaction
from complaintkit.hooks.manager import Plugins
from complaintkit.logging import get_logger
from complaintkit.parts.follow_up import rules as follow_up
from complaintkit.parts.intake import rules as lifecycle
from complaintkit.parts.time_limits import queries as deadlines_view
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.ports.transports import DeliveryReceipt, InboundSms
from complaintkit.standard import Standard

log = get_logger(__name__)

Rule = Callable[[Ticket, Context], Decision]


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
        found = standard or self.plugins.call_first("complaintkit_standard")
        if found is None:
            raise InvalidInput(
                "standard", "no province standard: install a standard plugin (complaintkit-baseline) "
                "or pass standard=load_standard(folder)")
        self.standard: Standard = found
        self.calendar = calendar or build_calendar(self.standard, self.plugins)
        self.boss = self.plugins.call_first("complaintkit_boss_client", settings=self.settings.get("boss", {}))
        self._ids = id_factory or _default_id
        attach = getattr(self.clock, "attach", None)
        if attach is not None:
            attach(self)

    @classmethod
    def open(cls, url: str, **options: Any) -> ComplaintKit:
        """A kit on the database at ``url`` (``sqlite:///complaints.db``, ``postgresql://…``)."""
        return cls(Store.open(url), **options)

    def context(self, actor: Actor | None = None) -> Context:
        return Context(self.standard, self.calendar, self.clock.now(), actor or Actor.system())

    # -- intake ------------------------------------------------------------------------------

    def customer(self, msisdn: str, *, name: str = "", value_tier: str | None = None,
                 star_level: int | None = None) -> Customer:
        """Build the customer from the number, with the CRM's facts where it has them."""
        number = Msisdn.parse(msisdn, field="customer.msisdn")
        profile = self.boss.customer_profile(number.digits) if self.boss is not None else None
        return Customer(
            msisdn=number,
            name=name or (profile.name if profile else ""),
            value_tier=value_tier or (profile.value_tier if profile else "medium"),
            star_level=star_level if star_level is not None else (profile.star_level if profile else 0),
        )

    def accept(self, actor: Actor, *, msisdn: str, channel: Channel | str, category: str, description: str,
               urgency: Urgency | str | None = None, markers: Iterable[Marker | str] = (),
               name: str = "", value_tier: str | None = None, star_level: int | None = None) -> Ticket:
        """Accept (受理) a complaint. Bad input raises :class:`InvalidInput` and stores nothing."""
        intake = lifecycle.Intake(
            customer=self.customer(msisdn, name=name, value_tier=value_tier, star_level=star_level),
            channel=_enum(Channel, channel, "channel"),
            category=category,
            description=description,
            urgency=_enum(Urgency, urgency, "urgency") if urgency is not None else None,
            markers=frozenset(_enum(Marker, m, "markers") for m in markers),
        )
        return self._create(lambda ctx, tid: lifecycle.accept(tid, intake, ctx), actor)

    def open_follow_up(self, actor: Actor, *, msisdn: str, problem_type: str, category: str,
                       description: str, channel: Channel | str = Channel.HOTLINE) -> Ticket:
        """After a problem was solved online: the follow-up ticket (SPEC B1)."""
        intake = lifecycle.Intake(
            customer=self.customer(msisdn),
            channel=_enum(Channel, channel, "channel"),
            category=category,
            description=description,
            kind=TicketKind.ONLINE_FOLLOW_UP,
            problem_type=problem_type,
        )
        return self._create(lambda ctx, tid: follow_up.open_follow_up(tid, intake, ctx), actor)

    def _create(self, rule: Callable[[Context, str], Decision], actor: Actor) -> Ticket:
        ctx = self.context(actor)
        decision = rule(ctx, self._ids(ctx.now))
        with self.store.inserting() as tx:
            stored = self._write(tx, decision, new=True, now=ctx.now)
        self._after(stored, decision)
        return stored

    # -- commands on a ticket ------------------------------------------------------------------

    def dispatch(self, ticket_id: str, department: str, actor: Actor, *, reason: str = "") -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.dispatch(t, department, c, reason=reason))

    def handle(self, ticket_id: str, actor: Actor) -> Ticket:
        return self.command(ticket_id, actor, lifecycle.handle)

    def forward(self, ticket_id: str, department: str, actor: Actor, *, reason: str) -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.forward(t, department, c, reason=reason))

    def warm_transfer(self, ticket_id: str, to: str, actor: Actor, *, notes: str) -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.warm_transfer(t, to, c, notes=notes))

    def record(self, ticket_id: str, actor: Actor, **facts: Any) -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.record(t, c, **facts))

    def reply(self, ticket_id: str, actor: Actor, *, result: str) -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.reply(t, c, result=result))

    def return_visit(self, ticket_id: str, actor: Actor) -> Ticket:
        return self.command(ticket_id, actor, lifecycle.return_visit)

    def archive(self, ticket_id: str, actor: Actor, *, reason: str = "") -> Ticket:
        return self.command(ticket_id, actor, lambda t, c: lifecycle.archive(t, c, reason=reason))

    # -- time limits: pausing, re-computation (docs/time-limits.md) ------------------------------

    def pause(self, ticket_id: str, actor: Actor, reason: str) -> Ticket:
        """Stop the ticket's clock while waiting on the customer (SPEC C5). Refused with
        :class:`RuleRefused` when the standard's ``settings.pause_while_waiting`` is off."""
        return self.command(ticket_id, actor, lambda t, c: time_limits.pause(t, c, reason=reason))

    def resume(self, ticket_id: str, actor: Actor, reason: str = "") -> Ticket:
        """Start the clock again; due times move on by the paused time (docs/time-limits.md)."""
        for attempt in range(3):
            try:
                with self.store.transaction() as tx:
                    ctx = self.context(actor)
                    ticket = tx.load_ticket(ticket_id)
                    paused = next((e for e in reversed(tx.events(ticket_id)) if e.kind == "pause"), None)
                    if paused is None:
                        raise RuleRefused(ticket_id, "the clock is not paused")
                    decision = time_limits.resume(ticket, ctx, paused=paused, reason=reason)
                    stored = self._write(tx, decision, new=False, now=ctx.now)
            except ConcurrentChange:
                if attempt == 2:
                    raise
                continue
            self._after(stored, decision)
            return stored
        raise AssertionError("unreachable")

    def reclassify(self, ticket_id: str, category: str, actor: Actor, reason: str) -> Ticket:
        """Change the category; limits are looked up again and running deadlines re-computed."""
        return self.command(ticket_id, actor, lambda t, c: lifecycle.reclassify(t, category, c, reason=reason))

    def reactivate(self, ticket_id: str, actor: Actor, reason: str) -> Ticket:
        """REPLIED / RETURN_VISIT → IN_HANDLING; the reply and handling stages start again."""
        return self.command(ticket_id, actor, lambda t, c: lifecycle.reactivate(t, c, reason=reason))

    def command(self, ticket_id: str, actor: Actor, rule: Rule, *, attempts: int = 3) -> Ticket:
        """Run ``rule`` on the ticket in one transaction; re-run it if the ticket changed meanwhile."""
        for attempt in range(attempts):
            try:
                with self.store.transaction() as tx:
                    ctx = self.context(actor)
                    decision = rule(tx.load_ticket(ticket_id), ctx)
                    stored = self._write(tx, decision, new=False, now=ctx.now)
            except ConcurrentChange:
                if attempt == attempts - 1:
                    raise
                continue
            self._after(stored, decision)
            return stored
        raise AssertionError("unreachable")

    # -- timers ---------------------------------------------------------------------------------

    def fire_due_timers(self, *, limit: int | None = None) -> int:
        """Fire every timer due by now, earliest first, each exactly once; return how many fired.

        Each timer fires in its own transaction together with the change it causes, so a crash
        either fires it completely or leaves it pending for the next worker.
        """
        fired = 0
        while limit is None or fired < limit:
            with self.store.transaction() as tx:
                ctx = self.context()
                claimed = tx.claim_due_timer(ctx.now)
                if claimed is None:
                    return fired
                decision = self._fire(tx, claimed.timer, ctx)
                tx.mark_timer_fired(claimed.id, ctx.now)
            fired += 1
            if decision is not None:
                self._after(decision.ticket, decision)
        return fired

    def _fire(self, tx: Transaction, timer: Timer, ctx: Context) -> Decision | None:
        try:
            ticket = tx.load_ticket(timer.ticket_id)
        except TicketNotFound:
            log.error("timer for a missing ticket", ticket_id=timer.ticket_id, timer=timer.name)
            return None
        decision = lifecycle.fire_timer(ticket, timer, ctx)
        if decision.ticket == ticket and not decision.events and not decision.messages:
            return None
        stored = self._write(tx, decision, new=False, now=ctx.now)
        return Decision(stored, decision.events, decision.set_timers, decision.cancel_timers, decision.messages)

    def next_due(self) -> datetime | None:
        with self.store.read() as tx:
            return tx.next_timer_due()

    # -- inbound SMS ----------------------------------------------------------------------------

    def receive_sms(self, sms: InboundSms) -> str:
        """A customer's SMS to the service port (SPEC B3, B5). Returns the outcome recorded.

        ``converted`` — the reply code inside an open follow-up's window; ``late`` — the code after
        the window closed; ``unknown_code`` — other text while a follow-up is open; ``unmatched`` —
        nothing open for this number; ``malformed`` — not a mobile number. Every SMS is recorded,
        and every one but ``malformed`` is answered.
        """
        ctx = self.context()
        at = ctx.now
        try:
            number = Msisdn.parse(sms.sender, field="sms.sender")
        except InvalidInput:
            with self.store.transaction() as tx:
                tx.record_inbound(sms.sender[:20], sms.to, sms.text, at, "malformed")
            log.warning("inbound sms from a malformed number", sender=mask_number(sms.sender))
            return "malformed"
        for attempt in range(3):
            try:
                with self.store.transaction() as tx:
                    candidates = tx.find_tickets(msisdn=number.digits, kind=TicketKind.ONLINE_FOLLOW_UP)
                    reply = follow_up.classify_reply(candidates, sms.text, ctx)
                    ticket_id = reply.ticket.id if reply.ticket is not None else ""
                    inbound_id = tx.record_inbound(number.digits, sms.to, sms.text, at, reply.outcome, ticket_id)
                    decision = None
                    if reply.outcome == "converted":
                        assert reply.ticket is not None
                        decision = follow_up.convert(reply.ticket, ctx, text=sms.text)
                        stored = self._write(tx, decision, new=False, now=at)
                        decision = Decision(stored, decision.events)
                    else:
                        tx.add_messages([follow_up.answer_unmatched(
                            f"inbound:{inbound_id}", number.digits, reply.template, ctx)], at)
                break
            except ConcurrentChange:
                if attempt == 2:
                    raise
        if decision is not None:
            self._after(decision.ticket, decision)
        log.info("inbound sms", sender=number.masked(), outcome=reply.outcome, ticket_id=ticket_id)
        return reply.outcome

    def receive_receipt(self, receipt: DeliveryReceipt) -> bool:
        with self.store.transaction() as tx:
            found = tx.record_delivery(receipt.remote_id, receipt.state.value, receipt.at or self.clock.now())
        if not found:
            log.warning("delivery receipt for an unknown message", remote_id=receipt.remote_id)
        return found

    # -- queries ----------------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> Ticket:
        with self.store.read() as tx:
            return tx.load_ticket(ticket_id, lock=False)

    def history(self, ticket_id: str) -> list[Event]:
        with self.store.read() as tx:
            return tx.events(ticket_id)

    def tickets(self, **filters: Any) -> list[Ticket]:
        with self.store.read() as tx:
            return tx.find_tickets(**filters)

    # -- time limits' read side (complaintkit.parts.time_limits.queries, complaintkit.parts.reports.queries) -----------------------

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

    # -- the one write path --------------------------------------------------------------------------

    def _write(self, tx: Transaction, decision: Decision, *, new: bool, now: datetime) -> Ticket:
        if new:
            stored = tx.insert_ticket(decision.ticket)
            tx.add_events(decision.events)
            tx.set_timers(decision.set_timers, replace=False)
            if decision.messages:
                tx.add_messages(decision.messages, now, fresh=True)
            return stored
        stored = tx.update_ticket(decision.ticket)
        tx.add_events(decision.events)
        tx.cancel_timers(stored.id, (*decision.cancel_timers, *(t.name for t in decision.set_timers)))
        tx.set_timers(decision.set_timers, replace=False)
        tx.add_messages(decision.messages, now)
        return stored

    def _after(self, ticket: Ticket, decision: Decision) -> None:
        if decision.events:
            self.plugins.notify("complaintkit_ticket_changed", ticket=ticket, events=decision.events)
        for ev in decision.events:
            if ev.kind == "accept" and Marker.MAJOR in ticket.markers:
                self.plugins.notify("complaintkit_major_complaint", ticket=ticket)
            if ev.kind == "accept":
                for marker in (Marker.SENSITIVE, Marker.POTENTIAL_ESCALATION):
                    if marker in ticket.markers:
                        self.plugins.notify("complaintkit_sensitive_ticket", ticket=ticket, marker=marker.value)
        log.debug("ticket changed", ticket_id=ticket.id, state=ticket.state.value,
                  events=[e.kind for e in decision.events])

    def close(self) -> None:
        self.store.close()


def _default_id(now: datetime) -> str:
    return f"CK{now:%Y%m%d}{secrets.token_hex(4).upper()}"


def _enum(kind: Any, value: Any, field: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(field, f"unknown {field} {value!r} (use one of {', '.join(m.value for m in kind)})") from None


__all__ = ["ComplaintKit", "TicketState"]
