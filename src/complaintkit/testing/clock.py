"""VirtualClock: a month of tickets in seconds, every run the same."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from complaintkit.core.clock import SHANGHAI


class VirtualClock:
    """A clock that moves only when told, and fires due timers on the way, in order.

    Kits and workers built with this clock attach themselves. :meth:`advance` stops at each
    moment a timer is due, sets the time to exactly that moment, and lets every attached worker
    (or, without a worker, every kit) fire what is due — so a timer's effects see the time it was
    due, and a timer set by another fires in its turn.
    """

    def __init__(self, start: datetime | str = "2026-03-02T09:00:00+08:00") -> None:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        self._now = moment
        self._listeners: list[Any] = []

    def now(self) -> datetime:
        return self._now

    def attach(self, listener: Any) -> None:
        """Called by a kit or worker built on this clock."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def set(self, moment: datetime) -> None:
        """Jump without firing anything (a worker that was down meanwhile)."""
        self._now = moment

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by ``delta`` (or ``hours=…, minutes=…, days=…``), firing due timers."""
        step = delta if delta is not None else timedelta(**parts)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards")
        return self.advance_to(self._now + step)

    def advance_to(self, target: datetime) -> datetime:
        kits = {id(getattr(x, "kit", x)): getattr(x, "kit", x) for x in self._listeners}.values()
        workers = [x for x in self._listeners if hasattr(x, "on_time")]
        for _ in range(1_000_000):
            due = [d for k in kits if (d := k.next_due()) is not None]
            soonest = min(due, default=None)
            if soonest is None or soonest > target:
                break
            # the store answers in UTC; keep the clock in its own zone, so events read naturally
            self._now = max(self._now, soonest.astimezone(self._now.tzinfo))
            self._run(kits, workers)
        self._now = max(self._now, target)
        self._run(kits, workers)
        return self._now

    def run_due(self) -> None:
        """Let attached workers/kits act at the current moment without moving the clock."""
        kits = {id(getattr(x, "kit", x)): getattr(x, "kit", x) for x in self._listeners}.values()
        self._run(kits, [x for x in self._listeners if hasattr(x, "on_time")])

    @staticmethod
    def _run(kits: Any, workers: list[Any]) -> None:
        if workers:
            for w in workers:
                w.on_time()
        else:
            for k in kits:
                k.fire_due_timers()
