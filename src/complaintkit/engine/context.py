"""The process rules: pure functions from (ticket, context) to a :class:`~complaintkit.core.model.Decision`.

No I/O, no clock, no globals: everything a rule needs is in its arguments and the
:class:`Context`, so every rule can be tested with plain values and any ``now``.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from complaintkit.core.calendar import WorkCalendar
from complaintkit.core.model import Actor
from complaintkit.standard import Standard


@attrs.define(frozen=True)
class Context:
    """What every rule may consult: the province standard, the calendar, the time and the actor."""

    standard: Standard
    calendar: WorkCalendar
    now: datetime
    actor: Actor
