"""The operator's BOSS/CRM as the kit sees it (SPEC M1)."""

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
