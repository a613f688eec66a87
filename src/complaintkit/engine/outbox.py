"""Delivery of the outbox: the rows the rules wrote are handed to the transports, and back.

The worker claims due messages (leased, so a dead worker's claim expires; the live worker renews
its lease while it sends), hands each channel's batch to its transport, and records each message
*as the transport reports it* (``on_result``): ``completed`` with the far end's ids, a retry with
exponential back-off, or ``failed`` for good. A kill therefore re-sends at most what was in flight
(the transport's window), and every such re-send is counted on the row (``resends``) and logged.

Inbound traffic — delivery receipts and customer replies — goes through the durable inbox
(:mod:`complaintkit.engine.inbox`).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import MessageChannel
from complaintkit.engine.inbox import InboxSink, process
from complaintkit.engine.store import ClaimedMessage
from complaintkit.engine.store.quiet import outbox_key
from complaintkit.logging import get_logger
from complaintkit.ports.transports import (
    EmailRequest,
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
    #: the wait before trying again what the far end never saw (it was unreachable): short,
    #: since the transport knows at once whether it is back, and it costs no attempt
    unreached: timedelta = timedelta(seconds=5)

    def delay(self, attempts_so_far: int) -> timedelta:
        seconds = self.first.total_seconds() * self.factor ** attempts_so_far
        return timedelta(seconds=min(seconds, self.longest.total_seconds()))


def outbox_settings(table: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[outbox]`` settings table as :class:`Outbox` options, each checked by name:

    - ``lease`` — seconds a claim holds while its worker lives (renewed every third of it); a
      killed worker's claims are taken over by another after at most this long. 5 to 3600,
      default 30.
    - ``batch`` — messages claimed at a time per channel, 1 to 1000, default 100.
    """
    if not isinstance(table, Mapping):
        raise InvalidInput("outbox", "must be a table like [outbox]")
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key == "lease":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 5 <= value <= 3600:
                raise InvalidInput("outbox.lease", f"expected seconds between 5 and 3600, got {value!r}")
            options["lease"] = timedelta(seconds=value)
        elif key == "batch":
            options["batch"] = inputs.whole_number("outbox.batch", value, low=1, high=1000)
        else:
            raise InvalidInput(f"outbox.{key}", "is not an outbox setting (lease, batch)")
    return options


