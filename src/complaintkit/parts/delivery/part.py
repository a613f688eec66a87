"""Delivery receipts come back through the inbox and land on the outbox row they concern."""

from __future__ import annotations

from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.delivery.commands import receipt_command

PART = Part("delivery", inbound=(("receipt", receipt_command),))


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
