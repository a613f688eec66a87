"""Every error the kit raises on purpose; each message says what was wrong and where."""

from __future__ import annotations


class ComplaintKitError(Exception):
    """Base of the kit's own errors."""


class InvalidInput(ComplaintKitError, ValueError):
    """A value given to the kit is malformed; ``field`` names where it was."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnknownCategory(InvalidInput):
    def __init__(self, code: str, known: list[str], *, field: str = "category") -> None:
        hint = ", ".join(known[:8]) + (" …" if len(known) > 8 else "")
        super().__init__(field, f"unknown complaint category {code!r} (known: {hint})")


class IllegalTransition(ComplaintKitError):
    """The lifecycle does not allow this action in the ticket's current state."""

    def __init__(self, ticket_id: str, state: str, action: str, allowed: list[str]) -> None:
        self.ticket_id = ticket_id
        self.state = state
        self.action = action
        super().__init__(
            f"ticket {ticket_id}: cannot {action} a ticket in state {state!r}"
            + (f" (allowed here: {', '.join(allowed)})" if allowed else " (no action is allowed here)")
        )


class RuleRefused(ComplaintKitError):
    """A process rule refused a command (archive without its record, a foreign handler …)."""

    def __init__(self, ticket_id: str, message: str) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"ticket {ticket_id}: {message}")


class TransferRefused(RuleRefused):
    """A transfer outside the standard's transfer graph (SPEC D3); ``allowed`` lists where the
    ticket's department may transfer to."""

    def __init__(self, ticket_id: str, source: str, target: str, allowed: list[str]) -> None:
        self.source, self.target, self.allowed = source, target, allowed
        super().__init__(ticket_id, f"{source or '(no department)'} may not transfer to {target!r} "
                                    f"(allowed: {', '.join(allowed) or 'none'})")


class PermissionDenied(ComplaintKitError):
    """The actor's role may not do this (SPEC H3): names the role, the action, the permission and,
    for an amount, the amount and the limit (in fen). The refusal is logged and, when the command
    concerned tickets, stored on each as a ``permission_refused`` event."""

    def __init__(self, actor: str, role: str, permission: str, *, action: str = "", reason: str = "",
                 rule: str = "role", amount_fen: int | None = None, limit_fen: int | None = None,
                 ticket_ids: tuple[str, ...] = ()) -> None:
        self.actor, self.role, self.permission = actor, role, permission
        self.action, self.reason, self.rule = action or permission, reason, rule
        self.amount_fen, self.limit_fen, self.ticket_ids = amount_fen, limit_fen, ticket_ids
        what = f"{self.action} ({permission})" if permission and permission != self.action else self.action
        super().__init__(f"{actor} ({role}) may not {what}" + (f": {reason}" if reason else ""))


class TicketNotFound(ComplaintKitError, LookupError):
    def __init__(self, ticket_id: str) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket {ticket_id!r}")


class ConcurrentChange(ComplaintKitError):
    """The ticket changed under us between load and commit; the command may be retried."""


class TicketBusy(ConcurrentChange):
    """Another transaction holds the ticket; the caller skips it for now instead of waiting."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id} is being changed by another transaction")
        self.ticket_id = ticket_id


class StoreUnavailable(ComplaintKitError):
    """The database URL is not one the kit can use (``unusable``), or the database cannot be
    reached or brought up to date. The message never shows the URL's password."""

    def __init__(self, message: str, *, unusable: bool = False) -> None:
        super().__init__(message)
        self.unusable = unusable


class StandardInvalid(ComplaintKitError):
    """A province standard (or one of its files) failed validation."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid standard {source}:\n" + "\n".join(f"  - {p}" for p in problems))


class PluginError(ComplaintKitError):
    """A plugin failed; names the plugin and the hook."""

    def __init__(self, plugin: str, hook: str, message: str) -> None:
        self.plugin, self.hook = plugin, hook
        super().__init__(f"plugin {plugin!r}, hook {hook}: {message}")
