"""Special tickets (特殊工单, SPEC E1–E3, E5): pure rules.

- **Major complaint (E1)** — marked at acceptance or later; urgent from then on (its running
  deadlines are re-computed), first in every queue; the province's emergency plan (the
  ``complaintkit_major_complaint`` hook) is called once, after the commit.
- **Batch complaint (E2)** — the front desk records each caller's number against the open batch
  request of a category and area; when the callers reach the threshold of the standard
  (``dispatch.toml`` ``[[batch_threshold]]``, else ``settings.batch_threshold``) a batch warning
  starts and the lead department is told by e-mail. Clearing the warning queues one SMS per
  recorded caller in the same transaction — each caller once, whatever happens after.
- **Repeat complaint (E3)** — at acceptance: the same customer complained within
  ``repeat_window_days`` (default 30) about the same *category family* — the ancestor at
  ``settings.repeat_category_level`` of the tree (1 = the top level: 基础通信, 资费计费 …), and
  that complaint had already been handled (replied, in return visit or archived: S002's
  "一线处理后重复投诉"; a second call while the first is still open is a reminder, not a repeat).
  Marked, handled at least at ``settings.repeat_urgency`` (the 24 h tier of the baseline) and
  routed up to a high-skill handler (D6).
- **Sensitive / potential escalation (E5)** — marked at acceptance or later; the province's flow
  (the ``complaintkit_sensitive_ticket`` hook) is called once per marking, after the commit.

Nothing here imports the lifecycle module (the lifecycle uses :func:`repeat_of` at acceptance).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import ComplaintKitError, InvalidInput, RuleRefused
from complaintkit.core.model import (
    Decision,
    Event,
    Marker,
    MessageChannel,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
    Urgency,
)
from complaintkit.engine.context import Context
from complaintkit.parts.time_limits import rules as time_limits
from complaintkit.standard import Standard

#: the markers a handler may set after acceptance, and the hook each one calls
LATER_MARKERS = {Marker.MAJOR: "major", Marker.SENSITIVE: "sensitive",
                 Marker.POTENTIAL_ESCALATION: "potential_escalation"}
_URGENCY_ORDER = (Urgency.GENERAL, Urgency.IMPORTANT, Urgency.URGENT)
#: a previous complaint in these states was handled: a new one about the same is a repeat
HANDLED = (TicketState.REPLIED, TicketState.RETURN_VISIT, TicketState.ARCHIVED)


def at_least(urgency: Urgency, floor: Urgency) -> Urgency:
    return max(urgency, floor, key=_URGENCY_ORDER.index)


# -- E3: repeat complaints ----------------------------------------------------------------------------------


def family(standard: Standard, category: str) -> str | None:
    """The category family two complaints must share to be "the same" (E3)."""
    try:
        path = standard.category_path(category)
    except ComplaintKitError:
        return None  # a category the standard no longer has
    return path[min(standard.settings.repeat_category_level, len(path)) - 1]


def repeat_of(ticket: Ticket, previous: Sequence[Ticket], ctx: Context) -> Ticket | None:
    """The customer's latest handled complaint of the same family within the window, if any."""
    if ticket.kind is not TicketKind.NORMAL:
        return None
    window = timedelta(days=ctx.standard.settings.repeat_window_days)
    mine = family(ctx.standard, ticket.category)
    found = [t for t in previous
             if t.id != ticket.id and t.kind is TicketKind.NORMAL and t.state in HANDLED
             and ctx.now - t.created_at <= window and family(ctx.standard, t.category) == mine]
    return max(found, key=lambda t: (t.created_at, t.id), default=None)


def mark_repeat(ticket: Ticket, ctx: Context) -> Ticket:
    """The repeat marker and the repeat urgency (E3: handled first, within 24 h)."""
    floor = Urgency(ctx.standard.settings.repeat_urgency)
    return attrs.evolve(ticket, markers=ticket.markers | {Marker.REPEAT}, urgency=at_least(ticket.urgency, floor))


# -- E1, E5: markers set later --------------------------------------------------------------------------------


def mark(ticket: Ticket, marker: Marker, ctx: Context, *, reason: str) -> Decision:
    """Mark a ticket major, sensitive or potential-escalation after acceptance (E1, E5).

    A major complaint becomes urgent and its running deadlines are re-computed from their start.
    Marking twice is refused, so the province's hook runs once per marking.
    """
    inputs.prose("reason", reason)
    if marker not in LATER_MARKERS:
        raise InvalidInput("marker", f"{marker.value!r} cannot be set by hand "
                                     f"(use one of {', '.join(m.value for m in LATER_MARKERS)})")
    if not reason.strip():
        raise InvalidInput("reason", f"marking a ticket {marker.value} needs a reason")
    if not ticket.is_open:
        raise RuleRefused(ticket.id, f"cannot mark a ticket in state {ticket.state.value!r}")
    if marker in ticket.markers:
        raise RuleRefused(ticket.id, f"already marked {marker.value}")
    changed = attrs.evolve(ticket, markers=ticket.markers | {marker}, updated_at=ctx.now)
    event = Event(ticket.id, ctx.now, ctx.actor.id, "mark", reason=reason, from_state=ticket.state,
                  to_state=ticket.state, data={"marker": marker.value})
    if marker is not Marker.MAJOR or ticket.urgency is Urgency.URGENT:
        return Decision(changed, (event,))
    changed = attrs.evolve(changed, urgency=Urgency.URGENT)
    event = attrs.evolve(event, data={**event.data, "from_urgency": ticket.urgency.value, "urgency": "urgent"})
    changed, timers, cancel, recomputed = time_limits.recompute(changed, ctx, cause="mark_major", reason=reason)
    return Decision(changed, (event, *recomputed), tuple(timers), tuple(cancel))


