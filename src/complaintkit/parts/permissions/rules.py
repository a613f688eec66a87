"""``authorize(actor, action, resource, policy)``: the one permission check, pure (SPEC H3).

The :class:`Policy` is compiled once from the standard's roles and the actions the parts
declare: for each role, a frozen set of what it may do, its amount authorisation and its scope.
A check is then a few dictionary and set look-ups — microseconds, not the milliseconds a general
policy engine takes (``complaintkit bench permissions`` prints the figure).

The command runner calls it for every command, inside the command's transaction once the
declared tickets are loaded and before anything is written; a refusal names the rule that refused
and why, and the runner raises it as :class:`~complaintkit.core.errors.PermissionDenied`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from complaintkit.core.model import Actor, Role, Ticket
from complaintkit.parts.permissions.catalogue import ACTIONS, AMOUNT_LIMITED, SYSTEM

if TYPE_CHECKING:
    from complaintkit.standard import Standard


@attrs.define(frozen=True)
class Resource:
    """What a command acts on: the tickets it declared (loaded) and an amount, in fen, if any."""

    tickets: tuple[Ticket, ...] = ()
    amount_fen: int | None = None

    @classmethod
    def of(cls, *tickets: Ticket, amount_fen: int | None = None) -> Resource:
        return cls(tuple(tickets), amount_fen)


@attrs.define(frozen=True)
class Grant:
    """What one role may do, compiled from the standard."""

    role: Role
    permissions: frozenset[str]
    limit_fen: int = 0
    scope: str = "all"


@attrs.define(frozen=True)
class Verdict:
    """The answer of a check: allowed, or refused by ``rule`` for ``reason``.

    ``rule`` is ``granted``, ``no_rule`` (the action needs no known permission), ``role`` (the
    role lacks the permission), ``scope`` (a ticket outside the role's reach) or ``amount``
    (above the role's authorisation).
    """

    allowed: bool
    action: str
    permission: str
    rule: str
    reason: str = ""
    amount_fen: int | None = None
    limit_fen: int | None = None


#: the system actor's grant: the kit's own work, nothing a person does
SYSTEM_GRANT = Grant(Role.SYSTEM, frozenset(SYSTEM))


@attrs.define(frozen=True)
class Policy:
    """Every role's grant and every action's permission."""

    grants: Mapping[Role, Grant]
    actions: Mapping[str, str]

    @classmethod
    def build(cls, standard: Standard, actions: Mapping[str, str] | None = None) -> Policy:
        """From the standard's (resolved) roles and the actions: the kit's own and the parts'."""
        grants: dict[Role, Grant] = {Role.SYSTEM: SYSTEM_GRANT}
        for spec in standard.roles:
            if spec.role is not Role.SYSTEM:
                grants[spec.role] = Grant(spec.role, frozenset(spec.permissions), spec.refund_limit_fen, spec.scope)
        return cls(grants, {**ACTIONS, **(actions or {})})

    def permission_for(self, action: str) -> str | None:
        """The permission ``action`` needs: by its exact name, else by its family (before ``:``)."""
        found = self.actions.get(action)
        if found is None and ":" in action:
            found = self.actions.get(action.split(":", 1)[0])
        return found


def authorize(actor: Actor, action: str, resource: Resource, policy: Policy) -> Verdict:
    """May ``actor`` do ``action`` on ``resource``? Pure: the same arguments, the same verdict."""
    permission = policy.permission_for(action)
    if permission is None:
        return Verdict(False, action, "", "no_rule",
                       f"no permission rule for the action {action!r} (a part declares its actions' permissions)")
    grant = policy.grants.get(actor.role)
    if grant is None or permission not in grant.permissions:
        return Verdict(False, action, permission, "role", f"the role {actor.role.value} does not have {permission}")
    if grant.scope == "own_department":
        for ticket in resource.tickets:
            if ticket.department != actor.department:
                return Verdict(False, action, permission, "scope",
                               f"ticket {ticket.id} is with {ticket.department or 'no department'!r}, not with "
                               f"{actor.department or 'no department'!r}, and the role {actor.role.value} "
                               "reaches only its own department's tickets")
    amount = resource.amount_fen
    if amount is not None and permission in AMOUNT_LIMITED and amount > grant.limit_fen:
        return Verdict(False, action, permission, "amount",
                       f"{yuan(amount)} yuan is above the {actor.role.value} limit of {yuan(grant.limit_fen)} yuan",
                       amount, grant.limit_fen)
    return Verdict(True, action, permission, "granted", "", amount,
                   grant.limit_fen if permission in AMOUNT_LIMITED else None)


def yuan(fen: int) -> str:
    """5001 → ``50.01``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def policy_of(standard: Standard, actions: Mapping[str, str] | None = None) -> Policy:
    """The standard's policy, built once per standard value (and per set of part actions)."""
    key = ("policy", tuple(sorted((actions or {}).items())))
    found = standard._cache.get(key)  # type: ignore[call-overload]
    if found is None:
        found = Policy.build(standard, actions)
        standard._cache[key] = found  # type: ignore[index]
    return found  # type: ignore[no-any-return]


__all__ = ["SYSTEM_GRANT", "Grant", "Policy", "Resource", "Verdict", "authorize", "policy_of", "yuan"]
