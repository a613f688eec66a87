"""The online follow-up's piece of the store: every customer SMS to the service port, recorded."""

from __future__ import annotations

from datetime import datetime

import attrs

from complaintkit.core.model import OutgoingMessage
from complaintkit.engine.store import Transaction


@attrs.define(frozen=True)
class InboundReply:
    """A customer's SMS as recorded in ``ck_inbound``, with the answer it gets (if any).

    The answer's idempotency key is ``inbound:<row id>``: known only when the row is written,
    so the rule leaves the key empty and :meth:`write` fills it in.
    """

    sender: str
    to: str
    text: str
    received_at: datetime
    outcome: str
    ticket_id: str = ""
    answer: OutgoingMessage | None = None

    def write(self, tx: Transaction, now: datetime) -> int:
        row_id = tx.record_inbound(self.sender, self.to, self.text, self.received_at, self.outcome, self.ticket_id)
        if self.answer is not None:
            tx.add_messages([attrs.evolve(self.answer, key=f"inbound:{row_id}")], now)
        return row_id