class Outbox:
    """Delivers one kit's outbox through the transports the plugins provide."""

    def __init__(self, kit: ComplaintKit, *, sms: Any = None, email: Any = None,
                 retry: RetryPolicy | None = None, batch: int = 100, lease: timedelta = timedelta(seconds=30)) -> None:
        self.kit = kit
        self.transports: dict[MessageChannel, Any] = {}
        if sms is not None:
            self.transports[MessageChannel.SMS] = sms
        if email is not None:
            self.transports[MessageChannel.EMAIL] = email
        self.retry = retry or RetryPolicy()
        self.batch = batch
        self.lease = lease
        self.sink = InboxSink(kit.store, kit.clock)
        for transport in self.transports.values():
            attach = getattr(transport, "set_inbound_sink", None)
            if attach is not None:
                attach(self.sink)

    @classmethod
    def from_plugins(cls, kit: ComplaintKit, **options: Any) -> Outbox:
        """The outbox with the transports the plugins provide, set from the ``[outbox]`` table
        of the worker's settings (:func:`outbox_settings`)."""
        settings: Mapping[str, Any] = kit.settings
        sms = kit.plugins.sms_transport(settings=settings.get("sms", {}))
        email = kit.plugins.email_transport(settings=settings.get("email", {}))
        return cls(kit, sms=sms, email=email, **{**outbox_settings(settings.get("outbox", {})), **options})

    def deliver(self, channel: MessageChannel | None = None) -> int:
        """Send what is due now (on one channel, or every channel that has a transport); return
        how many were handled."""
        handled = 0
        for ch, transport in self.transports.items():
            if channel is not None and ch is not channel:
                continue
            while True:
                claimed = self._claim(ch)
                if not claimed:
                    break
                handled += self._send(ch, transport, claimed)
                if len(claimed) < self.batch:
                    break
        return handled

    def _claim(self, channel: MessageChannel) -> list[ClaimedMessage]:
        quiet, key, now = self.kit.store.quiet, outbox_key(channel.value), self.kit.clock.now()
        if quiet.sleeping(key, now):
            return []  # nothing of this channel is due before a moment still to come
        mark = quiet.mark(key)
        with self.kit.store.transaction() as tx:
            claimed = tx.claim_messages(channel.value, now, self.batch, self.lease)
            if not claimed:
                quiet.settle(key, tx.next_message_due(channel.value), mark)
            return claimed

    def _send(self, channel: MessageChannel, transport: Any, claimed: list[ClaimedMessage]) -> int:
        by_key = {c.message.key: c for c in claimed}
        recorded: set[str] = set()
        lock = threading.Lock()

        def record(result: SendResult) -> None:
            # called by the transport as each message is acknowledged, from any thread
            with lock:
                c = by_key.get(result.key)
                if c is None or result.key in recorded:
                    return
                recorded.add(result.key)
            try:
                self._record(c, result)
            except Exception:
                log.exception("recording a message failed", key=c.message.key)
                with lock:
                    recorded.discard(result.key)

        if channel is MessageChannel.SMS:
            requests: list[Any] = [SmsRequest(c.message.key, c.message.to, c.message.sender or
                                              self.kit.standard.settings.service_port, c.message.text)
                                   for c in claimed]
        else:
            requests = [EmailRequest(c.message.key, (c.message.to,), c.message.subject, c.message.text)
                        for c in claimed]
        renewer = _LeaseRenewer(self, [c.id for c in claimed], lambda: {by_key[k].id for k in recorded})
        renewer.start()
        try:
            if _takes_on_result(transport):
                results = transport.send_many(requests, on_result=record)
            else:
                results = transport.send_many(requests)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the batch is retried, never lost
            log.error("transport failed", channel=channel.value, error=f"{type(exc).__name__}: {exc}")
            results = [SendResult(r.key, SendOutcome.RETRY, detail=f"{type(exc).__name__}: {exc}", reached=False)
                       for r in requests]
        finally:
            renewer.stop()
        answered = {r.key: r for r in results}
        for c in claimed:
            if c.message.key in recorded:
                continue
            result = answered.get(c.message.key) or SendResult(c.message.key, SendOutcome.RETRY,
                                                              detail="no answer from the transport", reached=False)
            try:
                self._record(c, result)
            except Exception:
                log.exception("recording a message failed; it will be retried", key=c.message.key)
        return len(claimed)

    def _record(self, c: ClaimedMessage, result: SendResult) -> None:
        now = self.kit.clock.now()
        with self.kit.store.transaction() as tx:
            if result.outcome is SendOutcome.ACCEPTED:
                tx.record_sent(c.id, now, result.remote_ids, result.parts)
            elif result.outcome is SendOutcome.RETRY and not result.reached:
                # the far end never saw it: an outage costs no attempt, only time
                tx.record_retry(c.id, now + self.retry.unreached, result.detail, count=False)
            elif result.outcome is SendOutcome.FAILED or c.attempts + 1 >= self.retry.attempts:
                tx.record_failed(c.id, result.detail or "gave up")
                log.warning("message failed", key=c.message.key, detail=result.detail)
            else:
                tx.record_retry(c.id, now + self.retry.delay(c.attempts), result.detail)

    def collect(self) -> int:
        """Move what transports without an inbound sink hold in memory into the durable inbox."""
        count = 0
        for transport in self.transports.values():
            if getattr(transport, "set_inbound_sink", None) is not None:
                continue
            drain = getattr(transport, "drain_inbound", None)
            if drain is None:
                continue
            for item in drain():
                try:
                    self.sink.accept(item)
                    count += 1
                except Exception:
                    log.exception("inbound item could not be stored", kind=type(item).__name__)
        return count

    def receive(self) -> int:
        """Collect inbound items into the inbox and handle every inbox row that is due."""
        collected = self.collect()
        handled = process(self.kit.runner, self.kit.clock.now())
        return max(collected, handled)

    def close(self) -> None:
        for transport in self.transports.values():
            try:
                transport.close()
            except Exception:
                log.exception("closing a transport failed")


class _LeaseRenewer:
    """Keeps a batch's claims alive while the transport works on it (a real-time thread: a
    dead worker's claims expire within one lease, a live worker's never do)."""

    def __init__(self, outbox: Outbox, ids: list[int], done: Any) -> None:
        self.outbox = outbox
        self.ids = ids
        self.done = done
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        interval = self.outbox.lease.total_seconds() / 3
        if interval <= 0:
            return

        def run() -> None:
            while not self.stopping.wait(interval):
                pending = [i for i in self.ids if i not in self.done()]
                try:
                    with self.outbox.kit.store.transaction() as tx:
                        tx.renew_leases(pending, self.outbox.kit.clock.now() + self.outbox.lease)
                except Exception:
                    log.exception("renewing the outbox lease failed")

        self.thread = threading.Thread(target=run, name="ck-outbox-lease", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()


def _takes_on_result(transport: Any) -> bool:
    try:
        return "on_result" in inspect.signature(transport.send_many).parameters
    except (TypeError, ValueError):
        return False


