from __future__ import annotations

from datetime import datetime

from complaintkit_smpp import pdu as P
from complaintkit_smpp.receipts import InboundDecoder, normalise_id, parse_receipt_text

from complaintkit.ports.transports import DeliveryReceipt, DeliveryState, InboundSms

TEXT = "id:4096 sub:001 dlvrd:001 submit date:2405011200 done date:240501120530 stat:DELIVRD err:000 text:hello"


def receipt(short_message=b"", tlvs=None, esm=0x04, dc=0):
    return P.ShortMessage(source_addr="13812345678", destination_addr="10086", esm_class=esm,
                          data_coding=dc, short_message=short_message, tlvs=tlvs or {}).encode()


def test_normalise_ids():
    assert normalise_id("0000001A", "hex") == "1a"
    assert normalise_id("26", "dec") == "1a"
    assert normalise_id(b"00ab\x00", "hex") == "ab"
    assert normalise_id(" 0F3E-UUID ", "hex") == "f3e-uuid"  # not a number: kept as text
    assert normalise_id("0", "hex") == "0"


def test_parse_text_fields():
    f = parse_receipt_text(TEXT)
    assert f["id"] == "4096" and f["stat"] == "DELIVRD" and f["done date"] == "240501120530"
    assert f["submit date"] == "2405011200" and f["err"] == "000"


def test_receipt_from_tlvs_wins_over_text():
    dec = InboundDecoder(resp_id_base="hex", dlr_id_base="dec")
    body = receipt(TEXT.replace("DELIVRD", "UNDELIV").encode(), {
        P.TLV_RECEIPTED_MESSAGE_ID: b"00001000\x00",
        P.TLV_MESSAGE_STATE: bytes([2]),
        P.TLV_NETWORK_ERROR_CODE: bytes([3, 0, 7]),
    })
    [r] = dec.decode(body)
    assert r == DeliveryReceipt("1000", DeliveryState.DELIVERED,
                                datetime.fromisoformat("2024-05-01T12:05:30+08:00"), "3:7")


def test_receipt_text_fallback_with_decimal_ids():
    dec = InboundDecoder(resp_id_base="hex", dlr_id_base="dec")
    [r] = dec.decode(receipt(TEXT.encode()))
    assert r.remote_id == "1000"  # 4096 decimal == 0x1000: same id as submit_sm_resp "00001000"
    assert r.state is DeliveryState.DELIVERED
    for stat, state in [("UNDELIV", DeliveryState.UNDELIVERABLE), ("EXPIRED", DeliveryState.EXPIRED),
                        ("REJECTD", DeliveryState.REJECTED), ("DELETED", DeliveryState.DELETED),
                        ("UNKNOWN", DeliveryState.UNKNOWN)]:
        [r] = dec.decode(receipt(TEXT.replace("DELIVRD", stat).encode()))
        assert r.state is state
    assert dec.decode(receipt(TEXT.replace("DELIVRD", "ENROUTE").encode())) == []  # intermediate


def mo(data, esm=0, dc=8, tlvs=None, sender="13900001111"):
    return P.ShortMessage(source_addr=sender, destination_addr="10086", esm_class=esm,
                          data_coding=dc, short_message=data, tlvs=tlvs or {}).encode()


def test_mo_single_ucs2_and_gsm():
    dec = InboundDecoder()
    [m] = dec.decode(mo("1 不满意".encode("utf-16-be")))
    assert isinstance(m, InboundSms) and m.text == "1 不满意" and m.sender == "13900001111"
    [m] = dec.decode(mo(b"1", dc=0))
    assert m.text == "1"


def test_mo_concatenated_8bit_16bit_and_sar_out_of_order():
    text = "问题仍未解决" * 20
    raw = text.encode("utf-16-be")
    halves = [raw[:134], raw[134:]]
    dec = InboundDecoder()
    # 8-bit reference, second part first
    assert dec.decode(mo(bytes([5, 0, 3, 9, 2, 2]) + halves[1], esm=0x40)) == []
    [m] = dec.decode(mo(bytes([5, 0, 3, 9, 2, 1]) + halves[0], esm=0x40))
    assert m.text == text
    # 16-bit reference
    assert dec.decode(mo(bytes([6, 8, 4, 0x12, 0x34, 2, 1]) + halves[0], esm=0x40)) == []
    [m] = dec.decode(mo(bytes([6, 8, 4, 0x12, 0x34, 2, 2]) + halves[1], esm=0x40))
    assert m.text == text
    # sar_* TLVs
    sar = lambda seq: {P.TLV_SAR_MSG_REF_NUM: (77).to_bytes(2, "big"),
                       P.TLV_SAR_TOTAL_SEGMENTS: bytes([2]), P.TLV_SAR_SEGMENT_SEQNUM: bytes([seq])}
    assert dec.decode(mo(halves[0], tlvs=sar(1))) == []
    [m] = dec.decode(mo(halves[1], tlvs=sar(2)))
    assert m.text == text
    assert dec.malformed == []


def test_surrogate_pair_split_across_mo_parts_is_rejoined():
    raw = "好😀".encode("utf-16-be")  # 6 bytes; split inside the pair
    dec = InboundDecoder()
    dec.decode(mo(bytes([5, 0, 3, 1, 2, 1]) + raw[:4], esm=0x40))
    [m] = dec.decode(mo(bytes([5, 0, 3, 1, 2, 2]) + raw[4:], esm=0x40))
    assert m.text == "好😀"


def test_malformed_input_never_raises():
    dec = InboundDecoder()
    assert dec.decode(b"\x00\x01") == []  # truncated body
    [m] = dec.decode(mo("好".encode("utf-16-be") + b"\x00", dc=8))  # odd-length UCS2
    assert m.text.startswith("好")
    [m] = dec.decode(mo(bytes([9, 0, 3]) + b"ab", esm=0x40, dc=0))  # UDH longer than message
    assert isinstance(m, InboundSms)
    [m] = dec.decode(mo(bytes([5, 0, 3, 1, 0, 1]) + b"x", esm=0x40, dc=0))  # total 0
    assert m.text == "x"
    assert dec.decode(receipt(b"garbage")) == []  # receipt without id/stat
    [m] = dec.decode(mo(b"", esm=0x40))  # UDHI but no data: recorded, passed on (never lost)
    assert m.text == ""
    reasons = [m.reason for m in dec.malformed]
    assert any("odd-length" in r for r in reasons)
    assert any("UDH" in r for r in reasons)
    assert all("13900001111" not in (m.sender or "") for m in dec.malformed)


def test_incomplete_concatenation_is_flushed_not_lost():
    now = [0.0]
    dec = InboundDecoder(reassembly_timeout=60, clock=lambda: now[0])
    dec.decode(mo(bytes([5, 0, 3, 4, 3, 1]) + "第一段".encode("utf-16-be"), esm=0x40))
    assert dec.expire() == []
    now[0] = 61
    [m] = dec.expire()
    assert m.text == "第一段"
    assert "incomplete" in dec.malformed[-1].reason
