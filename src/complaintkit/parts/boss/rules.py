"""What a BOSS/CRM action records on its ticket: pure, over the ticket and an explicit ``now``.

Every action is recorded before the BOSS is called (``boss_query`` for a look-up,
``boss_request`` for a change), so an audit shows who looked at or asked for what; a change
also records what the BOSS answered (``boss_done``) or that it failed (``boss_failed``). Only the
action and its own arguments are recorded — the customer's number is the ticket's already, and
what the BOSS returned about the customer stays out of the history.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Decision, Event, Ticket
from complaintkit.engine.context import Context

#: the actions that change something in the BOSS (the rest only read)
CHANGES = frozenset({"monternet_unsubscribe", "monternet_info_switch", "change_package",
                     "group_service_unsubscribe", "refund"})


def requested(ticket: Ticket, ctx: Context, action: str, args: dict[str, Any]) -> Decision:
    kind = "boss_request" if action in CHANGES else "boss_query"
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, kind, data={"action": action, **args}),))


def answered(ticket: Ticket, ctx: Context, action: str, result: Any, *, failed: str = "") -> Decision:
    if failed:
        event = Event(ticket.id, ctx.now, ctx.actor.id, "boss_failed", reason=failed, data={"action": action})
    else:
        event = Event(ticket.id, ctx.now, ctx.actor.id, "boss_done", data={"action": action, "result": result})
    return Decision(ticket, (event,))


def promised(ticket: Ticket, ctx: Context, amount_fen: int, reason: str) -> Decision:
    """The front desk's refund promise within its authorisation (SPEC H2): recorded on the
    ticket for the back office to carry out."""
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, "refund_promised", reason=reason,
                                   data={"amount_fen": amount_fen}),))


def fen(amount: int | str | Decimal, *, field: str = "amount") -> int:
    """An amount in fen: an ``int`` is fen already; text or a ``Decimal`` is yuan with at most two
    decimals (``"50.01"`` → 5001). Floats are refused: 50.01 is not exactly representable."""
    if isinstance(amount, (bool, float)):
        raise InvalidInput(field, "give fen as a whole number, or yuan as text like '50.01'")
    if isinstance(amount, int):
        value = amount
    else:
        try:
            yuan = Decimal(str(amount).strip())
        except InvalidOperation:
            raise InvalidInput(field, f"{str(amount)[:20]!r} is not an amount in yuan") from None
        if not yuan.is_finite() or yuan != yuan.quantize(Decimal("0.01")):
            raise InvalidInput(field, f"{str(amount)[:20]!r}: yuan have at most two decimals")
        value = int(yuan * 100)
    if not 0 < value <= 100_000_000:
        raise InvalidInput(field, "must be more than zero and at most 1000000 yuan")
    return value


__all__ = ["CHANGES", "answered", "fen", "promised", "requested"]
