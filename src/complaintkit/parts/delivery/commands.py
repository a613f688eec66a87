"""Delivery receipts (TMF681 ``completed`` / ``failed``): what the SMSC says became of a message."""

from __future__ import annotations

from typing import Any

from complaintkit.core.model import Actor
from complaintkit.engine.commands import Command, Outcome
from complaintkit.parts.delivery.store import DeliveryRecord
from complaintkit.ports.transports import DeliveryReceipt


def receipt_command(receipt: DeliveryReceipt, inbox_id: int | None = None) -> Command:
    """A delivery receipt from the inbox: recorded on its message."""

    def decide(_loaded: Any, ctx: Any) -> Outcome:
        return Outcome(records=(DeliveryRecord(receipt.remote_id, receipt.state.value, receipt.at or ctx.now),),
                       result="receipt")

    return Command("receipt", Actor.system(), (), decide, at=receipt.at)
