"""A return visit (回访) as its own record (SPEC G1): channel, when, by whom, outcome, the
customer's words, and the contact attempts of a manual visit (G4)."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs


class VisitChannel(enum.Enum):
    SMS = "sms"
    PHONE = "phone"
    IN_PERSON = "in_person"


class VisitStatus(enum.Enum):
    OPEN = "open"
    DONE = "done"


class VisitReason(enum.Enum):
    """Why the visit was opened."""

    #: G1: the visit every complaint gets after its reply
    REPLY = "reply"
    #: G2: an SMS survey came back dissatisfied
    SMS_DISSATISFIED = "sms_dissatisfied"
    #: an SMS survey got no answer in its window: a person calls instead
    NO_ANSWER = "no_answer"


@attrs.define(frozen=True)
class Attempt:
    """A contact attempt of a manual visit that reached nobody (G4)."""

    at: datetime
    #: the province's period it fell in (``morning``, ``afternoon``, ``evening``)
    period: str
    by: str
    note: str = ""


@attrs.define(frozen=True)
class Visit:
    id: str
    ticket_id: str
    #: the customer's number (an SMS answer is matched by it)
    msisdn: str
    channel: VisitChannel
    status: VisitStatus
    reason: VisitReason
    opened_at: datetime
    #: the visit's limit: the ticket's return-visit deadline, or G2's phone limit
    due_at: datetime
    #: satisfied | basically_satisfied | dissatisfied | unreachable | no_answer ('' while open)
    outcome: str = ""
    done_at: datetime | None = None
    #: who made it (an agent's id; ``customer`` for an SMS answer)
    by: str = ""
    #: what the customer said
    words: str = ""
    #: an SMS survey: when it went out and until when an answer counts
    window_due_at: datetime | None = None
    attempts: tuple[Attempt, ...] = ()
    #: the next attempt the kit scheduled (G4), if any
    next_attempt_at: datetime | None = None
    #: the remedy ticket it opened (G3)
    remedy_id: str = ""

    @property
    def is_open(self) -> bool:
        return self.status is VisitStatus.OPEN

    @property
    def is_manual(self) -> bool:
        return self.channel is not VisitChannel.SMS


__all__ = ["Attempt", "Visit", "VisitChannel", "VisitReason", "VisitStatus"]
