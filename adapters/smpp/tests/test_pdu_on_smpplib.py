"""The PDUs are smpplib's command classes; what smpplib 2.2 gets wrong is worked around in
``complaintkit_smpp.pdu`` (each test shows smpplib's own behaviour next to the adapter's)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import smpplib.command
import smpplib.smpp
from complaintkit_smpp import pdu as P

from complaintkit.ports.transports import SendOutcome, SmsRequest


class StubClient:
    """smpplib's parse_pdu of a request needs a Client for a sequence number it then overwrites."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


def theirs(frame: bytes, **options: object) -> Any:
    """The frame as smpplib's own parser reads it."""
    return smpplib.smpp.parse_pdu(frame, client=StubClient(), **options)


def test_every_pdu_is_an_smpplib_command() -> None:
    for name in ("bind_transceiver", "bind_transceiver_resp", "submit_sm", "submit_sm_resp",
                 "deliver_sm", "deliver_sm_resp", "enquire_link", "enquire_link_resp", "unbind",
                 "unbind_resp", "generic_nack"):
        made = P.make(name, 42)
        assert isinstance(made, smpplib.command.Command) and made.command == name
        read = P.parse(made.generate())
        assert type(read) is type(made) and read.sequence == 42
        # and smpplib's own parser reads what the adapter writes
        assert theirs(made.generate()).command == name


def test_submit_sm_fields_round_trip_through_smpplib() -> None:
    frame = P.encode("submit_sm", 7, source_addr="10086", destination_addr="13800000000",
                     short_message="您好".encode("utf-16-be"), data_coding=8, esm_class=0x40,
                     registered_delivery=1, dest_addr_npi=1)
    read = theirs(frame)
    assert (read.destination_addr, read.short_message, read.data_coding) == (
        b"13800000000", "您好".encode("utf-16-be"), 8)
    ours = P.parse(frame)
    assert (ours.source_addr, ours.destination_addr, ours.esm_class, ours.sequence) == (
        "10086", "13800000000", 0x40, 7)


def test_the_sequence_number_is_kept() -> None:
    # smpplib without its Client: the sequence given is ignored, the PDU goes out as 0
    assert smpplib.smpp.make_pdu("enquire_link", sequence=9).sequence == 0
    assert P.make("enquire_link", 9).sequence == 9
    assert P.Header.of(P.encode("submit_sm_resp", 12, message_id="1A")).sequence == 12


def test_unknown_tlvs_are_kept_and_written_again() -> None:
    vendor = {0x1401: b"\x01\x02\x03", 0x0427: bytes([2])}  # a vendor tag, and message_state
    body = P.ShortMessage(source_addr="13812345678", destination_addr="10086", esm_class=0x04,
                          short_message=b"id:1 stat:DELIVRD", tlvs=vendor).encode()
    frame = P.raw_frame(P.DELIVER_SM, 3, body)
    with pytest.raises(smpplib.exceptions.UnknownCommandError):
        theirs(frame)  # smpplib refuses the vendor tag ...
    lenient = theirs(frame, allow_unknown_opt_params=True)
    assert lenient.message_state == 2  # ... or drops it
    ours = P.parse(frame)
    assert ours.tlvs == vendor and ours.message_state == 2
    assert P.parse(ours.generate()).tlvs == vendor


def test_tlvs_are_read_by_their_own_length() -> None:
    # receipted_message_id without its NUL (some SMSCs): smpplib cuts the last character
    body = P.ShortMessage(source_addr="1", destination_addr="2", esm_class=0x04,
                          tlvs={P.TLV_RECEIPTED_MESSAGE_ID: b"0000ABCD"}).encode()
    frame = P.raw_frame(P.DELIVER_SM, 1, body)
    assert theirs(frame).receipted_message_id == b"0000ABC"
    assert P.parse(frame).receipted_message_id == "0000ABCD"
    # a 2-byte message_state (smpplib reads 1 byte and loses its place in the body)
    body = P.ShortMessage(source_addr="1", destination_addr="2", esm_class=0x04,
                          tlvs={P.TLV_MESSAGE_STATE: b"\x00\x05", P.TLV_RECEIPTED_MESSAGE_ID: b"9\x00"}
                          ).encode()
    ours = P.parse(P.raw_frame(P.DELIVER_SM, 1, body))
    assert (ours.message_state, ours.receipted_message_id) == (5, "9")


def test_a_truncated_body_is_an_error_not_empty_fields() -> None:
    frame = P.raw_frame(P.DELIVER_SM, 4, b"\x00\x01")
    assert theirs(frame).source_addr is None  # smpplib: silently incomplete
    with pytest.raises(P.PduError) as caught:
        P.parse(frame)
    assert caught.value.header is not None and caught.value.header.sequence == 4
    with pytest.raises(P.PduError):
        P.parse(P.raw_frame(P.SUBMIT_SM, 5, b"\x00\x00\x0013800"))  # C-string without its NUL


def test_an_error_response_without_a_body_reads_as_empty() -> None:
    resp = P.parse(P.raw_frame(P.SUBMIT_SM | P.RESP, 8, b"", status=P.ESME_RTHROTTLED))
    assert (resp.status, resp.message_id) == (P.ESME_RTHROTTLED, "")


def test_a_command_the_adapter_does_not_know_is_nacked(make_pair) -> None:
    smsc, transport = make_pair()
    seen: list[tuple[int, int, int]] = []
    handle = smsc._handle

    def spy(conn: object, pdu: object) -> None:
        seen.append((pdu.command_id, pdu.status, pdu.sequence))  # type: ignore[attr-defined]
        handle(conn, pdu)

    smsc._handle = spy
    smsc._session().send(P.raw_frame(0x00000103, 77, b"\x00"))  # data_sm
    deadline = time.monotonic() + 3
    while (P.GENERIC_NACK, P.ESME_RINVCMDID, 77) not in seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (P.GENERIC_NACK, P.ESME_RINVCMDID, 77) in seen
    [result] = transport.send_many([SmsRequest("k1", "13800000001", "10086", "still bound")])
    assert result.outcome is SendOutcome.ACCEPTED
