"""The gate the kit gives its command runner: every command passes :func:`authorize` first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from complaintkit.core.errors import PermissionDenied
from complaintkit.core.model import Ticket
from complaintkit.engine.declarations import Command
from complaintkit.engine.store import Transaction
from complaintkit.parts.permissions.rules import Policy, Resource, authorize
from complaintkit.parts.permissions.store import Refusal


class PermissionGate:
    """:class:`complaintkit.engine.commands.Gate` over the standard's roles."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def check(self, command: Command, tickets: Sequence[Ticket]) -> None:
        verdict = authorize(command.actor, command.action, Resource(tuple(tickets), command.amount_fen), self.policy)
        if not verdict.allowed:
            raise PermissionDenied(
                command.actor.id, command.actor.role.value, verdict.permission, action=command.action,
                reason=verdict.reason, rule=verdict.rule, amount_fen=verdict.amount_fen, limit_fen=verdict.limit_fen,
                ticket_ids=tuple(t.id for t in tickets))

    def record(self, tx: Transaction, refused: PermissionDenied, now: datetime) -> None:
        Refusal.of(refused, now).write(tx, now)
