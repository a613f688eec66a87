"""The defaults every kit has; registered last and ``trylast``, so any plugin overrides them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from complaintkit.hooks.markers import hookimpl
from complaintkit.ports.boss import (
    Bill,
    CallRecord,
    CustomerProfile,
    MarketingActivity,
    PackageUsage,
    Payment,
    Subscription,
)


class NoBoss:
    """No BOSS/CRM connected: customers keep the facts given at acceptance."""

    def customer_profile(self, msisdn: str) -> CustomerProfile | None:
        return None

    def subscriptions(self, msisdn: str) -> Sequence[Subscription]:
        return ()

    def monthly_bill(self, msisdn: str, month: str) -> Bill | None:
        return None

    def unsubscribe_monternet(self, msisdn: str, code: str) -> bool:
        return False

    def refund(self, msisdn: str, amount_fen: int, reason: str) -> str:
        raise RuntimeError("no BOSS/CRM plugin is installed: refunds are not possible")

    def package_usage(self, msisdn: str, month: str) -> PackageUsage | None:
        return None

    def marketing_activities(self, msisdn: str) -> Sequence[MarketingActivity]:
        return ()

    def set_monternet_info(self, msisdn: str, enabled: bool) -> bool:
        return False

    def payment_records(self, msisdn: str) -> Sequence[Payment]:
        return ()

    def change_package(self, msisdn: str, package: str) -> str:
        raise RuntimeError("no BOSS/CRM plugin is installed: packages cannot be changed")

    def group_services(self, msisdn: str) -> Sequence[Subscription]:
        return ()

    def unsubscribe_group_service(self, msisdn: str, code: str) -> bool:
        return False

    def itemised_records(self, msisdn: str, month: str) -> Sequence[CallRecord]:
        return ()

    def scripted_answer(self, topic: str, msisdn: str) -> str | None:
        return None


@hookimpl(trylast=True)
def complaintkit_boss_client(settings: Mapping[str, Any]) -> Any:
    return NoBoss()
