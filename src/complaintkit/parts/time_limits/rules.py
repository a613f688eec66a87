"""Time limits (SPEC C): which deadlines a ticket runs against, and what happens near and past them.

Each running deadline has moments — ``near:<name>``, ``overdue:<name>`` and, with an internal
target (C4), ``internal:<name>`` — and holds one durable timer at a time, for the earliest; each
sets the next when it fires (:func:`next_timer`). Near-overdue and overdue give the ticket its
marker and send a reminder to the handler's department through the outbox (C3); passing the
internal target records an ``internal_target_missed`` event and nothing else (no marker, no
message — it is the operator's own stricter target, not the customer's). A deadline is *met* when
its stage's action happens; meeting it cancels its timer.

Pausing (C5), re-computation (transfer/forward, reclassification, re-activation) and the rules
for each are described in ``docs/time-limits.md``; every re-computation is one
``deadlines_recomputed`` event whose data keeps the old and the new due times.

A deadline in working hours or days that falls past the working calendar's data is computed on
the weekday rule and marked ``provisional`` (:func:`start`, logged as a warning); once the year
is added, :func:`recompute_provisional` computes it again from its start.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.calendar import Duration, DurationUnit, MissingCalendarYear
from complaintkit.core.errors import InvalidInput, RuleRefused
from complaintkit.core.model import (
    Deadline,
    DeadlineState,
    Decision,
    Event,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    Timer,
)
from complaintkit.engine.context import Context
from complaintkit.logging import get_logger
from complaintkit.standard import Standard

log = get_logger(__name__)

#: states of a deadline whose clock has not been stopped by its stage's action
OPEN_STATES = (DeadlineState.RUNNING, DeadlineState.NEAR_OVERDUE, DeadlineState.OVERDUE, DeadlineState.PAUSED)
#: states of a deadline whose clock is running (timers pending)
RUNNING_STATES = (DeadlineState.RUNNING, DeadlineState.NEAR_OVERDUE, DeadlineState.OVERDUE)

#: which stage's deadline an action meets
MET_BY = {
    "dispatch": ("dispatch",),
    "reply": ("reply", "handling"),
    "archive": ("return_visit", "total", "reply", "handling", "dispatch"),
    # a return visit done (parts/return_visits): G1's limit, and G2's phone visit
    "visit": ("return_visit", "phone_visit"),
}


def limits_for(ticket: Ticket, ctx: Context) -> tuple[dict[str, str], dict[str, str]]:
    rule = ctx.standard.limits_for(
        category=ticket.category,
        urgency=ticket.urgency,
        value_tier=ticket.customer.value_tier,
        kind=ticket.kind.value,
    )
    limits = dict(rule.limits)
    internal = dict(rule.internal)
    if Marker.REPEAT in ticket.markers or ticket.kind.value == "remedy":
        # E3 / G3: repeat and remedy tickets are held to 24 h whatever their tier says
        limits["total"] = _stricter(ctx, ticket.created_at, limits.get("total", "24h"), "24h")
    return limits, internal


@functools.lru_cache(maxsize=256)
def duration(text: str) -> Duration:
    """Parsed once: the standard's few duration texts are used on every command."""
    return Duration.parse(text)


def _stricter(ctx: Context, start: datetime, a: str, b: str) -> str:
    return a if ctx.calendar.add(start, duration(a)) <= ctx.calendar.add(start, duration(b)) else b


def provisional(ctx: Context, *computed: tuple[str | None, datetime | None]) -> bool:
    """Whether a deadline relied on days past the working calendar's data: one of its moments
    (``(limit, moment)`` pairs: the due time, the internal target) is in working hours or days
    and lies where the calendar has no data. Natural hours never depend on the calendar."""
    return any(
        limit is not None and moment is not None and duration(limit).unit is not DurationUnit.HOURS
        and not ctx.calendar.covers(moment)
        for limit, moment in computed
    )


