"""Firing due timers: each routed to the part that registered its kind, each exactly once.

A timer fires in the command runner like any command: its ticket is locked first (skipped, not
waited for, when a command holds it), then the timer row, then the part's rule decides, and the
change and the "fired" mark commit together. A timer whose rule fails for a reason a retry cannot
fix (a ticket that cannot be read, a rule that raises) is *quarantined* with its error — kept,
visible in ``complaintkit doctor``, releasable — and every other timer goes on.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from complaintkit.core.errors import TicketBusy, TicketNotFound
from complaintkit.core.model import Actor, Decision, Timer
from complaintkit.engine.commands import SKIPPED, Command, Loaded, OneTicket, Outcome, is_retryable
from complaintkit.engine.context import Context
from complaintkit.engine.store import ClaimedTimer
from complaintkit.engine.store.quiet import TIMERS
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    from complaintkit.engine.commands import Runner

log = get_logger(__name__)

#: candidates read per claim; several workers pick different ones when the first are busy
BATCH = 32


class UnknownTimerKind(LookupError):
    pass


def fire_due(runner: Runner, now: datetime, *, limit: int | None = None) -> int:
    """Fire every timer due by ``now``, earliest first; return how many fired (or were set aside)."""
    quiet = runner.store.quiet
    if quiet.sleeping(TIMERS, now):
        return 0  # no timer is due before a moment still to come: no transaction at all
    done = 0
    while limit is None or done < limit:
        mark = quiet.mark(TIMERS)
        with runner.store.read() as tx:
            candidates = tx.due_timers(now, BATCH if limit is None else min(BATCH, limit - done))
            if not candidates:
                quiet.settle(TIMERS, tx.next_timer_due(), mark)
        if not candidates:
            return done
        progressed = False
        waiting = list(candidates)
        while waiting:
            claimed = waiting.pop(0)
            outcome = fire_one(runner, claimed, now)
            if outcome != "skipped":
                done += 1
                progressed = True
            elif waiting:
                waiting = _elsewhere(waiting)
            if limit is not None and done >= limit:
                return done
        if not progressed:
            return done  # every candidate is being handled elsewhere: come back on the next pass
    return done


def _elsewhere(waiting: list[ClaimedTimer]) -> list[ClaimedTimer]:
    """Another worker holds what this one just tried: it is working down the same earliest
    timers, so go on from a ticket further along rather than follow it and find each one fired.
    A lone worker never gets here and fires strictly earliest first; a ticket's own timers keep
    their order."""
    by_ticket: dict[str, list[ClaimedTimer]] = {}
    for claimed in waiting:
        by_ticket.setdefault(claimed.timer.ticket_id, []).append(claimed)
    groups = list(by_ticket.values())
    cut = random.randrange(len(groups))
    return [claimed for group in groups[cut:] + groups[:cut] for claimed in group]


def fire_one(runner: Runner, claimed: ClaimedTimer, now: datetime) -> str:
    """Fire one timer: ``fired``, ``skipped`` (busy or already handled) or ``quarantined``."""
    timer = claimed.timer
    command = Command(
        f"timer:{timer.name}", Actor.system(), (OneTicket(timer.ticket_id, skip_locked=True),),
        lambda loaded, ctx: _decide(runner, timer, loaded, ctx),
        at=now,
        claim=lambda tx: tx.lock_timer(claimed.id),
        settle=lambda tx, _outcome: tx.mark_timer_fired(claimed.id, now),
    )
    try:
        result = runner.run(command)
    except TicketBusy:
        return "skipped"
    except TicketNotFound:
        log.error("timer for a missing ticket", ticket_id=timer.ticket_id, timer=timer.name)
        _quarantine(runner, claimed, "the ticket does not exist")
        return "quarantined"
    except Exception as exc:  # noqa: BLE001 - one bad timer must not stop the others
        if is_retryable(exc):
            return "skipped"
        error = f"{type(exc).__name__}: {exc}"
        log.error("timer quarantined", ticket_id=timer.ticket_id, timer=timer.name, error=error)
        _quarantine(runner, claimed, error)
        return "quarantined"
    return "skipped" if result is SKIPPED else "fired"


def _decide(runner: Runner, timer: Timer, loaded: Loaded, ctx: Context) -> Outcome:
    kind = runner.registry.timer_kind(timer.name)
    if kind is None:
        raise UnknownTimerKind(f"no part registers the timer kind of {timer.name!r}")
    ticket = loaded.ticket(timer.ticket_id)
    answer = kind.handler(ticket, timer, ctx)
    if isinstance(answer, Outcome):
        return answer
    decision: Decision = answer
    if decision.ticket == ticket and not decision.events and not decision.messages and not decision.set_timers:
        return Outcome(result=None)
    return Outcome(decisions=(decision,))


def _quarantine(runner: Runner, claimed: ClaimedTimer, error: str) -> None:
    with runner.store.transaction() as tx:
        tx.quarantine_timer(claimed.id, error)


__all__ = ["BATCH", "UnknownTimerKind", "fire_due", "fire_one"]
