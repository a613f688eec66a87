"""Permissions (SPEC H1–H3): the start-up check of every action's rule, and ``kit.parts.permissions``.

The check itself runs in the command runner for every command; this part makes sure at start-up
that every action a part declares needs a permission the standard knows, and gives applications a
way to ask before they offer an action (``kit.parts.permissions.check``) and to audit refusals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from complaintkit.core.errors import PluginError
from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.registry import Part, Registry
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.permissions.catalogue import ACTIONS, PERMISSIONS, SYSTEM
from complaintkit.parts.permissions.rules import Policy, Resource, Verdict, authorize, policy_of
from complaintkit.parts.permissions.store import refusals

if TYPE_CHECKING:
    from complaintkit.engine.store import Store
    from complaintkit.standard import Standard


class _Kit(Protocol):
    """What ``kit.parts.permissions`` needs of the kit."""

    policy: Policy

    @property
    def store(self) -> Store: ...

    def ticket(self, ticket_id: str) -> Ticket: ...


def start_up(standard: Standard, registry: Registry) -> Policy:
    """The kit's policy; refuses a part whose action needs a permission nobody can know."""
    known = set(PERMISSIONS) | {p.name for p in standard.permissions}
    for action, permission in registry.permissions.items():
        if action in ACTIONS:
            raise PluginError(registry.permission_owners.get(action, "?"), "complaintkit_parts",
                              f"a part maps the action {action!r}, which is the kit's own")
        if permission not in known:
            raise PluginError(registry.permission_owners.get(action, "?"), "complaintkit_parts",
                              f"the action {action!r} needs the permission {permission!r}, which neither the kit "
                              f"nor the standard {standard.name!r} knows (declare it in roles.toml's [[permission]])")
    return policy_of(standard, registry.permissions)


class PermissionsApi:
    """``kit.parts.permissions``: ask before offering an action; read the refusals."""

    def __init__(self, kit: _Kit) -> None:
        self.kit = kit

    def check(self, actor: Actor, action: str, *, ticket_id: str | None = None,
              amount_fen: int | None = None) -> Verdict:
        """What the runner would answer (nothing is recorded: asking is not trying)."""
        tickets = (self.kit.ticket(ticket_id),) if ticket_id else ()
        return authorize(actor, action, Resource(tickets, amount_fen), self.kit.policy)

    def may(self, actor: Actor, permission: str) -> bool:
        """Whether the actor's role holds ``permission`` at all."""
        grant = self.kit.policy.grants.get(actor.role)
        return grant is not None and permission in grant.permissions

    def refusals(self, *, actor: str | None = None) -> list[dict[str, object]]:
        """Every stored refusal, oldest first."""
        with self.kit.store.read() as tx:
            return refusals(tx, actor=actor)  # type: ignore[return-value]


PART = Part("permissions", api=PermissionsApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]


__all__ = ["SYSTEM", "PermissionsApi", "start_up"]
