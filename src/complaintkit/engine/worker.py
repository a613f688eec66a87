"""The worker: timers, the inbox, detectors and each channel's delivery, none waiting for another.

``run()`` gives each its own loop (a thread): a silent SMSC holds up SMS delivery only, while
timers keep firing, replies keep being handled and e-mail keeps going. Any number of workers may
run against one PostgreSQL database: timers, inbox rows and messages are claimed with ``FOR UPDATE
SKIP LOCKED`` and detector windows by a primary key, so each fires once. After a restart every
timer that came due while no worker ran fires on the first pass — after the inbox, so a reply
received inside its window is judged before the window's timer closes the follow-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from complaintkit.core.calendar_warning import calendar_warning
from complaintkit.engine import detectors, timers
from complaintkit.engine.outbox import Outbox
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    from complaintkit.kit import ComplaintKit

log = get_logger(__name__)


class Worker:
    def __init__(self, kit: ComplaintKit, outbox: Outbox | None = None) -> None:
        self.kit = kit
        self.outbox = outbox if outbox is not None else Outbox.from_plugins(kit)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._calendar_checked: date | None = None

    # -- the steps, each usable alone ------------------------------------------------------

    def receive(self) -> int:
        """Inbound first: what transports hold goes to the inbox, then the inbox is handled."""
        return self.outbox.receive()

    def fire(self) -> int:
        return timers.fire_due(self.kit.runner, self.kit.clock.now())

    def detect(self) -> int:
        self._warn_about_calendar()
        return detectors.run_due(self.kit.runner, self.kit.clock.now())

    def _warn_about_calendar(self) -> None:
        # once per local day, from 60 days before the calendar's data ends
        today = self.kit.clock.now().astimezone(self.kit.calendar.tz).date()
        if self._calendar_checked == today:
            return
        self._calendar_checked = today
        message = calendar_warning(self.kit.calendar, today)
        if message is not None:
            log.warning(message)

    def run_once(self) -> tuple[int, int, int]:
        """One pass of everything in order: inbox, timers, detectors, delivery.
        Returns (fired, received, sent)."""
        received = self.receive()
        fired = self.fire()
        self.detect()
        sent = self.outbox.deliver()
        return fired, received, sent

    # -- the long-running worker ----------------------------------------------------------------

    def run(self, *, idle: float = 1.0) -> None:
        """Loop until :meth:`stop` (the CLI calls it on SIGTERM); finishes the steps in hand."""
        self._announce()
        # the inbox before any timer: a reply that came in its window counts (see module doc)
        self._guarded("inbox", self.receive)
        loops: dict[str, Callable[[], int]] = {
            "timers": self.fire,
            "inbox": self.receive,
            "detectors": self.detect,
        }
        for channel in self.outbox.transports:
            loops[f"deliver-{channel.value}"] = lambda ch=channel: self.outbox.deliver(ch)  # type: ignore[misc]
        self.threads = [threading.Thread(target=self._loop, args=(name, step, idle), name=f"ck-{name}", daemon=True)
                        for name, step in loops.items()]
        for thread in self.threads:
            thread.start()
        try:
            self.stopping.wait()
        finally:
            for thread in self.threads:
                thread.join()
            self.outbox.close()
            log.info("worker stopped")

    def _loop(self, name: str, step: Callable[[], int], idle: float) -> None:
        # timers and the inbox look often: a timer fires within a fraction of a second of due
        pause = min(idle, 0.2) if name in ("timers", "inbox") else idle
        while not self.stopping.is_set():
            done = self._guarded(name, step)
            if not done:
                self.stopping.wait(pause)

    def _guarded(self, name: str, step: Callable[[], int]) -> int:
        try:
            return step()
        except Exception:
            log.exception("worker step failed; retrying", step=name)
            return 0

    def _announce(self) -> None:
        configured = sorted(ch.value for ch in self.outbox.transports)
        log.info("worker started", channels=configured, detectors=sorted(self.kit.registry.detectors))
        if not configured:
            log.warning("no SMS or e-mail transport is configured: messages stay in the outbox until one is "
                        "(install complaintkit-smpp / complaintkit-smtp and give their settings)")
        else:
            for missing in sorted({"sms", "email"} - set(configured)):
                log.warning(f"no {missing} transport is configured: {missing} messages stay in the outbox")

    def stop(self) -> None:
        self.stopping.set()

    # VirtualClock calls this at every moment it stops on
    def on_time(self) -> None:
        self.run_once()
