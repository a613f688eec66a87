"""The BOSS/CRM actions of SPEC H1 and H2 through the kit: ``kit.parts.boss``.

Each method takes the ticket the agent works on and the agent, records the action on the ticket
and calls the operator's BOSS/CRM (the ``complaintkit_boss_client`` hook) with the ticket's
number — after the command runner checked the agent's permission (SPEC H3). Itemised records and
refunds need the back office's permissions; a refund *promise* is the front desk's, within its
amount authorisation (``refund_limit_fen`` in roles.toml).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput, PluginError
from complaintkit.core.model import Actor, Ticket
from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.boss import commands, rules
from complaintkit.ports.boss import (
    Bill,
    CallRecord,
    CustomerProfile,
    MarketingActivity,
    PackageUsage,
    Payment,
    Subscription,
)

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit


def _month(value: Any) -> str:
    text = inputs.line("month", value, limit=7, required=True)
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise InvalidInput("month", f"{text!r} is not a month like '2026-03'")
    return text


def _code(field: str, value: Any) -> str:
    return inputs.line(field, value, limit="code", required=True)


class BossApi:
    """``kit.parts.boss``: every H1/H2 action on a ticket's customer."""

    def __init__(self, kit: ComplaintKit) -> None:
        self.kit = kit

    def _act(self, ticket_id: str, actor: Actor, action: str, method: str, args: dict[str, Any],
             *call_args: Any, amount_fen: int | None = None) -> Any:
        ticket_id = inputs.line("ticket_id", ticket_id, limit="ticket_id", required=True)
        if not callable(getattr(self.kit.boss, method, None)):
            raise PluginError("boss", "complaintkit_boss_client",
                              f"the BOSS/CRM client {type(self.kit.boss).__name__} has no {method}()")
        return commands.act(self.kit, ticket_id, actor, action, args,
                            lambda boss, msisdn: getattr(boss, method)(msisdn, *call_args), amount_fen=amount_fen)

    # -- SPEC H1: the front desk's look-ups, changes and scripted answers ----------------------------

    def basic_info(self, ticket_id: str, actor: Actor) -> CustomerProfile | None:
        return self._act(ticket_id, actor, "basic_info", "customer_profile", {})  # type: ignore[no-any-return]

    def subscriptions(self, ticket_id: str, actor: Actor) -> Sequence[Subscription]:
        return self._act(ticket_id, actor, "subscriptions", "subscriptions", {})  # type: ignore[no-any-return]

    def monthly_bill(self, ticket_id: str, actor: Actor, month: str) -> Bill | None:
        month = _month(month)
        return self._act(ticket_id, actor, "monthly_bill", "monthly_bill", {"month": month}, month)  # type: ignore[no-any-return]

    def package_usage(self, ticket_id: str, actor: Actor, month: str) -> PackageUsage | None:
        month = _month(month)
        return self._act(ticket_id, actor, "package_usage", "package_usage", {"month": month}, month)  # type: ignore[no-any-return]

    def marketing_activities(self, ticket_id: str, actor: Actor) -> Sequence[MarketingActivity]:
        return self._act(ticket_id, actor, "marketing_activities", "marketing_activities", {})  # type: ignore[no-any-return]

    def monternet_query(self, ticket_id: str, actor: Actor) -> list[Subscription]:
        found = self._act(ticket_id, actor, "monternet_query", "subscriptions", {})
        return [s for s in found if s.monternet]

    def monternet_unsubscribe(self, ticket_id: str, actor: Actor, code: str) -> bool:
        code = _code("code", code)
        return self._act(ticket_id, actor, "monternet_unsubscribe", "unsubscribe_monternet",  # type: ignore[no-any-return]
                         {"code": code}, code)

    def monternet_info_switch(self, ticket_id: str, actor: Actor, enabled: bool) -> bool:
        enabled = inputs.flag("enabled", enabled)
        return self._act(ticket_id, actor, "monternet_info_switch", "set_monternet_info",  # type: ignore[no-any-return]
                         {"enabled": enabled}, enabled)

    def payment_records(self, ticket_id: str, actor: Actor) -> Sequence[Payment]:
        return self._act(ticket_id, actor, "payment_records", "payment_records", {})  # type: ignore[no-any-return]

    def change_package(self, ticket_id: str, actor: Actor, package: str) -> str:
        package = _code("package", package)
        return self._act(ticket_id, actor, "change_package", "change_package", {"package": package}, package)  # type: ignore[no-any-return]

    def group_services(self, ticket_id: str, actor: Actor) -> Sequence[Subscription]:
        return self._act(ticket_id, actor, "group_services", "group_services", {})  # type: ignore[no-any-return]

    def group_service_unsubscribe(self, ticket_id: str, actor: Actor, code: str) -> bool:
        code = _code("code", code)
        return self._act(ticket_id, actor, "group_service_unsubscribe", "unsubscribe_group_service",  # type: ignore[no-any-return]
                         {"code": code}, code)

    def script_outage(self, ticket_id: str, actor: Actor) -> str | None:
        return self._script(ticket_id, actor, "outage")

    def script_coverage(self, ticket_id: str, actor: Actor) -> str | None:
        return self._script(ticket_id, actor, "coverage")

    def script_system_change(self, ticket_id: str, actor: Actor) -> str | None:
        return self._script(ticket_id, actor, "system_change")

    def _script(self, ticket_id: str, actor: Actor, topic: str) -> str | None:
        if not callable(getattr(self.kit.boss, "scripted_answer", None)):
            raise PluginError("boss", "complaintkit_boss_client",
                              f"the BOSS/CRM client {type(self.kit.boss).__name__} has no scripted_answer()")
        return commands.act(self.kit, inputs.line("ticket_id", ticket_id, limit="ticket_id", required=True), actor,  # type: ignore[no-any-return]
                            f"script_{topic}", {}, lambda boss, msisdn: boss.scripted_answer(topic, msisdn))

    # -- SPEC H2: the back office's, and the front desk's promise ------------------------------------

    def itemised_records(self, ticket_id: str, actor: Actor, month: str) -> Sequence[CallRecord]:
        month = _month(month)
        return self._act(ticket_id, actor, "itemised_records", "itemised_records", {"month": month}, month)  # type: ignore[no-any-return]

    def refund(self, ticket_id: str, actor: Actor, amount: int | str | Decimal, *, reason: str) -> str:
        """Refund in the BOSS (back office, within its authorisation): ``amount`` in fen (int) or
        yuan (text, ``"50.01"``). Returns the BOSS's reference."""
        amount_fen = rules.fen(amount)
        reason = inputs.line("reason", reason, limit="short", required=True)
        return self._act(ticket_id, actor, "refund", "refund", {"amount_fen": amount_fen, "reason": reason},  # type: ignore[no-any-return]
                         amount_fen, reason, amount_fen=amount_fen)

    def refund_promise(self, ticket_id: str, actor: Actor, amount: int | str | Decimal, *, reason: str) -> Ticket:
        """Promise a refund on the ticket (the front desk's 承诺性受理), within the role's amount
        authorisation: 50.00 yuan passes a 50-yuan limit, 50.01 is refused."""
        amount_fen = rules.fen(amount)
        reason = inputs.line("reason", reason, limit="short", required=True)
        return self.kit.run(commands.refund_promise(inputs.line("ticket_id", ticket_id, limit="ticket_id",  # type: ignore[no-any-return]
                                                                required=True), actor, amount_fen, reason))


PART = Part("boss", api=BossApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]


__all__ = ["BossApi"]
