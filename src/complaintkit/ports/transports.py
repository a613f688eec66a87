"""The seams between the kit and the systems that carry messages out of it.

A transport is a stateful object that a plugin *provides* (an SMPP bind, an SMTP connection, an
OA client). The outbox worker hands it batches of requests and reads back one result per request;
inbound traffic (delivery receipts, customer replies) is collected by the transport and drained
by the worker, so every kit command runs on the worker's own thread.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, Self, runtime_checkable

import attrs

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput


class SendOutcome(enum.Enum):
    """What became of one request handed to a transport."""

    #: accepted by the far end (for SMS: every part acknowledged by the SMSC)
    ACCEPTED = "accepted"
    #: not accepted now, may succeed later (throttled, queue full, connection lost, timeout)
    RETRY = "retry"
    #: refused for good (invalid destination, message too long, ...): never retried
    FAILED = "failed"


@attrs.define(frozen=True)
class SmsRequest:
    """One SMS the process decided to send."""

    #: the outbox row's idempotency key; a transport may use it to suppress a re-send
    key: str
    #: destination MSISDN, 11 digits (``13812345678``)
    to: str
    #: the service port it is sent from (``10086``)
    sender: str
    #: the whole text; the transport splits it into parts as the protocol needs
    text: str


@attrs.define(frozen=True)
class SendResult:
    """The transport's answer for one request."""

    key: str
    outcome: SendOutcome
    #: the far end's id(s) for what was sent (one per SMS part), normalised
    remote_ids: tuple[str, ...] = ()
    #: how many parts the message was split into
    parts: int = 1
    #: a short reason when not accepted ("ESME_RTHROTTLED (0x58)", "connection lost", ...)
    detail: str = ""
    #: False when the far end never judged this message (no connection, transport closed): the
    #: outbox tries it again without using up one of its attempts, so an outage of any length
    #: delays messages but never fails them
    reached: bool = True


class DeliveryState(enum.Enum):
    """A delivery receipt's final state (TMF681: completed / failed)."""

    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DELETED = "deleted"
    UNKNOWN = "unknown"


@attrs.define(frozen=True)
class DeliveryReceipt:
    """The far end's report on a message it accepted earlier."""

    #: the id the far end gave when it accepted the message, normalised like ``remote_ids``
    remote_id: str
    state: DeliveryState
    at: datetime | None = None
    error_code: str = ""


@attrs.define(frozen=True)
class InboundSms:
    """A customer's SMS to a service port (mobile-originated), parts already reassembled.

    A transport builds it from what the far end sent, which may be anything; the kit takes it in
    through :meth:`parse` (or :meth:`checked`), so a value the store cannot hold is a clear
    :class:`InvalidInput` naming the field, never a driver error after it was half recorded.
    """

    sender: str
    to: str
    text: str
    received_at: datetime | None = None

    @classmethod
    def parse(cls, sender: Any, to: Any, text: Any, received_at: Any = None) -> InboundSms:
        """An inbound SMS whose every field the store can hold: sender and service number are
        one line of at most 40 characters, the text is prose of at most 4000 (newlines allowed),
        ``received_at`` a timezone-aware datetime or None. Whether the sender is a mobile
        number is not judged here: an SMS from a malformed number is still an SMS to record."""
        inputs.line("sms.sender", sender, limit="address")
        inputs.line("sms.to", to, limit="address")
        inputs.prose("sms.text", text)
        if received_at is not None and (not isinstance(received_at, datetime) or received_at.tzinfo is None):
            raise InvalidInput("sms.received_at", "expected a timezone-aware datetime")
        return cls(sender, to, text, received_at)

    def checked(self) -> InboundSms:
        """This SMS, if :meth:`parse` accepts its fields; else :class:`InvalidInput`."""
        return InboundSms.parse(self.sender, self.to, self.text, self.received_at)

    def storable(self) -> InboundSms:
        """This SMS with every field made storable (:func:`complaintkit.core.inputs.storable`):
        what an SMSC delivered is recorded whatever it holds, since refusing it would only make
        the SMSC deliver it again."""
        received = self.received_at
        if not isinstance(received, datetime) or received.tzinfo is None:
            received = None
        return InboundSms(inputs.storable(self.sender, limit="address"), inputs.storable(self.to, limit="address"),
                          inputs.storable(self.text, limit="prose", prose=True), received)