def _warn_provisional(ticket_id: str, deadline: Deadline, ctx: Context) -> None:
    # a warning per deadline, on purpose: every one of them may move when the year is added
    log.warning("provisional deadline: past the working calendar's data, computed on the weekday rule "
                "(Monday-Friday); add the next year from the State Council notice ([year.YYYY] in "
                "calendar.toml or the complaintkit_calendar_overrides hook) and it is computed again",
                ticket_id=ticket_id, deadline=deadline.name, limit=deadline.limit,
                due_at=deadline.due_at.isoformat(), calendar_data_ends=ctx.calendar.data_ends.isoformat())


def start(ticket: Ticket, names: Iterable[str], ctx: Context, *,
          at: datetime | None = None) -> tuple[Ticket, list[Timer], dict[str, Any]]:
    """Start the named stages' deadlines (those the standard has a limit for).

    Returns the ticket, the timers to set, and what was started — the caller records it in the
    data of the event that started the stages (``deadlines_started``), so history keeps every
    deadline ever set without an event per deadline.
    """
    limits, internal = limits_for(ticket, ctx)
    begin = at or ctx.now
    deadlines = {d.name: d for d in ticket.deadlines}
    timers: list[Timer] = []
    started: dict[str, Any] = {}
    for name in names:
        if name not in limits:
            continue
        due = ctx.calendar.add(begin, duration(limits[name]))
        target = ctx.calendar.add(begin, duration(internal[name])) if name in internal else None
        guessed = provisional(ctx, (limits[name], due), (internal.get(name), target))
        deadline = Deadline(name, begin, due, limits[name], target, provisional=guessed)
        deadlines[name] = deadline
        timers.extend(timers_for(ticket.id, deadline, ctx))
        started[name] = {"due_at": due.isoformat(), "limit": limits[name],
                         **({"internal_due_at": target.isoformat()} if target else {}),
                         **({"provisional": True} if guessed else {})}
        if guessed:
            _warn_provisional(ticket.id, deadline, ctx)
    return attrs.evolve(ticket, deadlines=tuple(deadlines.values())), timers, started


#: when two moments of a deadline coincide, the order they are handled in
_ORDER = {"internal": 0, "near": 1, "overdue": 2}


def timers_for(ticket_id: str, deadline: Deadline, ctx: Context) -> list[Timer]:
    """The deadline's first pending timer (see :func:`next_timer`)."""
    return next_timer(ticket_id, deadline, ctx)


def next_timer(ticket_id: str, deadline: Deadline, ctx: Context,
               after: tuple[datetime, str] | None = None) -> list[Timer]:
    """The next of a deadline's moments — internal target, near-overdue, overdue — as a timer.

    A deadline holds one pending timer at a time; each, when it fires, sets the next. That
    keeps a new ticket's write small (one timer row per deadline, not three) and gives the same
    firings: every moment still fires once, in order. ``after`` is the moment and kind that just
    fired; only later moments (or, at the same moment, later kinds) follow.
    """
    moments: list[tuple[datetime, str]] = []
    if deadline.internal_due_at is not None:
        moments.append((deadline.internal_due_at, "internal"))
    near = near_overdue_at(deadline, ctx)
    if near is not None and deadline.state is DeadlineState.RUNNING:
        moments.append((near, "near"))
    if deadline.state is not DeadlineState.OVERDUE:
        moments.append((deadline.due_at, "overdue"))
    if after is not None:
        moments = [m for m in moments if (m[0], _ORDER[m[1]]) > (after[0], _ORDER[after[1]])]
    if not moments:
        return []
    at, kind = min(moments, key=lambda m: (m[0], _ORDER[m[1]]))
    return [Timer(ticket_id, f"{kind}:{deadline.name}", at)]


def timer_names(name: str) -> list[str]:
    """Every timer a deadline may have pending."""
    return [f"near:{name}", f"overdue:{name}", f"internal:{name}"]


def near_overdue_at(deadline: Deadline, ctx: Context) -> datetime | None:
    """One hour before the deadline by default (C3); or when a share of the limit has passed.
    The one near-overdue rule: the timers set it and the read side shows it."""
    return near_at(deadline, ctx.standard)


