"""Delivery's piece of the store: a receipt's final state, written onto the outbox row it names."""

from __future__ import annotations

from datetime import datetime

import attrs

from complaintkit.engine.store import Transaction
from complaintkit.logging import get_logger

log = get_logger(__name__)


@attrs.define(frozen=True)
class DeliveryRecord:
    """A delivery receipt, written onto the outbox row whose remote id it names."""

    remote_id: str
    state: str
    at: datetime

    def write(self, tx: Transaction, now: datetime) -> bool:
        found = tx.record_delivery(self.remote_id, self.state, self.at)
        if not found:
            log.warning("delivery receipt for an unknown message", remote_id=self.remote_id)
        return found
