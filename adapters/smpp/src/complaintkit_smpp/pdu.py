"""SMPP 3.4 PDUs, built and parsed by smpplib's command classes — and what smpplib lacks.

Every PDU the adapter and the local SMSC exchange (bind_transceiver/transmitter/receiver and
their responses, submit_sm, deliver_sm and their responses, enquire_link, unbind,
generic_nack) is an instance of one of smpplib's command classes (``smpplib.command``), made
with :func:`make`, written with smpplib's ``generate()`` and read with smpplib's ``parse()``
(:func:`parse`). Names and numbers (commands, statuses, TLV tags) are smpplib's
(``smpplib.command_codes``, ``smpplib.consts``).

What this module adds, because smpplib does not have it:

* :class:`FrameReader` cuts a non-blocking byte stream into PDUs (smpplib reads PDUs only from
  the blocking socket of its own ``Client``, which the adapter's I/O thread cannot use);
* :class:`_SmpplibFixes`, mixed into each command class used, works around where smpplib 2.2
  falls short (see its docstring) — the one place that does.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, ClassVar

from smpplib import command as _cmd
from smpplib import command_codes as _codes
from smpplib import consts as _consts

HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024
RESP = 0x80000000

BIND_RECEIVER = _codes.commands["bind_receiver"]
BIND_TRANSMITTER = _codes.commands["bind_transmitter"]
BIND_TRANSCEIVER = _codes.commands["bind_transceiver"]
SUBMIT_SM = _codes.commands["submit_sm"]
DELIVER_SM = _codes.commands["deliver_sm"]
UNBIND = _codes.commands["unbind"]
ENQUIRE_LINK = _codes.commands["enquire_link"]
GENERIC_NACK = _codes.commands["generic_nack"]

ESME_ROK: int = _consts.SMPP_ESME_ROK
ESME_RINVMSGLEN: int = _consts.SMPP_ESME_RINVMSGLEN
ESME_RINVCMDID: int = _consts.SMPP_ESME_RINVCMDID
ESME_RINVBNDSTS: int = _consts.SMPP_ESME_RINVBNDSTS
ESME_RSYSERR: int = _consts.SMPP_ESME_RSYSERR
ESME_RINVDSTADR: int = _consts.SMPP_ESME_RINVDSTADR
ESME_RINVPASWD: int = _consts.SMPP_ESME_RINVPASWD
ESME_RMSGQFUL: int = _consts.SMPP_ESME_RMSGQFUL
ESME_RTHROTTLED: int = _consts.SMPP_ESME_RTHROTTLED
ESME_RX_T_APPN: int = _consts.SMPP_ESME_RX_T_APPN
ESME_RUNKNOWNERR: int = _consts.SMPP_ESME_RUNKNOWNERR

_TAGS: Mapping[str, int] = _consts.OPTIONAL_PARAMS
_NAMES = {tag: name for name, tag in _TAGS.items()}
TLV_SAR_MSG_REF_NUM = _TAGS["sar_msg_ref_num"]
TLV_SAR_TOTAL_SEGMENTS = _TAGS["sar_total_segments"]
TLV_SAR_SEGMENT_SEQNUM = _TAGS["sar_segment_seqnum"]
TLV_RECEIPTED_MESSAGE_ID = _TAGS["receipted_message_id"]
TLV_MESSAGE_STATE = _TAGS["message_state"]
TLV_NETWORK_ERROR_CODE = _TAGS["network_error_code"]
TLV_MESSAGE_PAYLOAD = _TAGS["message_payload"]

_STATUS_NAMES = {
    value: name[len("SMPP_"):]
    for name, value in vars(_consts).items()
    if name.startswith("SMPP_ESME_R") and isinstance(value, int)
}


def status_name(status: int) -> str:
    """``ESME_RTHROTTLED (0x58)``."""
    return f"{_STATUS_NAMES.get(status, 'ESME_UNKNOWN')} (0x{status:02X})"


class Header:
    """The 16-byte header of a PDU whose body was not read: a command smpplib does not know, or
    a body it cannot parse (``unreadable`` says why)."""

    def __init__(self, command_id: int, status: int, sequence: int, unreadable: str = "") -> None:
        self.command_id = command_id
        self.status = status
        self.sequence = sequence
        self.unreadable = unreadable
        self.command = _COMMAND_NAMES.get(command_id)

    def is_response(self) -> bool:
        return bool(self.command_id & RESP)

    @classmethod
    def of(cls, frame: bytes, unreadable: str = "") -> Header:
        _, command_id, status, sequence = HEADER.unpack_from(frame)
        return cls(command_id, status, sequence, unreadable)


_COMMAND_NAMES = {code: name for name, code in _codes.commands.items()}


class PduError(ValueError):
    """A PDU that cannot be read; ``header`` is what could be (the reader answers and goes on)."""

    def __init__(self, problem: str, header: Header | None = None) -> None:
        super().__init__(problem)
        self.header = header


class FrameReader:
    """Cuts a byte stream into whole PDUs (bytes); raises ``PduError`` on an impossible
    command_length. smpplib has no such thing: its ``Client`` reads its own blocking socket."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while len(self._buf) >= 16:
            length = int.from_bytes(self._buf[:4], "big")
            if length < 16 or length > MAX_PDU:
                raise PduError(f"command_length {length} out of range")
            if len(self._buf) < length:
                break
            out.append(bytes(self._buf[:length]))
            del self._buf[:length]
        return out