def near_at(deadline: Deadline, standard: Standard) -> datetime | None:
    """:func:`near_overdue_at` by the standard alone (the read side has no rule context)."""
    settings = standard.settings
    if settings.near_overdue_share is not None:
        span = (deadline.due_at - deadline.started_at).total_seconds()
        at = deadline.started_at + timedelta(seconds=span * settings.near_overdue_share)
    else:
        at = deadline.due_at - natural(settings.near_overdue_before)
    return at if at > deadline.started_at else None


def natural(text: str) -> timedelta:
    """A natural-hours duration as a timedelta (the standard's checks allow only ``h`` here)."""
    return timedelta(hours=float(duration(text).amount))


def meet(ticket: Ticket, action: str, ctx: Context) -> tuple[Ticket, list[str], dict[str, Any]]:
    """Mark the deadlines an action meets; returns the ticket, the timers to cancel, and what was
    met (``{name: {"late": bool}}``, for the action's event data as ``deadlines_met``)."""
    names = MET_BY.get(action, ())
    cancel: list[str] = []
    met: dict[str, Any] = {}
    deadlines = []
    for d in ticket.deadlines:
        if d.name in names and d.state in OPEN_STATES:
            deadlines.append(attrs.evolve(d, state=DeadlineState.MET, met_at=ctx.now))
            cancel += timer_names(d.name)
            met[d.name] = {"late": ctx.now > d.due_at}
        else:
            deadlines.append(d)
    if not met:
        return ticket, cancel, met
    return attrs.evolve(ticket, deadlines=tuple(deadlines)), cancel, met


def annotate(event: Event, *, started: dict[str, Any] | None = None, met: dict[str, Any] | None = None) -> Event:
    """Record the deadlines a transition started and met in its event."""
    extra: dict[str, Any] = {}
    if started:
        extra["deadlines_started"] = started
    if met:
        extra["deadlines_met"] = met
    return attrs.evolve(event, data={**event.data, **extra}) if extra else event


def on_timer(ticket: Ticket, timer: Timer,
             ctx: Context) -> tuple[Ticket, list[Event], list[OutgoingMessage], list[Timer]]:
    """A deadline's timer fired; returns the ticket, events, messages and the deadline's next timer.

    ``near:`` / ``overdue:`` mark the ticket and remind its department (C3); ``internal:``
    records that the internal target (C4) was missed, and nothing else."""
    kind, _, name = timer.name.partition(":")
    deadline = ticket.deadline(name)
    if deadline is None or deadline.state in (DeadlineState.MET, DeadlineState.CANCELLED, DeadlineState.PAUSED):
        return ticket, [], [], []
    after = (timer.due_at, kind)
    if kind == "internal":
        if deadline.internal_due_at is None or timer.due_at != deadline.internal_due_at:
            # a target re-computed since the timer was set: its re-computation set the timers
            return ticket, [], [], []
        return ticket, [Event(ticket.id, ctx.now, ctx.actor.id, "internal_target_missed",
                              data={"deadline": name, "internal_due_at": deadline.internal_due_at.isoformat(),
                                    "due_at": deadline.due_at.isoformat()})], [], \
            next_timer(ticket.id, deadline, ctx, after)
    if kind == "near":
        if deadline.state is not DeadlineState.RUNNING:
            return ticket, [], [], []
        state, marker, template = DeadlineState.NEAR_OVERDUE, Marker.NEAR_OVERDUE, "near_overdue_reminder"
    else:
        state, marker, template = DeadlineState.OVERDUE, Marker.OVERDUE, "overdue_alert"
    deadlines = tuple(attrs.evolve(d, state=state) if d.name == name else d for d in ticket.deadlines)
    markers = ticket.markers | {marker}
    if marker is Marker.OVERDUE:
        markers -= {Marker.NEAR_OVERDUE}
    changed = attrs.evolve(ticket, deadlines=deadlines, markers=markers)
    event = Event(ticket.id, ctx.now, ctx.actor.id, state.value,
                  data={"deadline": name, "due_at": deadline.due_at.isoformat()})
    messages = []
    if template in ctx.standard.templates:
        department = ticket.department or ctx.standard.settings.complaint_department
        messages.append(
            OutgoingMessage(
                key=f"{ticket.id}:{timer.name}:{deadline.due_at.isoformat()}",
                channel=MessageChannel.EMAIL,
                to=department,
                subject=f"[{state.value}] {ticket.id}",
                text=ctx.standard.render(template, ticket_id=ticket.id, deadline=name,
                                         due_at=deadline.due_at.strftime("%Y-%m-%d %H:%M"),
                                         handler=ticket.handler, department=department),
                ticket_id=ticket.id,
                template=template,
            )
        )
    following = next_timer(ticket.id, changed.deadline(name), ctx, after)  # type: ignore[arg-type]
    return changed, [event], messages, following


