"""What the parts of the process register: timer kinds, detectors, inbound handlers, listeners.

A :class:`Part` is plain data; a plugin returns it from the ``complaintkit_parts`` hook (the kit's
own parts are internal plugins doing just that). The kit builds one :class:`Registry` from every
part at start-up and refuses two parts that claim the same name, timer kind, detector or inbound
kind — so routing a timer is a dictionary lookup, not a chain of prefixes in one module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from complaintkit.core.errors import PluginError
from complaintkit.core.model import Decision, Event, Ticket, Timer
from complaintkit.engine.context import Context
from complaintkit.engine.declarations import Command, Need, Outcome

#: a timer's rule: the ticket it belongs to, the timer, the context → what changes (a Decision;
#: an Outcome when it changes a part's own rows or runs a further command)
TimerHandler = Callable[[Ticket, Timer, Context], "Decision | Outcome"]
#: called after a command committed, with the kit's plugins
#: (:class:`complaintkit.hooks.manager.Plugins`, to call a province's hooks), the stored ticket
#: and its new events. The plugins are not named in the type: the hooks sit above the engine.
Listener = Callable[[Any, Ticket, Sequence[Event]], None]
#: an inbound item (a customer's SMS, a receipt) and its inbox row id → the command that handles it
InboundHandler = Callable[[Any, int], Command]


@attrs.define(frozen=True)
class TimerKind:
    """Durable timers named ``<kind>`` or ``<kind>:<detail>`` belong to this handler."""

    kind: str
    handler: TimerHandler


@attrs.define(frozen=True)
class Window:
    """The period a detector run covers: ``[start, end)``, ``end - start`` = its ``every``."""

    start: datetime
    end: datetime


@attrs.define(frozen=True)
class Detector:
    """A scheduled, pure scan: once per window, over what ``scan`` declares, it emits commands.

    ``detect(tickets, window, ctx)`` gets the tickets the declaration found and returns the
    commands to run; they run in the same transaction that records the window as done, so a
    detection happens once per window even with several workers, and a crash re-runs it whole.
    """

    name: str
    every: timedelta
    scan: Need
    detect: Callable[[Sequence[Ticket], Window, Context], Sequence[Command]]


@attrs.define(frozen=True)
class Veto:
    """A part's say over an action another part decides (archiving a tracking ticket before its
    final reply, say): before a decision with an event of kind ``action`` is written,
    ``check(decision, facts, ctx)`` may raise :class:`~complaintkit.core.errors.RuleRefused`, and
    the whole command is refused with nothing stored. ``read(tx, ticket_id)`` gives ``facts``
    from the part's own tables (``None`` without it). The check is a pure rule like any other."""

    action: str
    check: Callable[[Decision, Any, Context], None]
    read: Callable[[Any, str], Any] | None = None


@attrs.define(frozen=True)
class Part:
    """One part of the process, as the engine sees it."""

    name: str
    timers: tuple[TimerKind, ...] = ()
    detectors: tuple[Detector, ...] = ()
    #: inbox kind (``sms``, ``receipt``) → the command that handles one inbound item
    inbound: tuple[tuple[str, InboundHandler], ...] = ()
    listeners: tuple[Listener, ...] = ()
    #: refusals of other parts' actions (see :class:`Veto`)
    vetoes: tuple[Veto, ...] = ()
    #: builds this part's namespace on the kit (``kit.parts.<name>``) from the kit
    api: Callable[[Any], object] | None = None
    #: (action, permission) for each command action the part runs: the runner refuses an action
    #: no rule covers, and the kit refuses at start-up a permission the standard does not know
    permissions: tuple[tuple[str, str], ...] = ()


class Registry:
    """Every part's registrations, checked for clashes."""

    def __init__(self, parts: Iterable[tuple[str, Part]]) -> None:
        self.parts: dict[str, Part] = {}
        self.timer_kinds: dict[str, TimerKind] = {}
        self.detectors: dict[str, Detector] = {}
        self.inbound: dict[str, InboundHandler] = {}
        self.listeners: list[Listener] = []
        #: each part's command action → the permission it needs (the kit's own are in
        #: complaintkit.parts.permissions.catalogue.ACTIONS; the permissions part refuses at
        #: start-up a part that maps one of those)
        self.permissions: dict[str, str] = {}
        self.permission_owners: dict[str, str] = {}
        self.vetoes: dict[str, list[Veto]] = {}
        owners: dict[tuple[str, str], str] = {}

        def claim(what: str, name: str, plugin: str, part: str) -> None:
            previous = owners.get((what, name))
            if previous is not None:
                raise PluginError(plugin, "complaintkit_parts",
                                  f"part {part!r} registers {what} {name!r}, already registered by part {previous!r}")
            owners[(what, name)] = part

        for plugin, part in parts:
            if not isinstance(part, Part):
                raise PluginError(plugin, "complaintkit_parts", f"must return Part values, not {part!r}")
            claim("part", part.name, plugin, part.name)
            self.parts[part.name] = part
            for tk in part.timers:
                claim("timer kind", tk.kind, plugin, part.name)
                self.timer_kinds[tk.kind] = tk
            for det in part.detectors:
                claim("detector", det.name, plugin, part.name)
                if det.every <= timedelta(0):
                    raise PluginError(plugin, "complaintkit_parts", f"detector {det.name!r}: every must be positive")
                self.detectors[det.name] = det
            for kind, handler in part.inbound:
                claim("inbound kind", kind, plugin, part.name)
                self.inbound[kind] = handler
            self.listeners.extend(part.listeners)
            for action, permission in part.permissions:
                claim("action", action, plugin, part.name)
                self.permissions[action] = permission
                self.permission_owners[action] = plugin
            for veto in part.vetoes:
                self.vetoes.setdefault(veto.action, []).append(veto)

    def timer_kind(self, timer_name: str) -> TimerKind | None:
        """The registration that owns a timer: by its name up to the first ``:``."""
        return self.timer_kinds.get(timer_name.split(":", 1)[0])


__all__ = ["Detector", "InboundHandler", "Listener", "Part", "Registry", "TimerHandler", "TimerKind", "Veto",
           "Window"]
