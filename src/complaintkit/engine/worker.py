"""The worker: fires due timers and delivers the outbox until told to stop.

Any number of workers may run against one PostgreSQL database: timers and messages are claimed
with ``FOR UPDATE SKIP LOCKED``, so each fires once. After a restart every timer that came due
while no worker ran fires on the first pass.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

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

    def run_once(self) -> tuple[int, int, int]:
        """One pass: timers, then inbound, then outbound. Returns (fired, received, sent)."""
        fired = self.kit.fire_due_timers()
        received = self.outbox.receive()
        if received:
            fired += self.kit.fire_due_timers()
        sent = self.outbox.deliver()
        return fired, received, sent

    def run(self, *, idle: float = 1.0) -> None:
        """Loop until :meth:`stop` (the CLI calls it on SIGTERM); finishes the pass in hand."""
        log.info("worker started")
        try:
            while not self.stopping.is_set():
                try:
                    fired, received, sent = self.run_once()
                except Exception:
                    log.exception("worker pass failed; retrying")
                    fired = received = sent = 0
                if not (fired or received or sent):
                    self.stopping.wait(idle)
        finally:
            self.outbox.close()
            log.info("worker stopped")

    def stop(self) -> None:
        self.stopping.set()

    # VirtualClock calls this at every moment it stops on
    def on_time(self) -> None:
        self.run_once()
