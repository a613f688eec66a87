"""Bad input at the kit's edges (SPEC N4: a clear error naming the field, nothing stored): what
an SMSC delivers, the ticket ids and filters an integrator passes, the database URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from complaintkit.core.errors import InvalidInput, StoreUnavailable, TicketNotFound
from complaintkit.core.model import Actor, Role, TicketState
from complaintkit.engine import inbox
from complaintkit.engine.inbox import InboxSink
from complaintkit.engine.store import Store
from complaintkit.kit import ComplaintKit
from complaintkit.ports.transports import InboundSms

pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")


def inbound(kit: Any) -> list[tuple[Any, ...]]:
    with kit.store.read() as tx:
        return [(r["sender"], r["recipient"], r["text"], r["outcome"])
                for r in tx.conn.exec_driver_sql("SELECT sender, recipient, text, outcome FROM ck_inbound").mappings()]


@pytest.mark.parametrize(("sender", "to", "text"), [
    ("13812345678", "1" * 45, "1"),             # a service number longer than any column
    ("13812345678", "10086", "1\x00"),          # NUL: PostgreSQL refuses it in text
    ("13812345678", "10086", "\ud83d"),         # a lone surrogate: no encoder writes it
    (b"\xff13812345678", "10086", "1"),          # bytes from a transport that did not decode
    ("13812345678", "10086", "好" * 5000),       # longer than any SMS the kit keeps
])
def test_N2_N4_what_an_smsc_delivers_is_recorded_whatever_it_holds(ck_kit: Any, ck_clock: Any,
                                                                   sender: Any, to: Any, text: Any) -> None:
    """Refusing it would make the SMSC deliver it again for ever: it is stored cleaned, recorded
    as malformed, never answered, and the inbox goes on."""
    InboxSink(ck_kit.store, ck_clock).accept(InboundSms(sender, to, text, ck_clock.now()))
    InboxSink(ck_kit.store, ck_clock).accept(InboundSms("13912345678", "10086", "你好", ck_clock.now()))
    assert inbox.process(ck_kit.runner, ck_clock.now()) == 2
    with ck_kit.store.read() as tx:
        assert [(r["state"], r["outcome"]) for r in tx.inbox()] == [("done", "malformed"), ("done", "unmatched")]
    first = inbound(ck_kit)[0]
    assert first[3] == "malformed" and len(first[1]) <= 40 and len(first[2]) <= 4000
    assert "\x00" not in first[2] and not any("\ud800" <= c <= "\udfff" for c in first[2])


@pytest.mark.parametrize(("sms", "field"), [
    (InboundSms("13812345678", "1" * 41, "1"), "sms.to"),
    (InboundSms("13812345678", "10086", "1\x00"), "sms.text"),
    (InboundSms(None, "10086", "1"), "sms.sender"),  # type: ignore[arg-type]
    ("13812345678", "sms"),
])
def test_N4_kit_receive_sms_refuses_fields_the_store_cannot_hold(ck_kit: Any, sms: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ck_kit.receive_sms(sms)
    assert info.value.field == field
    assert inbound(ck_kit) == []


@pytest.mark.parametrize(("ticket_id", "problem"), [
    ("", "empty"), ("CK" + "9" * 40, "more than the 40"), ("CK1\x00", "control character"),
    (None, "expected text"), (12, "expected text"),
])
def test_N4_a_malformed_ticket_id_is_the_callers_error_everywhere(ck_kit: Any, ticket_id: Any,
                                                                  problem: str) -> None:
    calls = [lambda: ck_kit.ticket(ticket_id), lambda: ck_kit.history(ticket_id),
             lambda: ck_kit.reply(ticket_id, DESK, result="已解决")]
    for call in calls:
        with pytest.raises(InvalidInput) as info:
            call()
        assert info.value.field == "ticket_id" and problem in str(info.value)
    with pytest.raises(TicketNotFound):
        ck_kit.ticket("CK-NO-SUCH")


@pytest.mark.parametrize(("filters", "field"), [
    ({"colour": "red"}, "filters.colour"),
    ({"state": "accepted"}, "filters.state"),
    ({"states": "accepted"}, "filters.states"),
    ({"msisdn": "not a number"}, "filters.msisdn"),
    ({"since": datetime(2026, 11, 23)}, "filters.since"),
    ({"limit": -1}, "filters.limit"),
    ({"department": "d" * 61}, "filters.department"),
])
def test_N4_ticket_filters_are_checked_before_any_query(ck_kit: Any, filters: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ck_kit.tickets(**filters)
    assert info.value.field == field


def test_ticket_filters_still_find_tickets(ck_kit: Any) -> None:
    ticket = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="call_quality",
                           description="没有信号")
    assert [t.id for t in ck_kit.tickets(msisdn="+86 138 1234 5678", state=ticket.state,
                                          since=datetime(2000, 1, 1, tzinfo=UTC), limit=5)] == [ticket.id]
    assert ck_kit.tickets(states=[TicketState.ARCHIVED]) == []


@pytest.mark.parametrize(("url", "unusable", "says"), [
    ("nonsense://x", True, "not a database URL"),
    ("", True, "empty"),
    ("postgresql://someone:s3cret@127.0.0.1:1/nowhere", False, "cannot open the database"),
    ("sqlite:////no/such/folder/complaints.db", False, "cannot open the database"),
])
def test_N4_a_database_the_kit_cannot_use_is_one_clear_error(url: str, unusable: bool, says: str) -> None:
    for opener in (Store.open, ComplaintKit.open):
        with pytest.raises(StoreUnavailable) as info:
            opener(url)
        assert info.value.unusable is unusable and says in str(info.value)
        assert "s3cret" not in str(info.value)