# -- re-computation (transfer/forward, reclassification, re-activation) -------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _rearm(ticket_id: str, old: Deadline | None, new: Deadline, ctx: Context, *,
           fresh: bool, since: datetime | None = None) -> tuple[Deadline, list[Timer]]:
    """The state and timers of a re-computed deadline.

    ``fresh``: the stage starts again now: running, every timer set. Otherwise the deadline keeps
    what already happened to it: it stays overdue if its new due time has passed too, stays
    near-overdue if the new near moment has passed, else it runs again — and only the timers not
    yet consumed are set (so a reminder is not sent twice for the same passage). A timer whose
    moment is already past fires on the worker's next pass. ``since`` is the moment up to which
    timers were consumed (now; the pause moment for a resume).
    """
    if new.state is DeadlineState.PAUSED:
        return new, []
    if fresh or old is None:
        running = attrs.evolve(new, state=DeadlineState.RUNNING, met_at=None)
        return running, timers_for(ticket_id, running, ctx)
    since = since or ctx.now
    near = near_overdue_at(new, ctx)
    was = old.state
    if was is DeadlineState.OVERDUE and new.due_at <= since:
        state = DeadlineState.OVERDUE
    elif was in (DeadlineState.NEAR_OVERDUE, DeadlineState.OVERDUE) and near is not None and near <= since:
        state = DeadlineState.NEAR_OVERDUE
    else:
        state = DeadlineState.RUNNING
    changed = attrs.evolve(new, state=state)
    timers: list[Timer] = []
    if state is DeadlineState.RUNNING and near is not None:
        timers.append(Timer(ticket_id, f"near:{new.name}", near))
    if state is not DeadlineState.OVERDUE:
        timers.append(Timer(ticket_id, f"overdue:{new.name}", new.due_at))
    if new.internal_due_at is not None and (
        new.internal_due_at > since or old.internal_due_at is None or old.internal_due_at > since
    ):
        timers.append(Timer(ticket_id, f"internal:{new.name}", new.internal_due_at))
    # one pending timer per deadline: the earliest; it sets the next when it fires
    return changed, sorted(timers, key=lambda t: (t.due_at, _ORDER[t.name.partition(":")[0]]))[:1]


def sync_markers(ticket: Ticket) -> Ticket:
    """Near-overdue / overdue markers after a re-computation: overdue while a deadline is overdue
    or was met late, near-overdue while one is near-overdue."""
    markers = ticket.markers - {Marker.NEAR_OVERDUE, Marker.OVERDUE}
    if any(d.state is DeadlineState.OVERDUE or (d.state is DeadlineState.MET and d.met_at is not None
                                                and d.met_at > d.due_at) for d in ticket.deadlines):
        markers |= {Marker.OVERDUE}
    if any(d.state is DeadlineState.NEAR_OVERDUE for d in ticket.deadlines):
        markers |= {Marker.NEAR_OVERDUE}
    return attrs.evolve(ticket, markers=frozenset(markers))