class _SmpplibFixes:
    """Where smpplib 2.2 falls short, worked around here and nowhere else.

    1. *Sequence numbers.* A command made without smpplib's ``Client`` cannot be given its
       sequence number: ``Command._set_vars`` skips ``sequence=`` because the stand-in client's
       sequence (0) is not None, so every PDU would go out as sequence 0; and
       ``smpplib.smpp.parse_pdu`` of a request fails without a ``Client`` (the stand-in has no
       ``next_sequence``). :meth:`__init__` sets the number given, and :func:`parse` makes the
       command with the header's number before smpplib reads it.
    2. *Optional parameters (TLVs).* ``parse_optional_params`` raises on a tag it does not know,
       or with ``allow_unknown_opt_params=True`` skips it (the TLV is lost, and a warning is
       logged on the standard ``logging`` tree for every one); a tag it knows but this command
       does not list raises ``KeyError``; it reads an integer TLV with the size it expects, not
       the length the TLV says, so a TLV of another length garbles the rest; and it cuts the
       last character of a C-string TLV sent without its NUL. Here every TLV is kept as sent in
       ``tlvs`` (tag -> value), and set as smpplib's attribute (``receipted_message_id``,
       ``message_state`` …) read by its own length when smpplib knows the tag for this command;
       ``generate()`` writes the ``tlvs`` smpplib does not write itself.
    3. *Truncated bodies.* ``parse_params`` stops silently where the body ends, leaving fields
       None; a C-string without its NUL, or a short_message longer than the body, is read as
       garbage. Here they raise :class:`PduError`.
    4. *Text.* Parsed C-strings are bytes, while ``generate()`` wants str and encodes it as
       latin-1 (raising on other text). Here they are str both ways; text is written as ASCII
       with ``?`` for what ASCII has not.
    """

    name: ClassVar[str]
    params: ClassVar[dict[str, Any]]
    params_order: ClassVar[tuple[str, ...]]
    tlvs: dict[int, bytes]
    status: int
    sequence: int

    def __init__(self, command: str | None = None, *, sequence: int = 0, status: int = 0,
                 tlvs: Mapping[int, bytes] | None = None, **fields: Any) -> None:
        super().__init__(command or self.name, sequence=sequence, status=status,  # type: ignore[call-arg]
                         **fields)
        self.sequence = sequence  # fix 1
        self.status = status
        self.tlvs = dict(tlvs or {})

    @property
    def command_id(self) -> int:
        return _codes.commands[self.name]

    # -- as the adapter uses them
    def encode(self) -> bytes:
        """The body (the PDU without its header), as smpplib writes it."""
        return self.generate_params()  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def decode(cls, body: bytes) -> Any:
        """A command read from its body alone (a deliver_sm body, say)."""
        pdu = cls()
        pdu._read_body(body)
        return pdu

    def _read_body(self, body: bytes) -> None:
        try:
            if body:
                self.parse_params(body)  # type: ignore[attr-defined]
        except PduError:
            raise
        except (struct.error, IndexError, KeyError, TypeError, ValueError) as exc:
            raise PduError(f"unreadable {self.name}: {type(exc).__name__}: {exc}") from None
        self._check_complete(bool(body))

    def _check_complete(self, had_body: bool) -> None:
        for field in self.params_order:
            if self.field_is_optional(field):  # type: ignore[attr-defined]
                break
            param = self.params[field]
            if getattr(self, field, None) is None:
                len_field = getattr(param, "len_field", None)
                if len_field and getattr(self, len_field, None) == 0:
                    setattr(self, field, b"")  # short_message of length 0
                elif had_body or not self.name.endswith("_resp"):
                    raise PduError(f"truncated {self.name} body (no {field})")
                else:  # a response without a body (an error status): fields stay empty
                    setattr(self, field, "" if param.type is str else 0)

    # -- smpplib's parse/generate, overridden where they fall short
    def parse(self, data: bytes) -> None:
        super().parse(data[:16])  # type: ignore[misc]  # the header, as smpplib reads it
        self._read_body(data[16:])

    def _parse_string(self, field: str, data: bytes, pos: int, length: int | None = None
                      ) -> tuple[bytes, int]:
        end = data.find(b"\x00", pos)
        if end < 0:
            raise PduError(f"{self.name}: {field} is not NUL-terminated")
        setattr(self, field, data[pos:end].decode("latin-1"))
        return data, end + 1

    def _parse_ostring(self, field: str, data: bytes, pos: int, length: int | None = None
                       ) -> tuple[bytes, int]:
        if length is None:
            length = int(getattr(self, self.params[field].len_field))
        if pos + length > len(data):
            raise PduError(f"{self.name}: {field} longer than the PDU")
        setattr(self, field, data[pos:pos + length])
        return data, pos + length

    def _parse_int(self, field: str, data: bytes, pos: int) -> tuple[bytes, int]:
        size = self.params[field].size
        if pos + size > len(data):
            raise PduError(f"{self.name}: truncated at {field}")
        setattr(self, field, int.from_bytes(data[pos:pos + size], "big"))
        return data, pos + size

    def parse_optional_params(self, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            if pos + 4 > len(data):
                raise PduError(f"{self.name}: truncated TLV header")
            tag, length = struct.unpack_from(">HH", data, pos)
            value = data[pos + 4:pos + 4 + length]
            if len(value) != length:
                raise PduError(f"{self.name}: TLV 0x{tag:04X} longer than the PDU")
            self.tlvs[tag] = value
            name = _NAMES.get(tag)
            param = self.params.get(name) if name else None
            if param is not None and name is not None:
                if param.type is int:
                    setattr(self, name, int.from_bytes(value, "big") if value else None)
                elif param.type is str:
                    setattr(self, name, value.split(b"\x00", 1)[0].decode("latin-1"))
                else:
                    setattr(self, name, value if param.type is _cmd.ostr else True)
            pos += 4 + length

    def _generate_string(self, field: str) -> bytes:
        value = getattr(self, field) or ""
        raw = value if isinstance(value, bytes) else str(value).encode("ascii", "replace")
        return raw[:self.params[field].max - 1] + b"\x00"

    def generate_params(self) -> bytes:
        body: bytes = super().generate_params()  # type: ignore[misc]
        if not self.tlvs:
            return body
        written = {_TAGS[f] for f in self.params_order
                   if f in _TAGS and self.field_is_optional(f)  # type: ignore[attr-defined]
                   and getattr(self, f, None) not in (None, "", b"")}
        extra = b"".join(struct.pack(">HH", tag, len(value)) + value
                         for tag, value in self.tlvs.items() if tag not in written)
        return body + extra


class BindTransceiver(_SmpplibFixes, _cmd.BindTransceiver):
    name = "bind_transceiver"


class BindTransmitter(_SmpplibFixes, _cmd.BindTransmitter):
    name = "bind_transmitter"


class BindReceiver(_SmpplibFixes, _cmd.BindReceiver):
    name = "bind_receiver"


class BindTransceiverResp(_SmpplibFixes, _cmd.BindTransceiverResp):
    name = "bind_transceiver_resp"


class BindTransmitterResp(_SmpplibFixes, _cmd.BindTransmitterResp):
    name = "bind_transmitter_resp"


class BindReceiverResp(_SmpplibFixes, _cmd.BindReceiverResp):
    name = "bind_receiver_resp"


class SubmitSm(_SmpplibFixes, _cmd.SubmitSM):
    name = "submit_sm"


class SubmitSmResp(_SmpplibFixes, _cmd.SubmitSMResp):
    name = "submit_sm_resp"


class DeliverSm(_SmpplibFixes, _cmd.DeliverSM):
    name = "deliver_sm"


class DeliverSmResp(_SmpplibFixes, _cmd.DeliverSMResp):
    name = "deliver_sm_resp"


class EnquireLink(_SmpplibFixes, _cmd.EnquireLink):
    name = "enquire_link"


class EnquireLinkResp(_SmpplibFixes, _cmd.EnquireLinkResp):
    name = "enquire_link_resp"


class Unbind(_SmpplibFixes, _cmd.Unbind):
    name = "unbind"


class UnbindResp(_SmpplibFixes, _cmd.UnbindResp):
    name = "unbind_resp"


class GenericNack(_SmpplibFixes, _cmd.GenericNAck):
    name = "generic_nack"


#: the body of a submit_sm or deliver_sm (they share a layout): a deliver_sm, as the SMSC sends
ShortMessage = DeliverSm

_CLASSES: dict[str, type[_SmpplibFixes]] = {
    cls.name: cls for cls in (
        BindTransceiver, BindTransmitter, BindReceiver, BindTransceiverResp, BindTransmitterResp,
        BindReceiverResp, SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp, EnquireLink,
        EnquireLinkResp, Unbind, UnbindResp, GenericNack)
}
_BY_ID = {_codes.commands[name]: cls for name, cls in _CLASSES.items()}

#: what :func:`parse` returns
Pdu = _SmpplibFixes | Header


def make(name: str, sequence: int, status: int = 0, **fields: Any) -> Any:
    """smpplib's command ``name`` (``"submit_sm"``) with this sequence number and fields."""
    return _CLASSES[name](sequence=sequence, status=status, **fields)


def encode(name: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    """The whole PDU, as smpplib's ``generate()`` writes it."""
    data: bytes = make(name, sequence, status, **fields).generate()
    return data


def parse(frame: bytes) -> Any:
    """One whole PDU (from :class:`FrameReader`) read by smpplib's command class; a
    :class:`Header` for a command smpplib does not know. Raises :class:`PduError` (with the
    header) when the body cannot be read."""
    header = Header.of(frame)
    cls = _BY_ID.get(header.command_id)
    if cls is None:
        return header
    pdu = cls(sequence=header.sequence, status=header.status)
    try:
        pdu.parse(frame)
    except PduError as exc:
        header.unreadable = str(exc)
        raise PduError(str(exc), header) from None
    return pdu


def raw_frame(command_id: int, sequence: int, body: bytes, status: int = 0) -> bytes:
    """A PDU around a body as given, even a malformed one (the local SMSC's fault injection)."""
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def tlv_int(tlvs: Mapping[int, bytes], tag: int) -> int | None:
    value = tlvs.get(tag)
    if not value:
        return None
    return int.from_bytes(value, "big")
