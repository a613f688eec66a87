"""Delivery of the outbox: the rows the rules wrote are handed to the transports, and back.

The worker claims due messages (leased, so a dead worker's claim expires), hands each channel's
batch to its transport, and records the outcome: ``completed`` with the far end's ids, a retry
with exponential back-off, or ``failed`` for good. Inbound traffic the transports collected —
delivery receipts and customer replies — goes back into the kit as commands.

A message is sent at most once per claim; it is sent twice only if the transport accepted it and
the worker died before recording that — the rare, measured exception the idempotency key lets a
transport suppress.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit.core.model import MessageChannel
from complaintkit.logging import get_logger
from complaintkit.ports.transports import (
    DeliveryReceipt,
    EmailRequest,
    InboundSms,
    SendOutcome,
    SendResult,
    SmsRequest,
)

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit

log = get_logger(__name__)


@attrs.define(frozen=True)
class RetryPolicy:
    first: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    longest: timedelta = timedelta(hours=1)
    attempts: int = 8

    def delay(self, attempts_so_far: int) -> timedelta:
        seconds = self.first.total_seconds() * self.factor ** attempts_so_far
        return timedelta(seconds=min(seconds, self.longest.total_seconds()))


class Outbox:
    """Delivers one kit's outbox through the transports the plugins provide."""

    def __init__(self, kit: ComplaintKit, *, sms: Any = None, email: Any = None,
                 retry: RetryPolicy | None = None, batch: int = 100, lease: timedelta = timedelta(minutes=5)) -> None:
        self.kit = kit
        self.transports: dict[MessageChannel, Any] = {}
        if sms is not None:
            self.transports[MessageChannel.SMS] = sms
        if email is not None:
            self.transports[MessageChannel.EMAIL] = email
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self.lease = lease

    @classmethod
    def from_plugins(cls, kit: ComplaintKit, **options: Any) -> Outbox:
        settings: Mapping[str, Any] = kit.settings
        sms = kit.plugins.call_first("complaintkit_sms_transport", settings=settings.get("sms", {}))
        email = kit.plugins.call_first("complaintkit_email_transport", settings=settings.get("email", {}))
        return cls(kit, sms=sms, email=email, **options)

    def deliver(self) -> int:
        """Send what is due now on every channel that has a transport; return how many were handled."""
        handled = 0
        for channel, transport in self.transports.items():
            while True:
                now = self.kit.clock.now()
                with self.kit.store.transaction() as tx:
                    claimed = tx.claim_messages(channel.value, now, self.batch, self.lease)
                if not claimed:
                    break
                results = self._send(channel, transport, claimed)
                now = self.kit.clock.now()
                with self.kit.store.transaction() as tx:
                    for c in claimed:
                        result = results.get(c.message.key)
                        if result is None:
                            result = SendResult(c.message.key, SendOutcome.RETRY, detail="no answer from the transport")
                        if result.outcome is SendOutcome.ACCEPTED:
                            tx.record_sent(c.id, now, result.remote_ids, result.parts)
                        elif result.outcome is SendOutcome.FAILED or c.attempts + 1 >= self.retry.attempts:
                            tx.record_failed(c.id, result.detail or "gave up")
                            log.warning("message failed", key=c.message.key, detail=result.detail)
                        else:
                            tx.record_retry(c.id, now + self.retry.delay(c.attempts), result.detail)
                handled += len(claimed)
                if len(claimed) < self.batch:
                    break
        return handled

    def _send(self, channel: MessageChannel, transport: Any, claimed: list[Any]) -> dict[str, SendResult]:
        if channel is MessageChannel.SMS:
            requests: list[Any] = [SmsRequest(c.message.key, c.message.to, c.message.sender or
                                              self.kit.standard.settings.service_port, c.message.text)
                                   for c in claimed]
        else:
            requests = [EmailRequest(c.message.key, (c.message.to,), c.message.subject, c.message.text)
                        for c in claimed]
        try:
            results = transport.send_many(requests)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the batch is retried, never lost
            log.error("transport failed", channel=channel.value, error=str(exc))
            return {r.key: SendResult(r.key, SendOutcome.RETRY, detail=f"{type(exc).__name__}: {exc}") for r in requests}
        return {r.key: r for r in results}

    def receive(self) -> int:
        """Route what the transports received back into the kit."""
        count = 0
        for transport in self.transports.values():
            drain = getattr(transport, "drain_inbound", None)
            if drain is None:
                continue
            for item in drain():
                count += 1
                try:
                    if isinstance(item, DeliveryReceipt):
                        self.kit.receive_receipt(item)
                    elif isinstance(item, InboundSms):
                        self.kit.receive_sms(item)
                except Exception:  # one bad inbound item must not stop the others
                    log.exception("inbound item failed", kind=type(item).__name__)
        return count

    def close(self) -> None:
        for transport in self.transports.values():
            try:
                transport.close()
            except Exception:
                log.exception("closing a transport failed")