def _change(old: Deadline | None, new: Deadline) -> dict[str, Any]:
    marks = ({"old_provisional": old is not None and old.provisional, "new_provisional": new.provisional}
             if new.provisional or (old is not None and old.provisional) else {})
    return {**marks,
        "old_due_at": _iso(old.due_at) if old else None,
        "new_due_at": new.due_at.isoformat(),
        "old_limit": old.limit if old else None,
        "new_limit": new.limit,
        "old_internal_due_at": _iso(old.internal_due_at) if old else None,
        "new_internal_due_at": _iso(new.internal_due_at),
        "old_state": old.state.value if old else None,
        "new_state": new.state.value,
        "started_at": new.started_at.isoformat(),
    }


def _recomputed(ticket: Ticket, changes: dict[str, tuple[Deadline | None, Deadline]], ctx: Context, *,
                cause: str, fresh: bool, reason: str = "",
                cancelled: tuple[Deadline, ...] = ()) -> tuple[Ticket, list[Timer], list[str], list[Event]]:
    deadlines = {d.name: d for d in ticket.deadlines}
    timers: list[Timer] = []
    cancel: list[str] = []
    data: dict[str, Any] = {}
    for name, (old, new) in changes.items():
        armed, armed_timers = _rearm(ticket.id, old, new, ctx, fresh=fresh)
        if armed.provisional:
            _warn_provisional(ticket.id, armed, ctx)
        deadlines[name] = armed
        cancel += timer_names(name)
        timers += armed_timers
        data[name] = _change(old, armed)
    for d in cancelled:
        deadlines[d.name] = attrs.evolve(d, state=DeadlineState.CANCELLED)
        cancel += timer_names(d.name)
        data[d.name] = {**_change(d, d), "new_due_at": None, "new_state": DeadlineState.CANCELLED.value}
    if not data:
        return ticket, [], [], []
    changed = sync_markers(attrs.evolve(ticket, deadlines=tuple(deadlines.values())))
    event = Event(ticket.id, ctx.now, ctx.actor.id, "deadlines_recomputed", reason=reason,
                  data={"cause": cause, "deadlines": data})
    # a timer both cancelled and set is replaced by the store (cancel first, then set)
    return changed, timers, [n for n in cancel if n not in {t.name for t in timers}], [event]


def restart(ticket: Ticket, names: Iterable[str], ctx: Context, *, cause: str, reason: str = "",
            cancel_stages: Iterable[str] = ()) -> tuple[Ticket, list[Timer], list[str], list[Event]]:
    """Start the named stages again from now (forward: handling; re-activation: reply and
    handling), and cancel ``cancel_stages``. Returns the ticket, the timers to set, the timers to
    cancel and the ``deadlines_recomputed`` event (none when nothing changed)."""
    limits, internal = limits_for(ticket, ctx)
    changes: dict[str, tuple[Deadline | None, Deadline]] = {}
    for name in names:
        if name not in limits:
            continue
        due = ctx.calendar.add(ctx.now, duration(limits[name]))
        target = ctx.calendar.add(ctx.now, duration(internal[name])) if name in internal else None
        guessed = provisional(ctx, (limits[name], due), (internal.get(name), target))
        changes[name] = (ticket.deadline(name), Deadline(name, ctx.now, due, limits[name], target, provisional=guessed))
    dropped = tuple(d for n in cancel_stages if (d := ticket.deadline(n)) is not None and d.state in OPEN_STATES)
    return _recomputed(ticket, changes, ctx, cause=cause, fresh=True, reason=reason, cancelled=dropped)


def recompute(ticket: Ticket, ctx: Context, *, cause: str, reason: str = "") -> tuple[Ticket, list[Timer], list[str], list[Event]]:
    """Re-look-up the limits (after a reclassification) and re-compute every deadline whose clock
    has not stopped from its original start. Paused deadlines are re-computed and stay paused."""
    limits, internal = limits_for(ticket, ctx)
    changes: dict[str, tuple[Deadline | None, Deadline]] = {}
    for d in ticket.deadlines:
        if d.state not in OPEN_STATES or d.name not in limits:
            continue
        due = ctx.calendar.add(d.started_at, duration(limits[d.name]))
        target = ctx.calendar.add(d.started_at, duration(internal[d.name])) if d.name in internal else None
        guessed = provisional(ctx, (limits[d.name], due), (internal.get(d.name), target))
        if (due == d.due_at and target == d.internal_due_at and limits[d.name] == d.limit
                and guessed == d.provisional):
            continue
        changes[d.name] = (d, attrs.evolve(d, due_at=due, internal_due_at=target, limit=limits[d.name],
                                           provisional=guessed))
    return _recomputed(ticket, changes, ctx, cause=cause, fresh=False, reason=reason)


