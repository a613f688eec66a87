"""Online follow-up (SPEC B1–B5): its timers and the customer's replies from the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.follow_up.commands import CallOutcome, receive_call, receive_sms
from complaintkit.parts.follow_up.timers import TIMER_KINDS

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit

class FollowUpApi:
    """``kit.parts.follow_up``: the customer's call to the fast-service number (B3)."""

    def __init__(self, kit: ComplaintKit) -> None:
        self._kit = kit

    def call(self, *, msisdn: str, at: datetime | None = None) -> CallOutcome:
        """Record a call as the IVR reports it (number, time: now when not given, never later);
        inside a follow-up's window it converts it exactly as a reply does."""
        now = self._kit.clock.now()
        return self._kit.run(receive_call(msisdn, min(at, now) if at is not None else None))  # type: ignore[no-any-return]


PART = Part("follow_up", timers=TIMER_KINDS, inbound=(("sms", receive_sms),), api=FollowUpApi)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
