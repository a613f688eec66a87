"""The operator's BOSS/CRM as the kit sees it (SPEC M1, H1, H2).

:class:`BossCrm` is what acceptance needs (the profile, subscriptions, bills, a Monternet
unsubscribe, a refund). :class:`BossServices` adds the rest of what an agent does in the BOSS
on a complaint (SPEC H1, H2) — the kit calls each through ``kit.parts.boss``, permission-checked
and recorded on the ticket. A client without one of them is refused when that action is asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs


@attrs.define(frozen=True)
class CustomerProfile:
    msisdn: str
    name: str = ""
    value_tier: str = "medium"
    star_level: int = 0
    city: str = ""


@attrs.define(frozen=True)
class Subscription:
    code: str
    name: str
    monternet: bool = False
    #: a group (集团) service, unsubscribed through the group-service action
    group: bool = False


@attrs.define(frozen=True)
class PackageUsage:
    """How much of the package's allowance a month used."""

    month: str
    package: str
    voice_minutes: tuple[int, int] = (0, 0)
    data_mb: tuple[int, int] = (0, 0)
    sms: tuple[int, int] = (0, 0)


@attrs.define(frozen=True)
class MarketingActivity:
    code: str
    name: str
    started: str = ""
    ends: str = ""


@attrs.define(frozen=True)
class Payment:
    at: str
    amount_fen: int
    channel: str = ""


@attrs.define(frozen=True)
class CallRecord:
    """One line of the itemised records (详单)."""

    at: str
    kind: str
    other_party: str
    seconds: int = 0
    fee_fen: int = 0


@attrs.define(frozen=True)
class Bill:
    month: str
    total_fen: int
    items: tuple[tuple[str, int], ...] = ()


@runtime_checkable
class BossCrm(Protocol):
    """What a BOSS/CRM client provides; amounts are in fen (分)."""

    def customer_profile(self, msisdn: str) -> CustomerProfile | None: ...

    def subscriptions(self, msisdn: str) -> Sequence[Subscription]: ...

    def monthly_bill(self, msisdn: str, month: str) -> Bill | None: ...

    def unsubscribe_monternet(self, msisdn: str, code: str) -> bool: ...

    def refund(self, msisdn: str, amount_fen: int, reason: str) -> str:
        """Refund and return the BOSS's reference for it."""
        ...


@runtime_checkable
class BossServices(BossCrm, Protocol):
    """Everything an agent does in the BOSS/CRM on a complaint (SPEC H1, H2); amounts in fen."""

    def package_usage(self, msisdn: str, month: str) -> PackageUsage | None: ...

    def marketing_activities(self, msisdn: str) -> Sequence[MarketingActivity]: ...

    def set_monternet_info(self, msisdn: str, enabled: bool) -> bool:
        """The Monternet information switch; True when it changed."""
        ...

    def payment_records(self, msisdn: str) -> Sequence[Payment]: ...

    def change_package(self, msisdn: str, package: str) -> str:
        """Change the package; the BOSS's reference for the order."""
        ...

    def group_services(self, msisdn: str) -> Sequence[Subscription]: ...

    def unsubscribe_group_service(self, msisdn: str, code: str) -> bool: ...

    def itemised_records(self, msisdn: str, month: str) -> Sequence[CallRecord]: ...

    def scripted_answer(self, topic: str, msisdn: str) -> str | None:
        """The scripted answer (口径) in force for the customer: ``outage``, ``coverage`` or
        ``system_change``; None when there is none."""
        ...
