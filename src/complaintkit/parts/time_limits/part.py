"""Time limits (SPEC C1–C5): deadlines, near-overdue and overdue timers, pausing, the read side."""

from __future__ import annotations

from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl
from complaintkit.parts.time_limits.timers import TIMER_KINDS

PART = Part("time_limits", timers=TIMER_KINDS)


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
