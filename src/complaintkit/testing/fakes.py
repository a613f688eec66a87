"""Fakes of every adapter: real implementations of the seams, in memory, strict and recording.

Strict means a fake refuses what the real system would refuse (a malformed number, an unknown
customer) and raises :class:`UnexpectedCall` for what a test did not set up, instead of
answering something plausible.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from complaintkit.core.masking import mask_number, msisdn_digits
from complaintkit.ports.boss import Bill, CustomerProfile, Subscription
from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    EmailRequest,
    InboundSms,
    SendOutcome,
    SendResult,
    SmsRequest,
)


class UnexpectedCall(AssertionError):
    """A fake was asked something the test did not set up."""


@attrs.define
class SentSms:
    key: str
    to: str
    sender: str
    text: str
    remote_id: str


class FakeSms:
    """An SMS gateway in memory: records what was sent, answers like an SMSC, injects replies.

    ``fail_next(n, outcome)`` makes the next ``n`` messages come back ``RETRY`` or ``FAILED``;
    ``reply(sender, text)`` queues a customer's SMS for the worker to collect; ``receipts=True``
    queues a delivery receipt for each accepted message. A destination that is not a mobile
    number is refused (``FAILED``), as a real SMSC does.
    """

    def __init__(self, *, receipts: bool = False) -> None:
        self.sent: list[SentSms] = []
        self.attempts: list[SmsRequest] = []
        self.receipts = receipts
        self._inbound: list[DeliveryReceipt | InboundSms] = []
        self._failures: list[SendOutcome] = []
        self._ids = itertools.count(1)
        self.closed = False

    def fail_next(self, count: int = 1, outcome: SendOutcome = SendOutcome.RETRY) -> None:
        self._failures.extend([outcome] * count)

    def reply(self, sender: str, text: str, *, to: str = "10086", at: datetime | None = None) -> None:
        self._inbound.append(InboundSms(sender, to, text, at))

    def send_many(self, requests: Sequence[SmsRequest]) -> list[SendResult]:
        if self.closed:
            raise UnexpectedCall("FakeSms used after close()")
        results = []
        for r in requests:
            self.attempts.append(r)
            if self._failures:
                outcome = self._failures.pop(0)
                results.append(SendResult(r.key, outcome, detail=f"scripted {outcome.value}"))
                continue
            if msisdn_digits(r.to) != r.to:  # an SMSC takes the 11 digits, nothing else
                results.append(SendResult(r.key, SendOutcome.FAILED, detail="ESME_RINVDSTADR (0x0B)"))
                continue
            remote = f"{next(self._ids):x}"
            self.sent.append(SentSms(r.key, r.to, r.sender, r.text, remote))
            if self.receipts:
                self._inbound.append(DeliveryReceipt(remote, DeliveryState.DELIVERED))
            results.append(SendResult(r.key, SendOutcome.ACCEPTED, (remote,), parts=1 + len(r.text) // 68))
        return results

    def drain_inbound(self) -> list[DeliveryReceipt | InboundSms]:
        out, self._inbound = self._inbound, []
        return out

    def close(self) -> None:
        self.closed = True

    def to(self, msisdn: str) -> list[SentSms]:
        """Everything sent to one number, in order."""
        return [s for s in self.sent if s.to == msisdn]


class FakeMail:
    """An SMTP server in memory; records every message."""

    def __init__(self) -> None:
        self.sent: list[EmailRequest] = []

    def send_many(self, requests: Sequence[EmailRequest]) -> list[SendResult]:
        self.sent.extend(requests)
        return [SendResult(r.key, SendOutcome.ACCEPTED) for r in requests]

    def close(self) -> None:
        pass


class FakeOa:
    """The OA platform in memory: publishing returns a document id; everything is recorded."""

    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, warning: Any) -> str:
        self.published.append(warning)
        return f"OA-{len(self.published):06d}"


class FakeBoss:
    """BOSS/CRM in memory. Unknown customers raise :class:`UnexpectedCall` unless ``lenient``."""

    def __init__(self, *, lenient: bool = False) -> None:
        self.customers: dict[str, CustomerProfile] = {}
        self.subscriptions_of: dict[str, list[Subscription]] = {}
        self.bills: dict[tuple[str, str], Bill] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.refunds: list[tuple[str, int, str]] = []
        self.lenient = lenient

    def add_customer(self, msisdn: str, *, name: str = "", value_tier: str = "medium", star_level: int = 0,
                     city: str = "") -> CustomerProfile:
        profile = CustomerProfile(msisdn, name, value_tier, star_level, city)
        self.customers[msisdn] = profile
        return profile

    def _known(self, msisdn: str) -> CustomerProfile | None:
        profile = self.customers.get(msisdn)
        if profile is None and not self.lenient:
            raise UnexpectedCall(f"FakeBoss has no customer {mask_number(msisdn)}; add_customer() first")
        return profile

    def customer_profile(self, msisdn: str) -> CustomerProfile | None:
        self.calls.append(("customer_profile", (msisdn,)))
        return self._known(msisdn)

    def subscriptions(self, msisdn: str) -> Sequence[Subscription]:
        self.calls.append(("subscriptions", (msisdn,)))
        self._known(msisdn)
        return tuple(self.subscriptions_of.get(msisdn, ()))

    def monthly_bill(self, msisdn: str, month: str) -> Bill | None:
        self.calls.append(("monthly_bill", (msisdn, month)))
        self._known(msisdn)
        return self.bills.get((msisdn, month))

    def unsubscribe_monternet(self, msisdn: str, code: str) -> bool:
        self.calls.append(("unsubscribe_monternet", (msisdn, code)))
        subs = self.subscriptions_of.get(msisdn, [])
        for s in subs:
            if s.code == code and s.monternet:
                subs.remove(s)
                return True
        return False

    def refund(self, msisdn: str, amount_fen: int, reason: str) -> str:
        self.calls.append(("refund", (msisdn, amount_fen, reason)))
        self._known(msisdn)
        if amount_fen <= 0:
            raise ValueError(f"refund amount must be positive, got {amount_fen} fen")
        self.refunds.append((msisdn, amount_fen, reason))
        return f"RF{len(self.refunds):08d}"
