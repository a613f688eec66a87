"""Intake and lifecycle commands (SPEC A1–A5): each declares what it reads and which rule decides.

The functions build :class:`~complaintkit.engine.commands.Command` values; ``ComplaintKit``
runs them (``kit.accept(...)`` is ``kit.run(commands.accept(kit, ...))``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Actor, Channel, Customer, Marker, Msisdn, Urgency
from complaintkit.engine.commands import Command, CustomerTickets, one_ticket
from complaintkit.engine.context import KitServices
from complaintkit.parts.intake import rules


def customer(kit: KitServices, msisdn: str, *, name: str = "", value_tier: str | None = None,
             star_level: int | None = None, city: str | None = None) -> Customer:
    """The customer from the number, with the CRM's facts where it has them."""
    number = Msisdn.parse(msisdn, field="customer.msisdn")
    profile = kit.boss.customer_profile(number.digits) if kit.boss is not None else None
    return Customer(
        msisdn=number,
        name=name or (profile.name if profile else ""),
        value_tier=value_tier or (profile.value_tier if profile else "medium"),
        star_level=star_level if star_level is not None else (profile.star_level if profile else 0),
        city=city if city is not None else (getattr(profile, "city", "") or "" if profile else ""),
    )


def accept(kit: KitServices, actor: Actor, *, msisdn: str, channel: Channel | str, category: str,
           description: str, urgency: Urgency | str | None = None, markers: Iterable[Marker | str] = (),
           name: str = "", value_tier: str | None = None, star_level: int | None = None,
           recording: str = "", city: str | None = None) -> Command:
    intake = rules.Intake(
        customer=customer(kit, msisdn, name=name, value_tier=value_tier, star_level=star_level, city=city),
        channel=enum_value(Channel, channel, "channel"),
        category=category,
        description=description,
        urgency=enum_value(Urgency, urgency, "urgency") if urgency is not None else None,
        markers=frozenset(enum_value(Marker, m, "markers") for m in markers),
        recording=recording,
    )
    ticket_id = kit.new_ticket_id()
    # E3: the customer's tickets of the repeat window, read on (msisdn, created_at)
    recent = CustomerTickets(intake.customer.msisdn.digits,
                             within=timedelta(days=kit.standard.settings.repeat_window_days))
    return Command("accept", actor, (recent,),
                   lambda loaded, ctx: rules.accept(ticket_id, intake, ctx, previous=loaded.tickets(recent)))


def dispatch(ticket_id: str, department: str, actor: Actor, *, reason: str = "") -> Command:
    return one_ticket(ticket_id, actor, "dispatch", lambda t, c: rules.dispatch(t, department, c, reason=reason))


def handle(ticket_id: str, actor: Actor) -> Command:
    return one_ticket(ticket_id, actor, "handle", rules.handle)


def forward(ticket_id: str, department: str, actor: Actor, *, reason: str) -> Command:
    return one_ticket(ticket_id, actor, "forward", lambda t, c: rules.forward(t, department, c, reason=reason))


def warm_transfer(ticket_id: str, to: str, actor: Actor, *, notes: str) -> Command:
    return one_ticket(ticket_id, actor, "warm_transfer", lambda t, c: rules.warm_transfer(t, to, c, notes=notes))


def record(ticket_id: str, actor: Actor, **facts: Any) -> Command:
    return one_ticket(ticket_id, actor, "record", lambda t, c: rules.record(t, c, **facts))


def reply(ticket_id: str, actor: Actor, *, result: str) -> Command:
    return one_ticket(ticket_id, actor, "reply", lambda t, c: rules.reply(t, c, result=result))


def return_visit(ticket_id: str, actor: Actor) -> Command:
    return one_ticket(ticket_id, actor, "return_visit", rules.return_visit)


def archive(ticket_id: str, actor: Actor, *, reason: str = "") -> Command:
    return one_ticket(ticket_id, actor, "archive", lambda t, c: rules.archive(t, c, reason=reason))


def reclassify(ticket_id: str, category: str, actor: Actor, reason: str) -> Command:
    return one_ticket(ticket_id, actor, "reclassify", lambda t, c: rules.reclassify(t, category, c, reason=reason))


def reactivate(ticket_id: str, actor: Actor, reason: str) -> Command:
    return one_ticket(ticket_id, actor, "reactivate", lambda t, c: rules.reactivate(t, c, reason=reason))


def enum_value(kind: Any, value: Any, field: str) -> Any:
    """``value`` as a member of the enum ``kind``; :class:`InvalidInput` naming ``field`` if not."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise InvalidInput(field, f"unknown {field} {value!r} (use one of {', '.join(m.value for m in kind)})") from None


__all__ = ["accept", "archive", "customer", "dispatch", "enum_value", "forward", "handle", "reactivate",
           "reclassify", "record", "reply", "return_visit", "warm_transfer"]
