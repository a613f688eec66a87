"""The domain's values: tickets, customers, events, deadlines, timers and outgoing messages.

Every type is a frozen attrs class; a change is a new value (``attrs.evolve``). Values are built
with named constructors (``Msisdn.parse``, ``Ticket.new``), never from a loose ``**dict``; the
store turns them into rows and back through the private converter in :mod:`complaintkit.core.codec`.
The names follow SPEC.md's glossary and stay mappable to TMF621 (ticket) and TMF681 (message).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput
from complaintkit.core.masking import mask_number, msisdn_digits


def _valid_digits(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or msisdn_digits(value) != value:
        raise InvalidInput("msisdn", f"{mask_number(value)!r} is not 11 digits of a Chinese mobile number")


@attrs.define(frozen=True)
class Msisdn:
    """A Chinese mobile number, 11 digits, without country code."""

    digits: str = attrs.field(validator=_valid_digits)

    @classmethod
    def parse(cls, text: str, *, field: str = "msisdn") -> Msisdn:
        """Accept every form of :data:`complaintkit.core.masking.MSISDN`: ``13812345678``,
        ``138 1234 5678``, ``138-1234-5678``, ``+86 138 1234 5678``, ``008613812345678`` …

        Anything else is refused with :class:`InvalidInput` naming ``field``; the refused value is
        shown masked, because error messages end up in logs.
        """
        if not isinstance(text, str):
            raise InvalidInput(field, f"expected a mobile number as text, got {type(text).__name__}")
        digits = msisdn_digits(text)
        if digits is None:
            raise InvalidInput(
                field,
                f"{mask_number(text[:40])!r} is not a valid Chinese mobile number "
                "(11 digits starting 13–19, optionally +86)",
            )
        return cls(digits)

    def masked(self) -> str:
        return mask_number(self.digits)

    def __str__(self) -> str:
        return self.digits


class Channel(enum.Enum):
    """Where a complaint came in (SPEC A1)."""

    HOTLINE = "hotline"  # 10086 / 10000
    WEBSITE = "website"
    BUSINESS_HALL = "business_hall"
    ACCOUNT_MANAGER = "account_manager"
    SMS = "sms"
    IM_APP = "im_app"
    LETTER = "letter"
    EMAIL = "email"


class TicketKind(enum.Enum):
    NORMAL = "normal"
    ONLINE_FOLLOW_UP = "online_follow_up"
    REMEDY = "remedy"


class TicketState(enum.Enum):
    """The lifecycle's states (SPEC A2), with the online follow-up branch (SPEC B)."""

    ACCEPTED = "accepted"
    IN_HANDLING = "in_handling"
    REPLIED = "replied"
    RETURN_VISIT = "return_visit"
    ARCHIVED = "archived"
    #: an online follow-up waiting for its confirmation SMS and the customer's answer
    FOLLOW_UP = "follow_up"


class Urgency(enum.Enum):
    """The standard's urgency tiers (SPEC C1 defaults: 48 h / 24 h / 4 h)."""

    GENERAL = "general"
    IMPORTANT = "important"
    URGENT = "urgent"


class Marker(enum.Enum):
    """Special markers (特殊工单标识)."""

    NEAR_OVERDUE = "near_overdue"
    OVERDUE = "overdue"
    REPEAT = "repeat"
    BATCH = "batch"
    MAJOR = "major"
    SENSITIVE = "sensitive"
    POTENTIAL_ESCALATION = "potential_escalation"
    ESCALATED = "escalated"
    MISDISPATCHED = "misdispatched"
    TRACKING = "tracking"


class Role(enum.Enum):
    FRONT_DESK = "front_desk"
    SPECIALIST = "specialist"
    BACK_OFFICE = "back_office"
    DEPARTMENT = "department"
    SYSTEM = "system"


@attrs.define(frozen=True)
class Actor:
    """Who did something: a person with a role, or the system itself."""

    id: str = attrs.field(validator=inputs.validator("actor.id", inputs.line, limit="actor", required=True))
    role: Role = attrs.field(validator=inputs.validator("actor.role", inputs.instance, kind=Role))
    department: str = attrs.field(default="", validator=inputs.validator("actor.department", inputs.line,
                                                                            limit="department"))

    @classmethod
    def system(cls) -> Actor:
        return cls("system", Role.SYSTEM)


@attrs.define(frozen=True)
class Customer:
    """The complaining customer, with the facts the CRM gave at acceptance."""

    msisdn: Msisdn = attrs.field(validator=inputs.validator("customer.msisdn", inputs.instance, kind=Msisdn))
    name: str = attrs.field(default="", validator=inputs.validator("customer.name", inputs.line, limit="name"))
    #: customer value tier (客户价值等级), e.g. "high", "medium", "low"
    value_tier: str = attrs.field(default="medium", validator=inputs.validator(
        "customer.value_tier", inputs.line, limit="tier"))
    #: star level (星级), 0 = none … 7 = diamond
    star_level: int = attrs.field(default=0, validator=inputs.validator(
        "customer.star_level", inputs.whole_number, low=0, high=7))
    #: the customer's area (the city the CRM gives): the dispatch standard may route by it (D1)
    city: str = attrs.field(default="", validator=inputs.validator("customer.city", inputs.line, limit="code"))


