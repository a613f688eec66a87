"""Fakes of every adapter: real implementations of the seams, in memory, strict and recording.

Strict means a fake refuses what the real system would refuse (a malformed number, an unknown
customer) and raises :class:`UnexpectedCall` for what a test did not set up, instead of
answering something plausible.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from complaintkit.core.sms_text import MAX_PARTS, sms_parts
from complaintkit.ports.boss import Bill, CustomerProfile, Subscription
from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    EmailRequest,
    InboundSink,
    InboundSms,
    ResultCallback,
    SendOutcome,
    SendResult,
    SmsRequest,
)

_MSISDN = re.compile(r"^1[3-9]\d{9}$")


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
    ``reply(sender, text)`` is a customer's SMS; ``receipts=True`` produces a delivery receipt
    for each accepted message. A destination that is not a mobile number, and a text of more
    than 255 parts, are refused (``FAILED``), as a real SMSC or the SMPP adapter does.
    ``parts`` is counted by the same rule as the SMPP adapter
    (:func:`complaintkit.core.sms_text.sms_parts`).

    Inbound goes where a real transport sends it: to the worker's ``drain_inbound()``, or, once
    ``set_inbound_sink(sink)`` was called, straight to ``sink.accept`` (as the SMPP adapter does
    before it answers the SMSC). When the sink raises, the item is kept, as an SMSC keeps a
    deliver_sm answered with a temporary error, and handed again by ``redeliver()``;
    ``refused_inbound`` lists what is waiting.

    ``send_many(requests, on_result=callback)`` calls ``callback`` with each result as it is
    decided, once per request, before returning the whole list.
    """

    def __init__(self, *, receipts: bool = False) -> None:
        self.sent: list[SentSms] = []
        self.attempts: list[SmsRequest] = []
        self.receipts = receipts
        #: inbound the sink refused, waiting for ``redeliver()``
        self.refused_inbound: list[DeliveryReceipt | InboundSms] = []
        self._inbound: list[DeliveryReceipt | InboundSms] = []
        self._sink: InboundSink | None = None
        self._failures: list[SendOutcome] = []
        self._ids = itertools.count(1)
        self.closed = False

    def fail_next(self, count: int = 1, outcome: SendOutcome = SendOutcome.RETRY) -> None:
        self._failures.extend([outcome] * count)

    def reply(self, sender: str, text: str, *, to: str = "10086", at: datetime | None = None) -> None:
        """A customer's SMS: queued for ``drain_inbound``, or handed to the sink now."""
        self._arrive(InboundSms(sender, to, text, at))

    def set_inbound_sink(self, sink: InboundSink) -> None:
        """From now on hand inbound to ``sink`` (what was queued before goes to it first)."""
        self._sink = sink
        queued, self._inbound = self._inbound, []
        for item in queued:
            self._arrive(item)

    def redeliver(self) -> int:
        """Offer the sink again what it refused (an SMSC re-delivering); return how many it took."""
        waiting, self.refused_inbound = self.refused_inbound, []
        for item in waiting:
            self._arrive(item)
        return len(waiting) - len(self.refused_inbound)

    def _arrive(self, item: DeliveryReceipt | InboundSms) -> None:
        if self._sink is None:
            self._inbound.append(item)
            return
        try:
            self._sink.accept(item)
        except Exception:  # noqa: BLE001 - not stored: the SMSC would deliver it again
            self.refused_inbound.append(item)

    def send_many(self, requests: Sequence[SmsRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        if self.closed:
            raise UnexpectedCall("FakeSms used after close()")
        results = []
        for r in requests:
            result = self._send_one(r)
            results.append(result)
            if on_result is not None:
                on_result(result)
            if self.receipts and result.outcome is SendOutcome.ACCEPTED:
                self._arrive(DeliveryReceipt(result.remote_ids[0], DeliveryState.DELIVERED))
        return results

    def _send_one(self, r: SmsRequest) -> SendResult:
        self.attempts.append(r)
        if self._failures:
            outcome = self._failures.pop(0)
            return SendResult(r.key, outcome, detail=f"scripted {outcome.value}")
        if not _MSISDN.match(r.to):
            return SendResult(r.key, SendOutcome.FAILED, detail="ESME_RINVDSTADR (0x0B)")
        parts = sms_parts(r.text)
        if parts > MAX_PARTS:
            return SendResult(r.key, SendOutcome.FAILED, parts=parts,
                              detail=f"{parts} parts, at most {MAX_PARTS} allowed")
        remote = f"{next(self._ids):x}"
        self.sent.append(SentSms(r.key, r.to, r.sender, r.text, remote))
        return SendResult(r.key, SendOutcome.ACCEPTED, (remote,), parts=parts)

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

    def send_many(self, requests: Sequence[EmailRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        results = []
        for r in requests:
            self.sent.append(r)
            results.append(SendResult(r.key, SendOutcome.ACCEPTED))
            if on_result is not None:
                on_result(results[-1])
        return results

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
            raise UnexpectedCall(f"FakeBoss has no customer {msisdn[:3]}****{msisdn[-4:]}; add_customer() first")
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