class MalformedSms(InboundSms):
    """An inbound SMS whose fields had to be cleaned before they could be stored (bytes, control
    characters, lone surrogates, too long): recorded, never answered as a reply."""


@attrs.define(frozen=True)
class EmailRequest:
    """One e-mail the process decided to send (a reminder, an alert, a digest)."""

    #: the outbox row's idempotency key
    key: str
    #: department codes (``network_dept``) or addresses; a transport resolves them with
    #: :func:`~complaintkit.ports.recipients.resolve_recipients`
    to: tuple[str, ...]
    subject: str
    body: str


class InboundSink(Protocol):
    """Where a transport hands what arrives from the far end: the kit's durable inbox.

    ``accept`` returns only after the item is committed to the database; a transport answers the
    far end (``deliver_sm_resp``) only after it returns. When it raises, the item was *not*
    stored: the transport must answer with a temporary error so that the far end delivers it
    again (SMPP: ``ESME_RX_T_APPN``, 0x64). It may be called from the transport's own thread.
    """

    def accept(self, item: DeliveryReceipt | InboundSms) -> None: ...


#: called by a transport as each request's fate is known, from any thread
ResultCallback = Callable[[SendResult], None]


@runtime_checkable
class SmsTransport(Protocol):
    """What an SMS plugin provides (see the ``complaintkit_sms_transport`` hook)."""

    def send_many(self, requests: Sequence[SmsRequest]) -> list[SendResult]:
        """Send a batch; return one result per request, in any order, keyed by ``key``.

        Blocks until every request in the batch is either accepted, refused, or judged worth a
        retry. A transport pipelines the batch as its protocol allows (an SMPP window).

        A transport that takes ``on_result`` (keyword) calls it with each request's result as
        soon as that is known — for SMPP, when the last part's ``submit_sm_resp`` arrives — so
        the outbox records every message as it is acknowledged, and a crash re-sends at most
        what was in flight. The returned list still holds every result.
        """
        ...

    def drain_inbound(self) -> list[DeliveryReceipt | InboundSms]:
        """Return and forget what arrived since the last call (never blocks).

        Only for transports without ``set_inbound_sink``: what they hold in memory is lost if
        the process dies before the worker drains it."""
        ...

    # Optional: ``set_inbound_sink(sink: InboundSink) -> None``. A transport that has it hands
    # every customer reply and receipt to the sink *before* acknowledging it to the far end
    # (see InboundSink); the worker calls it once, before the first send.

    def close(self) -> None:
        """Release connections; the transport is not used afterwards."""
        ...


@runtime_checkable
class EmailTransport(Protocol):
    """What an e-mail plugin provides (see the ``complaintkit_email_transport`` hook)."""

    def send_many(self, requests: Sequence[EmailRequest]) -> list[SendResult]:
        """Send a batch; return one result per request, keyed by ``key``, as for SMS.

        A request whose department code has no addresses is ``FAILED``, never retried.
        """
        ...

    def close(self) -> None:
        """Release connections; the transport is not used afterwards."""
        ...


@runtime_checkable
class OaPublisher(Protocol):
    """What the OA plugin provides (see the ``complaintkit_oa_publisher`` hook, SPEC J3)."""

    def publish(self, warning: object) -> str:
        """Publish a warning to the OA platform; return the OA document id."""
        ...


@runtime_checkable
class LocalSmsc(Protocol):
    """A started SMSC on loopback for the demo and tests (``complaintkit_local_smsc``)."""

    #: the ``sms`` settings that bind a transport to it
    settings: Mapping[str, Any]

    def inject_mo(self, sender: str, to: str, text: str) -> None:
        """Deliver a customer's SMS to the bound transport."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
