"""The BOSS/CRM actions as commands: ``boss:<action>`` on one ticket, checked by the runner.

An action runs in up to three steps: the command that records it (the runner checks the
permission here, before anything is written), the BOSS call, and — for a change — the command
that records the BOSS's answer. A refused action never reaches the BOSS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from complaintkit.core.masking import mask_text
from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.commands import Command, one_ticket
from complaintkit.parts.boss import rules
from complaintkit.ports.boss import BossServices


class _Kit(Protocol):
    """What an action needs of the kit: to run its commands and reach the BOSS."""

    @property
    def boss(self) -> BossServices | Any: ...

    def run(self, command: Command) -> Any: ...


def request(ticket_id: str, actor: Actor, action: str, args: dict[str, Any], *,
            amount_fen: int | None = None) -> Command:
    command = one_ticket(ticket_id, actor, f"boss:{action}", lambda t, c: rules.requested(t, c, action, args))
    return _with_amount(command, amount_fen)


def answer(ticket_id: str, actor: Actor, action: str, result: Any, *, failed: str = "",
           amount_fen: int | None = None) -> Command:
    command = one_ticket(ticket_id, actor, f"boss:{action}",
                         lambda t, c: rules.answered(t, c, action, result, failed=failed))
    return _with_amount(command, amount_fen)


def refund_promise(ticket_id: str, actor: Actor, amount_fen: int, reason: str) -> Command:
    command = one_ticket(ticket_id, actor, "boss:refund_promise",
                         lambda t, c: rules.promised(t, c, amount_fen, reason))
    return _with_amount(command, amount_fen)


def _with_amount(command: Command, amount_fen: int | None) -> Command:
    if amount_fen is None:
        return command
    return Command(command.action, command.actor, command.needs, command.decide, amount_fen=amount_fen)


def act(kit: _Kit, ticket_id: str, actor: Actor, action: str, args: dict[str, Any],
        call: Callable[[Any, str], Any], *, summary: Callable[[Any], Any] = lambda r: r,
        amount_fen: int | None = None) -> Any:
    """Record the action (permission-checked), call the BOSS with the ticket's number, and for a
    change record the answer; the BOSS's answer is returned."""
    ticket: Ticket = kit.run(request(ticket_id, actor, action, args, amount_fen=amount_fen))
    try:
        result = call(kit.boss, ticket.customer.msisdn.digits)
    except Exception as exc:
        if action in rules.CHANGES:
            kit.run(answer(ticket_id, actor, action, None, failed=mask_text(f"{type(exc).__name__}: {exc}"[:200]),
                           amount_fen=amount_fen))
        raise
    if action in rules.CHANGES:
        kit.run(answer(ticket_id, actor, action, summary(result), amount_fen=amount_fen))
    return result


__all__ = ["act", "answer", "refund_promise", "request"]
