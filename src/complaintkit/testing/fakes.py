"""Fakes of every adapter: real implementations of the seams, in memory, strict and recording.

Strict means a fake refuses what the real system would refuse (a malformed number, an unknown
department code, an unknown customer) and raises :class:`UnexpectedCall` for what a test did not
set up, instead of answering something plausible. The other way round, what a test set up and
the code under test never used (a scripted failure, a customer's reply, a customer) is reported
by ``unused()`` and ``assert_all_used()``, which the pytest fixtures call at teardown — like
respx's ``assert_all_called``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from complaintkit.core.masking import mask_text, msisdn_digits
from complaintkit.core.sms_text import MAX_PARTS, sms_parts
from complaintkit.ports.boss import (
    Bill,
    CallRecord,
    CustomerProfile,
    MarketingActivity,
    PackageUsage,
    Payment,
    Subscription,
)
from complaintkit.ports.recipients import UnresolvedRecipients, resolve_recipients
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


class UnexpectedCall(AssertionError):
    """A fake was asked something the test did not set up."""


class UnusedSetUp(AssertionError):
    """A test set something up on a fake that the code under test never used."""


class _ChecksSetUp:
    """What the fakes share: a list of what was set up and never used, and the check on it."""

    #: the pytest fixtures call :meth:`assert_all_used` at teardown unless this is ``False``
    check_at_teardown: bool = True

    def unused(self) -> list[str]:
        """What the test set up that was never used, one description each (empty: all used)."""
        return []

    def assert_all_used(self) -> None:
        """Raise :class:`UnusedSetUp` naming everything set up and never used."""
        problems = self.unused()
        if problems:
            raise UnusedSetUp(f"{type(self).__name__}: set up but never used: " + "; ".join(problems))


def _unconsumed(failures: Sequence[SendOutcome]) -> str:
    outcomes = ", ".join(o.name for o in failures)
    return f"{len(failures)} scripted failure(s) from fail_next() that no message consumed ({outcomes})"


@attrs.define
class SentSms:
    key: str
    to: str
    sender: str
    text: str
    remote_id: str


class FakeSms(_ChecksSetUp):
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

    :meth:`unused` lists scripted failures no message consumed and replies no worker collected.
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
        """Answer the next ``count`` requests with ``outcome`` (``RETRY`` or ``FAILED``)."""
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

    def unused(self) -> list[str]:
        problems = []
        if self._failures:
            problems.append(_unconsumed(self._failures))
        replies = [m for m in self._inbound if isinstance(m, InboundSms)]
        if replies:
            senders = ", ".join(mask_text(m.sender) for m in replies)
            problems.append(f"{len(replies)} customer reply(ies) from reply() that no worker "
                            f"collected (from {senders})")
        return problems

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
        if msisdn_digits(r.to) != r.to:  # an SMSC takes the 11 digits, nothing else
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


@attrs.define
class SentMail:
    key: str
    #: the department codes and addresses as the kit gave them
    to: tuple[str, ...]
    subject: str
    body: str
    #: where it went: ``to`` resolved as the SMTP adapter resolves it
    addresses: tuple[str, ...]


class FakeMail(_ChecksSetUp):
    """An SMTP server behind the SMTP adapter, in memory; records every message it accepts.

    ``recipients`` maps department codes to addresses like the adapter's ``[email.recipients]``
    (a string or a list each) and is resolved by the same rule
    (:func:`~complaintkit.ports.recipients.resolve_recipients`): a target with ``@`` is an
    address, a department code without addresses makes that message ``FAILED``, as the adapter
    answers it. ``fail_next(n, outcome)`` makes the next ``n`` messages come back ``RETRY`` or
    ``FAILED``; :meth:`unused` lists those that no message consumed.
    """

    def __init__(self, recipients: Mapping[str, str | Sequence[str]] | None = None) -> None:
        self.recipients: dict[str, tuple[str, ...]] = {
            code: (addresses,) if isinstance(addresses, str) else tuple(addresses)
            for code, addresses in (recipients or {}).items()
        }
        self.sent: list[SentMail] = []
        self.attempts: list[EmailRequest] = []
        self._failures: list[SendOutcome] = []
        self.closed = False

    @classmethod
    def for_departments(cls, codes: Iterable[str]) -> FakeMail:
        """A mail server where each department code has one address, ``<code>@departments.invalid``.

        What a deployment that configured every department of its standard looks like.
        """
        return cls({code: f"{code}@departments.invalid" for code in codes})

    def fail_next(self, count: int = 1, outcome: SendOutcome = SendOutcome.RETRY) -> None:
        """Answer the next ``count`` messages with ``outcome`` (``RETRY`` or ``FAILED``)."""
        self._failures.extend([outcome] * count)

    def send_many(self, requests: Sequence[EmailRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        if self.closed:
            raise UnexpectedCall("FakeMail used after close()")
        results = []
        for r in requests:
            self.attempts.append(r)
            try:
                # checked before the scripted failure, as the adapter checks before connecting
                addresses = resolve_recipients(r.to, self.recipients)
            except UnresolvedRecipients as exc:
                hint = " (FakeMail(recipients=...) or @pytest.mark.complaintkit(mail_recipients=...))"
                results.append(SendResult(r.key, SendOutcome.FAILED,
                                          detail=f"{exc}{hint if exc.unknown else ''}"))
                _tell(on_result, results[-1])
                continue
            if self._failures:
                outcome = self._failures.pop(0)
                results.append(SendResult(r.key, outcome, detail=f"scripted {outcome.value}"))
                _tell(on_result, results[-1])
                continue
            self.sent.append(SentMail(r.key, tuple(r.to), r.subject, r.body, addresses))
            results.append(SendResult(r.key, SendOutcome.ACCEPTED))
            _tell(on_result, results[-1])
        return results

    def drain_inbound(self) -> list[Any]:
        """E-mail has no inbound traffic for the kit."""
        return []

    def close(self) -> None:
        self.closed = True

    def to(self, recipient: str) -> list[SentMail]:
        """Everything sent to a department code or an address, in order."""
        wanted = recipient.strip().lower()
        return [m for m in self.sent
                if wanted in (t.strip().lower() for t in m.to) or wanted in (a.lower() for a in m.addresses)]

    def unused(self) -> list[str]:
        return [_unconsumed(self._failures)] if self._failures else []


class FakeOa:
    """The OA platform in memory: publishing returns a document id; everything is recorded."""

    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, warning: Any) -> str:
        self.published.append(warning)
        return f"OA-{len(self.published):06d}"


class FakeBoss(_ChecksSetUp):
    """BOSS/CRM in memory, strict: it knows only the numbers a test told it about.

    ``add_customer`` adds a customer; ``add_non_customer`` a number the BOSS answers ``None`` and
    no subscriptions for (another operator's, a closed account); ``subscriptions_of`` and
    ``bills`` (keyed by ``(msisdn, month)``) hold what it knows of them. Any other number raises
    :class:`UnexpectedCall`, unless ``lenient``: then it is a non-customer.

    :meth:`unused` lists the customers, bills and subscriptions nothing ever asked about.

    It is stateful, like the BOSS: an unsubscribe removes the subscription, a package change
    changes ``packages``, the Monternet switch flips ``monternet_info``, and a refund is a credit
    line on the customer's latest bill (its total goes down).
    """

    def __init__(self, *, lenient: bool = False) -> None:
        self.customers: dict[str, CustomerProfile] = {}
        self.non_customers: set[str] = set()
        self.subscriptions_of: dict[str, list[Subscription]] = {}
        self.bills: dict[tuple[str, str], Bill] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.refunds: list[tuple[str, int, str]] = []
        self.lenient = lenient
        self.usage: dict[tuple[str, str], PackageUsage] = {}
        self.activities: dict[str, list[MarketingActivity]] = {}
        self.payments: dict[str, list[Payment]] = {}
        self.itemised: dict[tuple[str, str], list[CallRecord]] = {}
        #: the customer's package code; a package change sets it
        self.packages: dict[str, str] = {}
        #: the Monternet information switch per customer (on unless switched off)
        self.monternet_info: dict[str, bool] = {}
        #: scripted answers by topic (``outage``, ``coverage``, ``system_change``)
        self.scripts: dict[str, str] = {}
        self.orders: list[tuple[str, str]] = []

    def add_customer(self, msisdn: str, *, name: str = "", value_tier: str = "medium", star_level: int = 0,
                     city: str = "") -> CustomerProfile:
        """Make ``msisdn`` a customer with these facts; returns the profile the BOSS will answer."""
        profile = CustomerProfile(msisdn, name, value_tier, star_level, city)
        self.customers[msisdn] = profile
        return profile

    def add_non_customer(self, msisdn: str) -> None:
        """Make the BOSS answer ``msisdn`` with no profile, as it does for another operator's number."""
        self.non_customers.add(msisdn)

    def _known(self, msisdn: str) -> CustomerProfile | None:
        profile = self.customers.get(msisdn)
        if profile is None and not self.lenient and msisdn not in self.non_customers:
            raise UnexpectedCall(
                f"FakeBoss has no customer {mask_text(msisdn)}; add_customer() or add_non_customer() "
                "first, or use @pytest.mark.complaintkit(boss=\"lenient\")")
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
        self._known(msisdn)
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
        reference = f"RF{len(self.refunds):08d}"
        months = sorted(month for m, month in self.bills if m == msisdn)
        if months:
            # the refund is a credit on the latest bill, as the BOSS shows it
            bill = self.bills[(msisdn, months[-1])]
            self.bills[(msisdn, months[-1])] = attrs.evolve(
                bill, total_fen=bill.total_fen - amount_fen, items=(*bill.items, (f"退费 {reference}", -amount_fen)))
        return reference

    def package_usage(self, msisdn: str, month: str) -> PackageUsage | None:
        self.calls.append(("package_usage", (msisdn, month)))
        self._known(msisdn)
        return self.usage.get((msisdn, month))

    def marketing_activities(self, msisdn: str) -> Sequence[MarketingActivity]:
        self.calls.append(("marketing_activities", (msisdn,)))
        self._known(msisdn)
        return tuple(self.activities.get(msisdn, ()))

    def set_monternet_info(self, msisdn: str, enabled: bool) -> bool:
        self.calls.append(("set_monternet_info", (msisdn, enabled)))
        self._known(msisdn)
        before = self.monternet_info.get(msisdn, True)
        self.monternet_info[msisdn] = enabled
        return before != enabled

    def payment_records(self, msisdn: str) -> Sequence[Payment]:
        self.calls.append(("payment_records", (msisdn,)))
        self._known(msisdn)
        return tuple(self.payments.get(msisdn, ()))

    def change_package(self, msisdn: str, package: str) -> str:
        self.calls.append(("change_package", (msisdn, package)))
        self._known(msisdn)
        if not package:
            raise ValueError("no package code")
        self.packages[msisdn] = package
        self.orders.append((msisdn, package))
        return f"PC{len(self.orders):08d}"

    def group_services(self, msisdn: str) -> Sequence[Subscription]:
        self.calls.append(("group_services", (msisdn,)))
        self._known(msisdn)
        return tuple(s for s in self.subscriptions_of.get(msisdn, ()) if s.group)

    def unsubscribe_group_service(self, msisdn: str, code: str) -> bool:
        self.calls.append(("unsubscribe_group_service", (msisdn, code)))
        self._known(msisdn)
        subs = self.subscriptions_of.get(msisdn, [])
        for s in subs:
            if s.code == code and s.group:
                subs.remove(s)
                return True
        return False

    def itemised_records(self, msisdn: str, month: str) -> Sequence[CallRecord]:
        self.calls.append(("itemised_records", (msisdn, month)))
        self._known(msisdn)
        return tuple(self.itemised.get((msisdn, month), ()))

    def scripted_answer(self, topic: str, msisdn: str) -> str | None:
        self.calls.append(("scripted_answer", (topic, msisdn)))
        self._known(msisdn)
        return self.scripts.get(topic)

    def unused(self) -> list[str]:
        asked = {args[1] if name == "scripted_answer" else args[0] for name, args in self.calls}
        subscriptions_asked = {args[0] for name, args in self.calls
                               if name in ("subscriptions", "unsubscribe_monternet", "group_services",
                                           "unsubscribe_group_service")}
        bills_asked = {args[:2] for name, args in self.calls if name == "monthly_bill"}
        problems = []
        customers = sorted(m for m in set(self.customers) | self.non_customers if m not in asked)
        if customers:
            problems.append("customer(s) nothing asked about: " + ", ".join(mask_text(m) for m in customers))
        subscriptions = [m for m, subs in self.subscriptions_of.items() if subs and m not in subscriptions_asked]
        if subscriptions:
            problems.append("subscriptions nothing asked for, of " + ", ".join(mask_text(m) for m in subscriptions))
        bills = [key for key in self.bills if key not in bills_asked]
        if bills:
            problems.append("bill(s) nothing asked for: " + ", ".join(f"{mask_text(m)} {month}" for m, month in bills))
        return problems


def _tell(on_result: ResultCallback | None, result: SendResult) -> None:
    if on_result is not None:
        on_result(result)