# -- E2: batch complaints ---------------------------------------------------------------------------------------


@attrs.define(frozen=True)
class Batch:
    """A batch complaint request: the callers of one category and area, and its warning."""

    id: str
    category: str
    area: str
    #: collecting | warning | cleared
    state: str
    threshold: int
    lead_department: str
    callers: int
    opened_at: datetime
    opened_by: str
    warning_at: datetime | None = None
    cleared_at: datetime | None = None
    cleared_by: str = ""
    result: str = ""


@attrs.define(frozen=True)
class CallerRecorded:
    """What recording one caller decided: the batch as it is now, whether the number was new, and
    the e-mail to the lead department when this caller started the warning."""

    batch: Batch
    new_caller: bool
    new_batch: bool
    warning_started: bool
    messages: tuple[OutgoingMessage, ...] = ()


def open_batch(batch_id: str, category: str, area: str, ctx: Context) -> Batch:
    """A new batch request for a category and area: its threshold and lead department from the
    standard (the dispatch standard's department for it, else the complaint-management one)."""
    standard = ctx.standard
    path = standard.category_path(category)
    threshold = standard.dispatch.batch_threshold_for(path, area, standard.settings.batch_threshold)
    route = standard.dispatch.route_for(path, area)
    lead = (route.department if route else "") or standard.category(category).department \
        or standard.settings.complaint_department
    return Batch(batch_id, category, area, "collecting", threshold, lead, 0, ctx.now, ctx.actor.id)


def record_callers(open_: Batch | None, new_id: str, category: str, area: str, numbers: Sequence[str],
                   known: set[str], ctx: Context) -> tuple[Batch, list[str], bool, tuple[OutgoingMessage, ...]]:
    """Record callers' numbers against the open batch of the category and area (E2).

    ``known``: numbers already recorded in it (each caller counts once). Returns the batch, the
    numbers newly recorded, whether this call started the warning, and the e-mail if so.
    """
    inputs.line("category", category, limit="category", required=True)
    inputs.line("area", area, limit="code")
    batch = open_ if open_ is not None else open_batch(new_id, category, area, ctx)
    fresh = []
    seen = set(known)
    for n in numbers:
        if n not in seen:
            seen.add(n)
            fresh.append(n)
    batch = attrs.evolve(batch, callers=batch.callers + len(fresh))
    if batch.state != "collecting" or batch.callers < batch.threshold:
        return batch, fresh, False, ()
    batch = attrs.evolve(batch, state="warning", warning_at=ctx.now)
    return batch, fresh, True, (warning_mail(batch, ctx),)


def warning_mail(batch: Batch, ctx: Context) -> OutgoingMessage:
    problem = ctx.standard.category(batch.category).name
    values = {"batch_id": batch.id, "problem": problem, "area": batch.area or "全省", "count": batch.callers,
              "threshold": batch.threshold, "department": batch.lead_department}
    if "batch_warning" in ctx.standard.templates:
        text = ctx.standard.render("batch_warning", **values)
    else:
        text = f"batch warning {batch.id}: {problem} ({values['area']}), {batch.callers} callers"
    return OutgoingMessage(key=f"batch:{batch.id}:warning", channel=MessageChannel.EMAIL, to=batch.lead_department,
                           subject=f"[batch warning] {problem} {values['area']}: {batch.callers} callers",
                           text=text, template="batch_warning")


def clear(batch: Batch, callers: Sequence[str], ctx: Context, *, result: str) -> tuple[Batch, tuple[OutgoingMessage, ...]]:
    """Clear a batch warning: one SMS per recorded caller saying the problem is solved (E2).

    Refused unless the warning is on — a warning cleared twice sends nothing twice. The keys
    ``batch:<id>:solved:<number>`` make each caller's SMS one outbox row whatever happens.
    """
    inputs.prose("result", result)
    home = ctx.standard.settings.complaint_department
    if ctx.actor.department not in (batch.lead_department, home):
        raise RuleRefused(batch.id, f"only the lead department ({batch.lead_department!r}) or the "
                                    f"complaint-management department clears a batch warning")
    if batch.state == "cleared":
        raise RuleRefused(batch.id, f"the batch warning was already cleared at {batch.cleared_at:%Y-%m-%d %H:%M}"
                          if batch.cleared_at else "the batch warning was already cleared")
    if batch.state != "warning":
        raise RuleRefused(batch.id, f"no batch warning to clear: {batch.callers} of {batch.threshold} callers")
    settings = ctx.standard.settings
    problem = ctx.standard.category(batch.category).name
    text = (ctx.standard.render("batch_solved", problem=problem) if "batch_solved" in ctx.standard.templates
            else f"您反映的{problem}问题已解决。")
    messages = tuple(OutgoingMessage(key=f"batch:{batch.id}:solved:{n}", channel=MessageChannel.SMS, to=n,
                                     text=text, sender=settings.service_port, template="batch_solved")
                     for n in callers)
    cleared = attrs.evolve(batch, state="cleared", cleared_at=ctx.now, cleared_by=ctx.actor.id, result=result)
    return cleared, messages


def summary(batch: Batch) -> dict[str, Any]:
    return attrs.asdict(batch)


__all__ = ["HANDLED", "LATER_MARKERS", "Batch", "CallerRecorded", "at_least", "clear", "family", "mark",
           "mark_repeat", "open_batch", "record_callers", "repeat_of", "summary", "warning_mail"]
