"""Every hook a complaintkit plugin may implement, grouped by phase.

A plugin is a module or object registered in the ``complaintkit`` entry-point group whose
functions carry :data:`complaintkit.hookimpl`. Hooks named ``*_transport``, ``*_publisher`` and
``*_client`` *provide* a stateful object once at start-up; the others are *called* for each event.
Built-in defaults are registered last (``trylast``), so any installed plugin overrides them.

Each hook below says when it is called, what it gets and what it must return; ``docs/hooks/``
has a page per hook, and the test suite fails when one is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from complaintkit.core.calendar import CalendarYear, DayOverride
    from complaintkit.core.model import Event, Ticket
    from complaintkit.engine.registry import Part
    from complaintkit.ports.boss import BossCrm
    from complaintkit.ports.transports import EmailTransport, LocalSmsc, OaPublisher, SmsTransport
    from complaintkit.standard import Standard

from complaintkit.hooks.markers import hookspec

# -- start-up: the province standard ----------------------------------------------------------


@hookspec(firstresult=True)
def complaintkit_standard() -> Standard | None:
    """Provide the province standard the kit runs on.

    Called once when a :class:`~complaintkit.ComplaintKit` starts without an explicit standard.
    Return a :class:`~complaintkit.standard.Standard` (usually ``load_standard(folder)``), or
    ``None`` to let the next plugin answer. The first non-``None`` answer wins; the network-wide
    baseline plugin answers last.
    """


@hookspec
def complaintkit_calendar_overrides(standard: Standard) -> Sequence[DayOverride | CalendarYear]:  # type: ignore[empty-body]
    """Add years to the working calendar, and add or correct days.

    Called once at start-up, after the standard is chosen, with that ``standard``. Return a list of
    :class:`~complaintkit.core.calendar.CalendarYear` (a whole year from the State Council notice:
    its holidays and make-up workdays; from then on the year is part of the calendar's data) and
    :class:`~complaintkit.core.calendar.DayOverride` (one day: a local holiday, a correction), or
    ``None``. All plugins' answers are applied, after the standard's own ``calendar.toml``.
    """


@hookspec
def complaintkit_parts() -> Sequence[Part]:  # type: ignore[empty-body]
    """Add parts of the complaint process: commands, timer kinds, detectors, listeners.

    Called once when a :class:`~complaintkit.ComplaintKit` starts. Return a list of
    :class:`~complaintkit.engine.registry.Part`. The kit's own parts (intake, time limits,
    online follow-up, reports …) are internal plugins answering this hook; a province plugin or a
    vendor adds its own the same way (``docs/architecture.md`` has a worked example). Two parts
    may not register the same name, timer kind or detector.
    """


# -- start-up: adapters that carry messages out --------------------------------------------------


@hookspec(firstresult=True)
def complaintkit_sms_transport(settings: Mapping[str, Any]) -> SmsTransport | None:
    """Provide the SMS transport (an SMPP bind, an HTTP gateway …).

    Called once when the outbox worker starts, with the ``sms`` section of the kit's settings.
    Return an object implementing :class:`~complaintkit.ports.transports.SmsTransport`, or ``None``.
    The worker owns it from then on and calls ``close()`` when it stops.
    """


@hookspec(firstresult=True)
def complaintkit_email_transport(settings: Mapping[str, Any]) -> EmailTransport | None:
    """Provide the e-mail transport for reminders, digests and warnings.

    Called once when the outbox worker starts, with the ``email`` section of the kit's settings.
    Return an :class:`~complaintkit.ports.transports.EmailTransport`, or ``None``.
    """


@hookspec(firstresult=True)
def complaintkit_oa_publisher(settings: Mapping[str, Any]) -> OaPublisher | None:
    """Provide the client that publishes warnings to the OA platform (SPEC J3).

    To be called once by the warnings publisher (SPEC J) with the ``oa`` section of the kit's
    settings; this release defines the seam and its fake (``FakeOa``) but nothing calls it yet.
    Return an object with ``publish(warning) -> str`` (the OA document id), or ``None``.
    """


@hookspec(firstresult=True)
def complaintkit_local_smsc() -> LocalSmsc | None:
    """Provide an SMSC on loopback for the demo and for tests.

    Called by ``complaintkit demo`` when no ``--smsc`` is given. Return a started SMSC, usable as
    a context manager, with ``settings`` (a mapping for ``complaintkit_sms_transport``) and
    ``inject_mo(sender, to, text)`` to deliver a customer's SMS; or ``None``.
    """


# -- start-up: the operator's business systems ----------------------------------------------------


@hookspec(firstresult=True)
def complaintkit_boss_client(settings: Mapping[str, Any]) -> BossCrm | None:
    """Provide the BOSS/CRM client (SPEC M1).

    Called once at start-up with the ``boss`` section of the kit's settings. Return an object
    implementing :class:`~complaintkit.ports.boss.BossCrm` — customer profile, value tier and star
    level, subscriptions, bills, Monternet unsubscribe, refunds — or ``None``.
    """


# -- lifecycle events -------------------------------------------------------------------------------


@hookspec
def complaintkit_ticket_changed(ticket: Ticket, events: Sequence[Event]) -> None:
    """A command changed a ticket.

    Called after the command's transaction committed, with the ticket as stored and the events the
    command recorded (``events[i].kind`` is the action: ``accept``, ``dispatch``, ``reply``,
    ``archive``, ``overdue`` …). The return value is ignored. An exception here is logged with the
    plugin's name and does not undo the committed change.
    """


@hookspec
def complaintkit_major_complaint(ticket: Ticket) -> None:
    """A ticket was marked as a major complaint (SPEC E1): start the province's emergency plan.

    Called after the transaction that marked it committed. The return value is ignored.
    """


@hookspec
def complaintkit_sensitive_ticket(ticket: Ticket, marker: str) -> None:
    """A ticket was marked sensitive-customer or potential-escalation (SPEC E5).

    Called after commit with the ``marker`` value (``sensitive`` or ``potential_escalation``), so
    the province's own flow can take over. The return value is ignored.
    """


@hookspec
def complaintkit_escalation(ticket: Ticket, source: str, reason: str) -> None:
    """A ticket goes to the province's escalation flow (升级处理流程).

    Called once, after the transaction that decided it committed: ``source`` is ``tracking``
    (SPEC F2: two tracking rounds without resolution) or ``remedy`` (SPEC G3: a remedy ticket
    still dissatisfied, the company at fault or the complaint mishandled); ``reason`` says why.
    The ticket's final result is cleared: it may be archived only once the escalation's result is
    recorded (``kit.record(final_result=...)``). The return value is ignored.
    """


# -- the command line -----------------------------------------------------------------------------


@hookspec
def complaintkit_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``complaintkit`` command line.

    Called at most once per process, with the top-level group, when the commands are listed or
    a name that is not a built-in command is looked up; ``cli.commands["bench"]`` is the
    benchmark group. Add commands with ``add_command``. The return value is ignored.
    """
