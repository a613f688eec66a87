"""The timer kinds the online follow-up owns: the confirmation SMS and the reply window (B2, B4)."""

from __future__ import annotations

from complaintkit.engine.registry import TimerKind
from complaintkit.parts.follow_up import rules

TIMER_KINDS = (TimerKind(rules.SMS_TIMER, rules.on_timer), TimerKind(rules.WINDOW_TIMER, rules.on_timer))
