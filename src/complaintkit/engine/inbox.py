"""The durable inbox: what the far end delivers is stored before it is acknowledged.

A transport with ``set_inbound_sink`` hands every customer reply and delivery receipt to
:class:`InboxSink` *before* answering the SMSC; the sink returns only after the row is committed,
so a kill at any moment loses nothing (the SMSC re-delivers what was not acknowledged). A
transport without it is drained by the worker into the same table first thing in each pass.

Rows are processed oldest first, each by the command its kind is registered for (``sms`` by the
online follow-up, ``receipt`` by the outbox), judged at the row's own ``received_at``, and marked
done in that command's transaction — once. A row whose command fails is kept with its error and
tried again with back-off; after :data:`MAX_ATTEMPTS` it is quarantined (``complaintkit
doctor``), never dropped, and the rows behind it go on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit.core.clock import Clock
from complaintkit.core.model import mask_number
from complaintkit.engine.commands import SKIPPED, is_retryable
from complaintkit.engine.store.quiet import INBOX
from complaintkit.logging import get_logger
from complaintkit.ports.transports import DeliveryReceipt, DeliveryState, InboundSms, MalformedSms

if TYPE_CHECKING:
    from complaintkit.engine.commands import Runner
    from complaintkit.engine.store import Store

log = get_logger(__name__)

MAX_ATTEMPTS = 5
BATCH = 100


def to_row(item: DeliveryReceipt | InboundSms) -> tuple[str, dict[str, Any], datetime | None]:
    """An inbound item as an inbox row: (kind, payload, received_at)."""
    if isinstance(item, InboundSms):
        clean = item.storable()
        payload: dict[str, Any] = {"sender": clean.sender, "to": clean.to, "text": clean.text}
        if clean != item:
            # recorded as it can be stored; the follow-up answers it as a malformed SMS
            payload["malformed"] = True
        return "sms", payload, clean.received_at
    if isinstance(item, DeliveryReceipt):
        return "receipt", {"remote_id": item.remote_id, "state": item.state.value,
                           "error_code": item.error_code}, item.at
    raise TypeError(f"not an inbound item: {type(item).__name__}")


def from_row(kind: str, payload: dict[str, Any], received_at: datetime) -> DeliveryReceipt | InboundSms:
    if kind == "sms":
        if payload.get("malformed"):
            return MalformedSms(payload["sender"], payload["to"], payload["text"], received_at)
        return InboundSms(payload["sender"], payload["to"], payload["text"], received_at)
    return DeliveryReceipt(payload["remote_id"], DeliveryState(payload["state"]), received_at,
                           payload.get("error_code", ""))


class InboxSink:
    """The :class:`~complaintkit.ports.transports.InboundSink` a worker gives its transports.

    Thread-safe: a transport calls it from its own I/O thread.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def accept(self, item: DeliveryReceipt | InboundSms) -> None:
        kind, payload, received_at = to_row(item)
        now = self.clock.now()
        with self.store.transaction() as tx:
            tx.add_inbox(kind, payload, received_at or now, now)


def process(runner: Runner, now: datetime, *, limit: int | None = None) -> int:
    """Handle the inbox rows due by ``now``; how many were settled or set aside."""
    quiet = runner.store.quiet
    if quiet.sleeping(INBOX, now):
        return 0
    done = 0
    while limit is None or done < limit:
        mark = quiet.mark(INBOX)
        with runner.store.read() as tx:
            rows = tx.due_inbox(now, BATCH)
            if not rows:
                quiet.settle(INBOX, tx.next_inbox_due(), mark)
        if not rows:
            return done
        progressed = False
        for row in rows:
            if handle(runner, row, now) != "skipped":
                done += 1
                progressed = True
        if not progressed:
            return done
    return done


def handle(runner: Runner, row: dict[str, Any], now: datetime) -> str:
    handler = runner.registry.inbound.get(row["kind"])
    if handler is None:
        _retry(runner, row, now, f"no part handles inbox kind {row['kind']!r}")
        return "failed"
    try:
        item = from_row(row["kind"], row["payload"], min(row["received_at"], now))
        base = handler(item, row["id"])
        inbox_id = row["id"]
        original = base.claim

        def claim(tx: Any) -> bool:
            return tx.lock_inbox(inbox_id) and (original is None or original(tx))

        def settle(tx: Any, outcome: Any) -> None:
            if base.settle is not None:
                base.settle(tx, outcome)
            tx.settle_inbox(inbox_id, str(outcome.result or ""))

        result = runner.run(attrs.evolve(base, claim=claim, settle=settle))
    except Exception as exc:  # noqa: BLE001 - kept with its error, tried again; the others go on
        if is_retryable(exc):
            return "skipped"
        _retry(runner, row, now, f"{type(exc).__name__}: {exc}")
        return "failed"
    if result is SKIPPED:
        return "skipped"
    log.info(f"inbound {row['kind']}", inbox_id=row["id"], outcome=result,
             **({"sender": mask_number(str(row["payload"].get("sender", "")))} if row["kind"] == "sms" else {}))
    return "done"


def _retry(runner: Runner, row: dict[str, Any], now: datetime, error: str) -> None:
    attempts = row["attempts"] + 1
    quarantine = attempts >= MAX_ATTEMPTS
    delay = timedelta(seconds=min(5 * 2 ** attempts, 600))
    with runner.store.transaction() as tx:
        tx.retry_inbox(row["id"], now + delay, error, quarantine=quarantine)
    log.error("inbound item quarantined" if quarantine else "inbound item failed; will retry",
              inbox_id=row["id"], kind=row["kind"], attempts=attempts, error=error)


__all__ = ["MAX_ATTEMPTS", "InboxSink", "from_row", "handle", "process", "to_row"]
