"""The model as TM Forum resources: TMF621 Trouble Ticket and TMF681 Communication Message.

For operators whose other systems speak the industry's ticket API: a complaintkit ticket, its
history and its messages map onto TMF621 and TMF681 without loss of what those APIs can carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from complaintkit.core.model import Event, Marker, Ticket, TicketKind, TicketState, Urgency

#: TMF621 v4 ticket statuses for our lifecycle states
STATUS = {
    TicketState.ACCEPTED: "acknowledged",
    TicketState.IN_HANDLING: "inProgress",
    TicketState.REPLIED: "resolved",
    TicketState.RETURN_VISIT: "resolved",
    TicketState.ARCHIVED: "closed",
    TicketState.FOLLOW_UP: "pending",
}
TICKET_TYPE = {
    TicketKind.NORMAL: "complaint",
    TicketKind.ONLINE_FOLLOW_UP: "onlineFollowUp",
    TicketKind.REMEDY: "remedy",
}
SEVERITY = {Urgency.GENERAL: "minor", Urgency.IMPORTANT: "major", Urgency.URGENT: "critical"}


def trouble_ticket(ticket: Ticket, history: Iterable[Event] = ()) -> dict[str, Any]:
    """``ticket`` (and its events) as a TMF621 ``TroubleTicket``."""
    total = ticket.deadline("total")
    reply = ticket.deadline("reply")
    first = Marker.MAJOR in ticket.markers or Marker.REPEAT in ticket.markers
    resource: dict[str, Any] = {
        "@type": "TroubleTicket",
        "id": ticket.id,
        "name": ticket.category,
        "description": ticket.description,
        "ticketType": TICKET_TYPE[ticket.kind],
        "status": STATUS[ticket.state],
        "severity": SEVERITY[ticket.urgency],
        "priority": "high" if first else ("medium" if ticket.urgency is not Urgency.GENERAL else "low"),
        "creationDate": ticket.created_at.isoformat(),
        "lastUpdate": ticket.updated_at.isoformat(),
        "channel": {"name": ticket.channel.value},
        "relatedParty": [
            {"id": ticket.customer.msisdn.digits, "role": "customer", "@referredType": "Individual"},
            {"id": ticket.owner, "role": "firstResponder"},
            {"id": ticket.handler, "role": "handler"},
        ],
        "note": [{"text": text} for text in ticket.notes],
        "statusChange": [
            {"status": STATUS[e.to_state], "changeDate": e.at.isoformat(), "changeReason": e.reason or e.kind}
            for e in history if e.to_state is not None and e.to_state is not e.from_state
        ],
        "characteristic": [{"name": "marker", "value": m.value} for m in sorted(ticket.markers, key=lambda m: m.value)],
    }
    if total is not None:
        resource["expectedResolutionDate"] = total.due_at.isoformat()
    if reply is not None:
        resource["requestedResolutionDate"] = reply.due_at.isoformat()
    if ticket.state is TicketState.ARCHIVED:
        resource["resolutionDate"] = ticket.updated_at.isoformat()
    return resource


def communication_message(row: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox row (``store.messages()``) as a TMF681 ``CommunicationMessage``."""
    return {
        "@type": "CommunicationMessage",
        "id": row["key"],
        "messageType": "SMS" if row["channel"] == "sms" else row["channel"].upper(),
        "content": row["text"],
        "subject": row["subject"] or None,
        "state": row["state"],
        "sender": {"id": row["sender"]},
        "receiver": [{"id": row["recipient"]}],
        "characteristic": [
            {"name": "attempts", "value": row["attempts"]},
            {"name": "parts", "value": row["parts"]},
            {"name": "delivery", "value": row["delivery"] or "unknown"},
        ],
    }
