"""What this process knows is *not* waiting: so the worker does not look when nothing is.

An empty pass costs a transaction per loop — the timers, the inbox, each channel of the outbox —
and most passes are empty. When a loop finds nothing, it records until when nothing will be due
(the next timer's due time, the next retry; ``None``: nothing at all), and skips the database
until then. Whatever this process commits that may be due sooner (a timer set, a message
queued, a reply stored) wakes the loop at once, after the commit. What *another* process
commits is seen by looking again after ``recheck`` seconds of real time — as often as an idle
worker looked before.

A wake that comes while a loop is looking (between its read and its settling) wins: each key
carries a count of wakes, and a settle made from a read older than the last wake is dropped.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

#: the loops' keys: "timers", "inbox", and "outbox:<channel>"
TIMERS = "timers"
INBOX = "inbox"


def outbox_key(channel: str) -> str:
    return f"outbox:{channel}"


class Quiet:
    def __init__(self, recheck: float = 0.2) -> None:
        self.recheck = recheck
        self._lock = threading.Lock()
        #: key -> (nothing due before this moment, or None: nothing at all; when it was looked up)
        self._until: dict[str, tuple[datetime | None, float]] = {}
        self._wakes: dict[str, int] = {}

    def sleeping(self, key: str, now: datetime) -> bool:
        """True if nothing can be due for ``key`` at ``now`` as far as this process knows."""
        found = self._until.get(key)
        if found is None:
            return False
        until, looked = found
        if time.monotonic() - looked >= self.recheck:
            return False
        return until is None or now < until

    def known(self, key: str) -> tuple[bool, datetime | None]:
        """(True, the moment before which nothing is due — None: nothing waits) if this process
        knows it and need not look again yet; (False, None) otherwise."""
        found = self._until.get(key)
        if found is None or time.monotonic() - found[1] >= self.recheck:
            return False, None
        return True, found[0]

    def mark(self, key: str) -> int:
        """Before looking: the count of wakes to hand to :meth:`settle`."""
        return self._wakes.get(key, 0)

    def settle(self, key: str, until: datetime | None, mark: int) -> None:
        """Nothing is due for ``key`` before ``until`` (None: nothing is waiting at all)."""
        with self._lock:
            if self._wakes.get(key, 0) == mark:
                self._until[key] = (until, time.monotonic())

    def wake(self, key: str, at: datetime | None = None) -> None:
        """Something for ``key`` may be due at ``at`` (None: now)."""
        with self._lock:
            self._wakes[key] = self._wakes.get(key, 0) + 1
            found = self._until.get(key)
            if found is None:
                return
            until = found[0]
            if at is None or until is None or at < until:
                del self._until[key]

    def wake_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in {*self._until, *self._wakes} if k.startswith(prefix)]:
                self._wakes[key] = self._wakes.get(key, 0) + 1
                self._until.pop(key, None)


__all__ = ["INBOX", "TIMERS", "Quiet", "outbox_key"]