def recompute_provisional(ticket: Ticket, ctx: Context) -> Decision | None:
    """Compute the ticket's provisional deadlines again, once the calendar has the year they
    fall in: each open one (running, near-overdue, overdue or paused) is re-computed from its
    original start with its limit, like a reclassification re-computes. One
    ``deadlines_recomputed`` event (cause ``calendar_year_added``) keeps the old and the new due
    times, the timers are set again, and the flag is cleared — or kept, with the better due time,
    if the deadline still runs past the data. ``None`` when nothing changes (the calendar still
    lacks the year, or the ticket has no open provisional deadline).

    Like a reclassification, the re-computation starts from ``started_at``: working time a
    deadline was paused before (C5) is not added again. Met and cancelled deadlines are left as
    they were judged.
    """
    internal = limits_for(ticket, ctx)[1]
    changes: dict[str, tuple[Deadline | None, Deadline]] = {}
    for d in ticket.deadlines:
        if not d.provisional or d.state not in OPEN_STATES:
            continue
        try:
            due = ctx.calendar.add(d.started_at, duration(d.limit))
            target = d.internal_due_at
            if target is not None and d.name in internal:
                target = ctx.calendar.add(d.started_at, duration(internal[d.name]))
        except MissingCalendarYear:  # a calendar without the weekday extension: nothing learnt
            continue
        guessed = provisional(ctx, (d.limit, due), (internal.get(d.name), target))
        if guessed and due == d.due_at and target == d.internal_due_at:
            continue
        changes[d.name] = (d, attrs.evolve(d, due_at=due, internal_due_at=target, provisional=guessed))
    if not changes:
        return None
    changed, timers, cancel, events = _recomputed(ticket, changes, ctx, cause="calendar_year_added", fresh=False)
    return Decision(attrs.evolve(changed, updated_at=ctx.now), tuple(events), tuple(timers), tuple(cancel))


# -- pausing while waiting on the customer (C5) ------------------------------------------------


def _require_pausing(ticket: Ticket, ctx: Context) -> None:
    if not ctx.standard.settings.pause_while_waiting:
        raise RuleRefused(
            ticket.id,
            f"pausing the clock is not allowed: the standard {ctx.standard.name!r} has "
            "settings.pause_while_waiting = false (SPEC C5; set it to true in standard.toml to allow it)",
        )
    if not ticket.is_open:
        raise RuleRefused(ticket.id, f"cannot pause or resume a ticket in state {ticket.state.value!r}")


def pause(ticket: Ticket, ctx: Context, *, reason: str) -> Decision:
    """Stop the clock while waiting on the customer (C5): every running deadline becomes PAUSED
    and its timers are cancelled. The ``pause`` event keeps each deadline's state before the pause,
    which :func:`resume` restores."""
    inputs.prose("reason", reason)
    _require_pausing(ticket, ctx)
    if not reason.strip():
        raise InvalidInput("reason", "pausing the clock needs a reason (what the customer is asked for)")
    if any(d.state is DeadlineState.PAUSED for d in ticket.deadlines):
        raise RuleRefused(ticket.id, "the clock is already paused")
    running = [d for d in ticket.deadlines if d.state in RUNNING_STATES]
    if not running:
        raise RuleRefused(ticket.id, "no deadline is running, there is nothing to pause")
    names = {d.name for d in running}
    deadlines = tuple(attrs.evolve(d, state=DeadlineState.PAUSED) if d.name in names else d
                      for d in ticket.deadlines)
    event = Event(ticket.id, ctx.now, ctx.actor.id, "pause", reason=reason,
                  data={"paused_at": ctx.now.isoformat(),
                        "deadlines": {d.name: {"state": d.state.value, "due_at": d.due_at.isoformat(),
                                               "internal_due_at": _iso(d.internal_due_at)} for d in running}})
    changed = attrs.evolve(ticket, deadlines=deadlines, updated_at=ctx.now)
    cancel = [n for d in running for n in timer_names(d.name)]
    return Decision(changed, (event,), (), tuple(cancel))