@attrs.define(frozen=True)
class HandlingRecord:
    """What self-handling must record before a ticket may be archived (SPEC A5)."""

    verification: str = ""
    contact_attempts: tuple[datetime, ...] = ()
    final_result: str = ""
    satisfaction: str = ""

    def missing(self) -> list[str]:
        names = []
        if not self.verification:
            names.append("verification")
        if not self.contact_attempts:
            names.append("contact_attempts")
        if not self.final_result:
            names.append("final_result")
        if not self.satisfaction:
            names.append("satisfaction")
        return names


class DeadlineState(enum.Enum):
    RUNNING = "running"
    MET = "met"
    NEAR_OVERDUE = "near_overdue"
    OVERDUE = "overdue"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@attrs.define(frozen=True)
class Deadline:
    """A time limit the ticket runs against (SPEC C)."""

    #: which limit: "total", "dispatch", "handling", "reply", "return_visit", "follow_up_reply" …
    name: str
    started_at: datetime
    due_at: datetime
    #: the limit as written in the standard ("48h", "3wd", "12wh")
    limit: str = ""
    #: the stricter internal target (SPEC C4), if any
    internal_due_at: datetime | None = None
    state: DeadlineState = DeadlineState.RUNNING
    met_at: datetime | None = None
    #: computed past the working calendar's data, on the weekday rule: it may move when the year
    #: is added (time_limits.recompute_provisional); stored tickets from before have no such key
    provisional: bool = False


@attrs.define(frozen=True)
class Ticket:
    """A complaint ticket (SPEC A1); TMF621 TroubleTicket maps onto it."""

    id: str
    kind: TicketKind
    state: TicketState
    customer: Customer
    channel: Channel
    category: str
    description: str
    urgency: Urgency
    created_at: datetime
    updated_at: datetime
    #: first-responder owner of record (SPEC A3): never changes after acceptance
    owner: str
    #: who works on it now
    handler: str
    department: str = ""
    markers: frozenset[Marker] = frozenset()
    deadlines: tuple[Deadline, ...] = ()
    record: HandlingRecord = attrs.field(factory=HandlingRecord)
    #: online follow-up: the problem type from the standard's follow-up table
    problem_type: str = ""
    #: free-form facts carried with the ticket (warm-transfer notes, province extras)
    notes: tuple[str, ...] = ()
    #: ticket this one continues (remedy ticket → its complaint)
    parent_id: str = ""
    #: the channel's reference to the call recording of the acceptance (quality inspection, I1)
    recording: str = ""
    #: times it was forwarded as misdispatched since it last had an owner (D5)
    bounces: int = 0
    #: the lead department the complaint-management department decided on (D5): binding
    lead_department: str = ""
    #: optimistic-concurrency counter, bumped by every committed change
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.state is not TicketState.ARCHIVED

    def deadline(self, name: str) -> Deadline | None:
        for d in self.deadlines:
            if d.name == name:
                return d
        return None


@attrs.define(frozen=True)
class Event:
    """One thing that happened to a ticket: who, when, what, why (SPEC A2)."""

    ticket_id: str
    at: datetime
    actor: str
    kind: str
    reason: str = ""
    from_state: TicketState | None = None
    to_state: TicketState | None = None
    data: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(frozen=True)
class Timer:
    """A durable timer: stored with the ticket, fired once by the worker through the rules."""

    ticket_id: str
    name: str
    due_at: datetime
    data: dict[str, Any] = attrs.field(factory=dict)


class MessageChannel(enum.Enum):
    SMS = "sms"
    EMAIL = "email"
    OA = "oa"


class MessageState(enum.Enum):
    """TMF681 communication-message states, plus the delivery receipt's verdict."""

    INITIAL = "initial"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    FAILED = "failed"


@attrs.define(frozen=True)
class OutgoingMessage:
    """A message the rules decided to send; written to the outbox in the command's transaction."""

    #: idempotency key: the same decision always yields the same key
    key: str
    channel: MessageChannel
    to: str
    text: str
    ticket_id: str = ""
    subject: str = ""
    #: the template it was rendered from, for reports
    template: str = ""
    sender: str = ""


@attrs.define(frozen=True)
class Decision:
    """What a rule decided: the new ticket and everything that goes with it in one transaction."""

    ticket: Ticket
    events: tuple[Event, ...] = ()
    set_timers: tuple[Timer, ...] = ()
    #: names of this ticket's pending timers to cancel
    cancel_timers: tuple[str, ...] = ()
    messages: tuple[OutgoingMessage, ...] = ()
