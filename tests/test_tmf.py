"""The model stays mappable to TMF621 (Trouble Ticket) and TMF681 (Communication Message)."""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit.core.model import Actor, Role
from complaintkit.interop.tmf import communication_message, trouble_ticket

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")


def test_trouble_ticket_carries_status_history_parties_and_dates(ck_kit: Any) -> None:
    t = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="call_quality",
                      description="通话断续")
    t = ck_kit.reply(t.id, Actor("n1", Role.DEPARTMENT, "network_dept"), result="已修复")
    resource = trouble_ticket(t, ck_kit.history(t.id))
    assert resource["status"] == "resolved" and resource["ticketType"] == "complaint"
    assert [c["status"] for c in resource["statusChange"]] == ["acknowledged", "inProgress", "resolved"]
    assert {p["role"]: p["id"] for p in resource["relatedParty"]} == {
        "customer": "13812345678", "firstResponder": "fd001", "handler": "dept:network_dept"}
    assert resource["expectedResolutionDate"] == t.deadline("total").due_at.isoformat()
    assert resource["severity"] == "minor" and resource["channel"] == {"name": "hotline"}


def test_communication_message_from_the_outbox(ck_kit: Any, ck_clock: Any, ck_worker: Any) -> None:
    ck_kit.open_follow_up(DESK, msisdn="13912345678", problem_type="call_quality", category="hotline",
                          description="x")
    ck_clock.advance(hours=2)
    with ck_kit.store.read() as tx:
        message = communication_message(tx.messages()[0])
    assert message["messageType"] == "SMS" and message["state"] == "completed"
    assert message["receiver"] == [{"id": "13912345678"}] and message["sender"] == {"id": "10086"}