def shift(moment: datetime, limit: str, paused_at: datetime, resumed_at: datetime, ctx: Context) -> datetime:
    """``moment`` moved on by the time the clock was paused, measured like the limit is: natural
    time for a natural-hours limit, working time (on the working calendar) for a working-hours or
    working-days limit."""
    if duration(limit).unit.value == "h":
        return moment + (resumed_at - paused_at)
    return ctx.calendar.add_working_hours(moment, ctx.calendar.working_time_between(paused_at, resumed_at))


def resume(ticket: Ticket, ctx: Context, *, paused: Event, reason: str = "") -> Decision:
    """Start the clock again: each paused deadline's due time (and internal target, and
    near-overdue moment) moves on by the paused time (:func:`shift`), its state before the pause
    comes back and its timers not yet consumed at the pause are set again. ``paused`` is the
    ticket's latest ``pause`` event."""
    inputs.prose("reason", reason)
    _require_pausing(ticket, ctx)
    if paused.kind != "pause" or paused.ticket_id != ticket.id:
        raise RuleRefused(ticket.id, "resume needs the ticket's pause event")
    if not any(d.state is DeadlineState.PAUSED for d in ticket.deadlines):
        raise RuleRefused(ticket.id, "the clock is not paused")
    paused_at = datetime.fromisoformat(paused.data["paused_at"])
    before = paused.data.get("deadlines", {})
    deadlines = {d.name: d for d in ticket.deadlines}
    timers: list[Timer] = []
    data: dict[str, Any] = {}
    for d in ticket.deadlines:
        if d.state is not DeadlineState.PAUSED:
            continue
        prior = DeadlineState(before.get(d.name, {}).get("state", DeadlineState.RUNNING.value))
        # Every moment of the deadline moves on by the paused time; the near moment moves with
        # them (started_at is shifted only to place it, and put back below). Compared with the
        # resume moment, the shifted moments say what had passed at the pause moment.
        moved = attrs.evolve(
            d, state=prior,
            due_at=shift(d.due_at, d.limit, paused_at, ctx.now, ctx),
            internal_due_at=shift(d.internal_due_at, d.limit, paused_at, ctx.now, ctx) if d.internal_due_at else None,
            started_at=shift(d.started_at, d.limit, paused_at, ctx.now, ctx),
        )
        if not moved.provisional and provisional(ctx, (d.limit, moved.due_at), (d.limit, moved.internal_due_at)):
            moved = attrs.evolve(moved, provisional=True)
            _warn_provisional(ticket.id, moved, ctx)
        armed, armed_timers = _rearm(ticket.id, moved, moved, ctx, fresh=False)
        # started_at was shifted only to place the near moment; keep the real start
        armed = attrs.evolve(armed, started_at=d.started_at)
        deadlines[d.name] = armed
        timers += armed_timers
        data[d.name] = {"old_due_at": d.due_at.isoformat(), "new_due_at": armed.due_at.isoformat(),
                        "old_internal_due_at": _iso(d.internal_due_at),
                        "new_internal_due_at": _iso(armed.internal_due_at), "state": armed.state.value,
                        **({"provisional": True} if armed.provisional else {})}
    event = Event(ticket.id, ctx.now, ctx.actor.id, "resume", reason=reason,
                  data={"paused_at": paused_at.isoformat(), "resumed_at": ctx.now.isoformat(),
                        "paused_natural_seconds": (ctx.now - paused_at).total_seconds(),
                        "paused_working_seconds": ctx.calendar.working_time_between(paused_at, ctx.now).total_seconds(),
                        "deadlines": data})
    changed = attrs.evolve(ticket, deadlines=tuple(deadlines.values()), updated_at=ctx.now)
    return Decision(changed, (event,), tuple(timers))
