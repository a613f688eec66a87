"""Online follow-up (SPEC B1–B5): its timers and the customer's replies from the inbox."""

from __future__ import annotations

from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.follow_up.commands import receive_sms
from complaintkit.parts.follow_up.timers import TIMER_KINDS

PART = Part("follow_up", timers=TIMER_KINDS, inbound=(("sms", receive_sms),))


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
