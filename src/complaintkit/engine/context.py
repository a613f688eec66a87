"""The process rules: pure functions from (ticket, context) to a :class:`~complaintkit.core.model.Decision`.

No I/O, no clock, no globals: everything a rule needs is in its arguments and the
:class:`Context`, so every rule can be tested with plain values and any ``now``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from complaintkit.core.calendar import WorkCalendar
from complaintkit.core.clock import Clock
from complaintkit.core.model import Actor
from complaintkit.engine.store import Store
from complaintkit.ports.boss import BossCrm
from complaintkit.standard import Standard


@attrs.define(frozen=True)
class Context:
    """What every rule may consult: the province standard, the calendar, the time and the actor."""

    standard: Standard
    calendar: WorkCalendar
    now: datetime
    actor: Actor


class KitServices(Protocol):
    """What a part may ask of the kit while it *builds* a command, before the rule runs: a fresh
    ticket id, and the BOSS/CRM for the customer's facts. (``ComplaintKit`` is one; a part's
    commands name this instead, so the parts never import the facade that imports them.)"""

    @property
    def boss(self) -> BossCrm | None: ...

    @property
    def standard(self) -> Standard: ...

    @property
    def clock(self) -> Clock: ...

    def new_ticket_id(self) -> str: ...


class KitReads(Protocol):
    """What a part's read side needs of the kit: its store and its clock (``ComplaintKit`` is
    one)."""

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...
