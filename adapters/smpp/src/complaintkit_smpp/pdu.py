"""A small, tolerant SMPP 3.4 PDU codec: framing, the PDUs the adapter needs, TLVs.

smpplib's PDU layer is not used on the hot path: its parser raises on unknown TLVs and on
truncated bodies (one bad deliver_sm would stop a reader), and it needs a client object for
sequence numbers. Status names come from ``smpplib.consts`` so they match what operators see in
smpplib-based tools.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import attrs
from smpplib import consts as _smpplib_consts

HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
BIND_TRANSCEIVER = 0x00000009
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000

ESME_ROK = 0x00
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RUNKNOWNERR = 0xFF

# TLV tags
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424

_STATUS_NAMES = {
    value: name[len("SMPP_"):]
    for name, value in vars(_smpplib_consts).items()
    if name.startswith("SMPP_ESME_R") and isinstance(value, int)
}


def status_name(status: int) -> str:
    """``ESME_RTHROTTLED (0x58)``."""
    return f"{_STATUS_NAMES.get(status, 'ESME_UNKNOWN')} (0x{status:02X})"


class PduError(ValueError):
    """A PDU that cannot be decoded (the reader logs it and goes on)."""


@attrs.define
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESP)

    def encode(self) -> bytes:
        return HEADER.pack(16 + len(self.body), self.command_id, self.status, self.sequence) + self.body


class FrameReader:
    """Cuts a byte stream into PDUs; raises ``PduError`` on an impossible command_length."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Pdu]:
        self._buf += data
        out: list[Pdu] = []
        while len(self._buf) >= 16:
            length, command_id, status, seq = HEADER.unpack_from(self._buf)
            if length < 16 or length > MAX_PDU:
                raise PduError(f"command_length {length} out of range")
            if len(self._buf) < length:
                break
            body = bytes(self._buf[16:length])
            del self._buf[:length]
            out.append(Pdu(command_id, status, seq, body))
        return out


def c_string(value: str | bytes, max_len: int = 65) -> bytes:
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    return raw[: max_len - 1] + b"\x00"


def encode_tlvs(tlvs: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(value)) + value for tag, value in tlvs)


def bind_body(system_id: str, password: str, system_type: str = "", ton: int = 0, npi: int = 0,
              address_range: str = "") -> bytes:
    return (c_string(system_id, 16) + c_string(password, 9) + c_string(system_type, 13)
            + bytes([0x34, ton & 0xFF, npi & 0xFF]) + c_string(address_range, 41))


@attrs.define
class ShortMessage:
    """The body of a submit_sm or deliver_sm (they share a layout)."""

    source_addr: str = ""
    destination_addr: str = ""
    short_message: bytes = b""
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: dict[int, bytes] = attrs.Factory(dict)

    def encode(self) -> bytes:
        if len(self.short_message) > 254:
            raise ValueError("short_message longer than 254 octets")
        return (
            c_string(self.service_type, 6)
            + bytes([self.source_addr_ton, self.source_addr_npi])
            + c_string(self.source_addr, 21)
            + bytes([self.dest_addr_ton, self.dest_addr_npi])
            + c_string(self.destination_addr, 21)
            + bytes([self.esm_class, self.protocol_id, self.priority_flag])
            + c_string(self.schedule_delivery_time, 17)
            + c_string(self.validity_period, 17)
            + bytes([self.registered_delivery, self.replace_if_present_flag, self.data_coding,
                     self.sm_default_msg_id, len(self.short_message)])
            + self.short_message
            + encode_tlvs(self.tlvs.items())
        )

    @classmethod
    def decode(cls, body: bytes) -> ShortMessage:
        r = _Cursor(body)
        sm = cls()
        sm.service_type = r.cstr(6)
        sm.source_addr_ton, sm.source_addr_npi = r.u8(), r.u8()
        sm.source_addr = r.cstr(21)
        sm.dest_addr_ton, sm.dest_addr_npi = r.u8(), r.u8()
        sm.destination_addr = r.cstr(21)
        sm.esm_class, sm.protocol_id, sm.priority_flag = r.u8(), r.u8(), r.u8()
        sm.schedule_delivery_time = r.cstr(17)
        sm.validity_period = r.cstr(17)
        sm.registered_delivery, sm.replace_if_present_flag = r.u8(), r.u8()
        sm.data_coding, sm.sm_default_msg_id = r.u8(), r.u8()
        length = r.u8()
        sm.short_message = r.take(length)
        sm.tlvs = decode_tlvs(r.rest())
        return sm


def decode_tlvs(data: bytes) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise PduError("truncated TLV header")
        tag, length = struct.unpack_from(">HH", data, pos)
        pos += 4
        if pos + length > len(data):
            raise PduError(f"TLV 0x{tag:04X} longer than the PDU")
        tlvs[tag] = data[pos:pos + length]
        pos += length
    return tlvs


def decode_message_id(body: bytes) -> str:
    """The message_id of a submit_sm_resp (empty when an error response has no body)."""
    end = body.find(b"\x00")
    raw = body if end < 0 else body[:end]
    return raw.decode("ascii", "replace")


def tlv_int(tlvs: Mapping[int, bytes], tag: int) -> int | None:
    value = tlvs.get(tag)
    if not value:
        return None
    return int.from_bytes(value, "big")


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u8(self) -> int:
        if self.pos >= len(self.data):
            raise PduError("truncated PDU body")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def cstr(self, max_len: int) -> str:
        end = self.data.find(b"\x00", self.pos, self.pos + max_len)
        if end < 0:
            raise PduError("unterminated C-octet string")
        value = self.data[self.pos:end].decode("latin-1")
        self.pos = end + 1
        return value

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PduError("short_message longer than the PDU")
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value

    def rest(self) -> bytes:
        value = self.data[self.pos:]
        self.pos = len(self.data)
        return value
