"""Scheduled detectors: each registered scan runs once per window and emits commands.

The window is the detector's ``every`` laid on the local calendar from a fixed Monday midnight
(an ``every`` of one day runs once per local day, of one hour once per clock hour). A run
inserts ``(detector, window start)`` into ``ck_detector_runs`` inside the same transaction as
the commands it emits: a second worker's insert conflicts and it skips; a crash rolls the whole
run back and the next pass does it again. Only the current window runs — a window missed while
no worker was up is not replayed (a scan of the current data covers it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from complaintkit.core.model import Actor
from complaintkit.engine.commands import SKIPPED, Command, Loaded, Outcome
from complaintkit.engine.context import Context
from complaintkit.engine.registry import Detector, Window
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    from complaintkit.engine.commands import Runner

log = get_logger(__name__)


def window_of(now: datetime, every: timedelta) -> Window:
    """The window holding ``now``: local wall-clock multiples of ``every`` since a Monday."""
    local = now.replace(tzinfo=None)
    epoch = datetime(2001, 1, 1)  # a Monday
    steps = (local - epoch) // every
    start = (epoch + steps * every).replace(tzinfo=now.tzinfo)
    return Window(start, start + every)


def run_due(runner: Runner, now: datetime) -> int:
    """Run every detector whose current window has not run yet; how many ran."""
    ran = 0
    for detector in runner.registry.detectors.values():
        try:
            if run_one(runner, detector, now):
                ran += 1
        except Exception:
            log.exception("detector failed; it runs again on the next pass", detector=detector.name)
    return ran


def run_one(runner: Runner, detector: Detector, now: datetime) -> bool:
    window = window_of(now, detector.every)
    if runner.windows_done.get(detector.name) == window.start:
        return False

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        commands = tuple(detector.detect(loaded.tickets(detector.scan), window, ctx))
        for c in commands:
            if not isinstance(c, Command):
                raise TypeError(f"detector {detector.name!r} emitted {c!r}, not a Command")
        return Outcome(then=commands, result=len(commands))

    command = Command(
        f"detector:{detector.name}", Actor.system(), (detector.scan,), decide, at=now,
        claim=lambda tx: tx.claim_detector_window(detector.name, window.start, now),
        settle=lambda tx, outcome: tx.settle_detector_window(detector.name, window.start, len(outcome.then)),
    )
    result = runner.run(command)
    runner.windows_done[detector.name] = window.start
    if result is SKIPPED:
        return False
    log.info("detector ran", detector=detector.name, window=window.start.isoformat(), emitted=result)
    return True


__all__ = ["run_due", "run_one", "window_of"]
