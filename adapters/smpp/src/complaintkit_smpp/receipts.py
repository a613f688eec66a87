"""What arrives in deliver_sm: delivery receipts and customer replies (MO).

Message-id normalisation (the one rule, used for ``SendResult.remote_ids`` and
``DeliveryReceipt.remote_id`` alike): an id is read as a number in the base configured for where
it came from (``resp_id_base`` for submit_sm_resp and the receipted_message_id TLV, which SMPP
says carries the same id; ``dlr_id_base`` for the ``id:`` of the receipt text), and written as
lower-case hexadecimal without leading zeros (``"0000001A"`` hex and ``"26"`` decimal both become
``"1a"``). An id that is not a number in its base (a UUID, say) is kept as text: stripped,
lower-cased, leading zeros removed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import attrs

from complaintkit.core.masking import mask_number
from complaintkit.logging import get_logger
from complaintkit.ports.transports import DeliveryReceipt, DeliveryState, InboundSms

from . import pdu as P
from .text import DC_GSM, DC_LATIN1, DC_UCS2, gsm_decode

log = get_logger(__name__)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

ESM_RECEIPT_MASK = 0x3C  # message type bits 2..5; receipts set 0x04 (SMSC receipt)
ESM_UDHI = 0x40

_STAT = {
    "DELIVRD": DeliveryState.DELIVERED,
    "DELIVERED": DeliveryState.DELIVERED,
    "UNDELIV": DeliveryState.UNDELIVERABLE,
    "UNDELIVERABLE": DeliveryState.UNDELIVERABLE,
    "EXPIRED": DeliveryState.EXPIRED,
    "REJECTD": DeliveryState.REJECTED,
    "REJECTED": DeliveryState.REJECTED,
    "DELETED": DeliveryState.DELETED,
    "UNKNOWN": DeliveryState.UNKNOWN,
}
#: intermediate states: no DeliveryReceipt is produced for them
_INTERMEDIATE = {"ENROUTE", "ACCEPTD", "ACCEPTED"}
_MESSAGE_STATE_TLV = {
    1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
    7: "UNKNOWN", 8: "REJECTD",
}

_FIELD = re.compile(
    r"(id|sub|dlvrd|submit date|done date|stat|err|text)\s*:\s*(.*?)"
    r"(?=\s+(?:id|sub|dlvrd|submit date|done date|stat|err|text)\s*:|$)",
    re.IGNORECASE | re.DOTALL,
)


def normalise_id(raw: str | bytes, base: str = "hex") -> str:
    """See the module docstring. ``base`` is ``"hex"``, ``"dec"`` or ``"text"``."""
    if isinstance(raw, bytes):
        raw = raw.split(b"\x00", 1)[0].decode("ascii", "replace")
    value = raw.strip()
    if base in ("hex", "dec"):
        try:
            return format(int(value, 16 if base == "hex" else 10), "x")
        except ValueError:
            pass
    value = value.lower().lstrip("0")
    return value or "0"


def parse_receipt_text(text: str) -> dict[str, str]:
    """``id:123 sub:001 dlvrd:001 submit date:2405011200 done date:... stat:DELIVRD err:000``."""
    return {m.group(1).lower(): m.group(2).strip() for m in _FIELD.finditer(text)}


def parse_smpp_date(value: str, tz: timezone = CHINA) -> datetime | None:
    digits = value.strip()
    fmt = {10: "%y%m%d%H%M", 12: "%y%m%d%H%M%S"}.get(len(digits))
    if fmt is None or not digits.isdigit():
        return None
    try:
        return datetime.strptime(digits, fmt).replace(tzinfo=tz)
    except ValueError:
        return None


@attrs.define
class Malformed:
    """Inbound that could not be read cleanly (logged, kept, never raised)."""

    reason: str
    sender: str = ""
    at: float = attrs.Factory(time.time)


def decode_user_data(data: bytes, data_coding: int) -> tuple[str, str]:
    """Decode user data; returns (text, problem) where problem is "" if it decoded cleanly."""
    problem = ""
    if data_coding == DC_UCS2:
        if len(data) % 2:
            problem = "odd-length UCS2"
        text = data.decode("utf-16-be", "replace")
    elif data_coding in (DC_GSM, 0x01):
        text = gsm_decode(data)
    elif data_coding == DC_LATIN1:
        text = data.decode("latin-1")
    elif data_coding == 0x0F:  # GB2312/GBK, as some Chinese SMSCs send
        text = data.decode("gb18030", "replace")
    else:
        problem = f"unsupported data_coding 0x{data_coding:02X}"
        text = data.decode("latin-1")
    return text, problem


def parse_udh(data: bytes) -> tuple[tuple[int, int, int] | None, bytes]:
    """Return ((ref, total, seq) or None, user data without the UDH); raise PduError if broken."""
    if not data:
        raise P.PduError("UDHI set but no user data")
    udhl = data[0]
    if udhl + 1 > len(data):
        raise P.PduError("UDH longer than the message")
    header, rest = data[1:udhl + 1], data[udhl + 1:]
    concat = None
    pos = 0
    while pos < len(header):
        if pos + 2 > len(header):
            raise P.PduError("truncated UDH element")
        iei, iel = header[pos], header[pos + 1]
        value = header[pos + 2:pos + 2 + iel]
        if len(value) != iel:
            raise P.PduError("UDH element longer than the UDH")
        if iei == 0x00 and iel == 3:
            concat = (value[0], value[1], value[2])
        elif iei == 0x08 and iel == 4:
            concat = ((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + iel
    if concat is not None and (concat[1] == 0 or not 1 <= concat[2] <= concat[1]):
        raise P.PduError(f"bad concatenation numbers {concat[2]}/{concat[1]}")
    return concat, rest


@attrs.define
class _Pending:
    total: int
    data_coding: int
    first_seen: float
    parts: dict[int, bytes] = attrs.Factory(dict)
    #: an expired concatenation whose hand-over failed is offered again from this time
    retry_at: float = 0.0
    expired: bool = False


#: takes one decoded item; returns once it is stored, raises when it was not
Accept = Callable[[DeliveryReceipt | InboundSms], None]


class InboundDecoder:
    """Turns deliver_sm bodies into DeliveryReceipt / InboundSms; reassembles concatenated MO.

    Incomplete concatenations are flushed after ``reassembly_timeout`` seconds with the parts
    that arrived (a customer reply is never dropped), and recorded as malformed.

    With ``accept`` (``decode(body, accept)``, ``expire(accept=...)``) each item is handed over
    before the decoder forgets it: when ``accept`` raises, the exception propagates and the
    decoder keeps what it needs to produce the item again — for the last part of a
    concatenation, the other parts stay waiting, so the same last part delivered again completes
    the message; an expired concatenation is offered again after ``retry_interval``.
    """

    def __init__(self, *, resp_id_base: str = "hex", dlr_id_base: str = "hex",
                 reassembly_timeout: float = 600.0, tz: timezone = CHINA,
                 clock: Callable[[], float] = time.monotonic,
                 retry_interval: float = 5.0) -> None:
        self.resp_id_base = resp_id_base
        self.dlr_id_base = dlr_id_base
        self.reassembly_timeout = reassembly_timeout
        self.retry_interval = retry_interval
        self.tz = tz
        self.clock = clock
        self.malformed: list[Malformed] = []
        self._pending: dict[tuple[str, str, int, int], _Pending] = {}

    # -- receipts ---------------------------------------------------------------------------
    def receipt(self, sm: P.DeliverSm) -> DeliveryReceipt | None:
        """The receipt in a deliver_sm smpplib has read (its TLVs are smpplib's attributes)."""
        text, _ = decode_user_data(sm.short_message or sm.message_payload or b"", sm.data_coding)
        fields = parse_receipt_text(text)
        remote_id = ""
        if sm.receipted_message_id:
            remote_id = normalise_id(sm.receipted_message_id, self.resp_id_base)
        elif fields.get("id"):
            remote_id = normalise_id(fields["id"], self.dlr_id_base)
        stat = ""
        state_tlv = sm.message_state
        if state_tlv is not None:
            stat = _MESSAGE_STATE_TLV.get(state_tlv, "UNKNOWN")
        elif fields.get("stat"):
            stat = fields["stat"].upper()
        if not remote_id or not stat:
            self._bad("receipt without id or state", sm.source_addr)
            return None
        if stat in _INTERMEDIATE:
            log.debug("smpp.receipt.intermediate", stat=stat, remote_id=remote_id)
            return None
        state = _STAT.get(stat, DeliveryState.UNKNOWN)
        error = ""
        net = sm.network_error_code
        if net and len(net) == 3:
            error = f"{net[0]}:{int.from_bytes(net[1:], 'big')}"
        elif fields.get("err"):
            error = fields["err"]
        at = parse_smpp_date(fields.get("done date", ""), self.tz)
        return DeliveryReceipt(remote_id=remote_id, state=state, at=at, error_code=error)

    # -- MO ---------------------------------------------------------------------------------
    def mo(self, sm: P.DeliverSm, received_at: datetime | None = None) -> InboundSms | None:
        """The reply, or None while a concatenation waits for more parts."""
        sms, done = self._assemble(sm, received_at)
        if done is not None:
            done(True)
        return sms

    def _assemble(self, sm: P.DeliverSm, received_at: datetime | None = None
                  ) -> tuple[InboundSms | None, Callable[[bool], None] | None]:
        """The reply (or None) and, for a completed concatenation, ``done(stored)``: forget the
        parts when stored, or take the last part back out so that its re-delivery completes it."""
        data = sm.short_message or sm.message_payload or b""
        concat = None
        if sm.esm_class & ESM_UDHI:
            try:
                concat, data = parse_udh(data)
            except P.PduError as exc:
                self._bad(f"bad UDH: {exc}", sm.source_addr)
                data = data[data[0] + 1:] if data and data[0] + 1 <= len(data) else data
        if concat is None and sm.sar_msg_ref_num is not None:
            ref = sm.sar_msg_ref_num
            total = sm.sar_total_segments or 0
            seq = sm.sar_segment_seqnum or 0
            if total >= 1 and 1 <= seq <= total:
                concat = (ref, total, seq)
            else:
                self._bad(f"bad sar_* numbers {seq}/{total}", sm.source_addr)
        if concat is None or concat[1] == 1:
            return self._finish(sm.source_addr, sm.destination_addr, data, sm.data_coding,
                                received_at), None
        ref, total, seq = concat
        key = (sm.source_addr, sm.destination_addr, ref, total)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(total, sm.data_coding, self.clock())
        if seq in pending.parts:
            log.info("smpp.mo.duplicate_part", sender=mask_number(sm.source_addr), seq=seq)
        pending.parts[seq] = data
        if len(pending.parts) < total:
            return None, None
        # complete only now, so ``seq`` was not there before: taking it out restores the wait
        joined = b"".join(pending.parts[i] for i in range(1, total + 1))
        sms = self._finish(sm.source_addr, sm.destination_addr, joined, pending.data_coding,
                           received_at)

        def done(stored: bool) -> None:
            if stored:
                self._pending.pop(key, None)
            else:
                pending.parts.pop(seq, None)

        return sms, done

    def expire(self, received_at: datetime | None = None,
               accept: Accept | None = None) -> list[InboundSms]:
        """Flush concatenations older than ``reassembly_timeout`` with the parts that came.

        With ``accept``, only what it took is flushed and returned; the rest is offered again
        after ``retry_interval``."""
        now = self.clock()
        out: list[InboundSms] = []
        for key, pending in list(self._pending.items()):
            if now - pending.first_seen < self.reassembly_timeout or now < pending.retry_at:
                continue
            if not pending.expired:
                pending.expired = True
                self._bad(f"incomplete concatenation: {len(pending.parts)}/{pending.total} parts",
                          key[0])
            joined = b"".join(pending.parts[i] for i in sorted(pending.parts))
            sms = self._finish(key[0], key[1], joined, pending.data_coding, received_at)
            if accept is not None:
                try:
                    accept(sms)
                except Exception:  # noqa: BLE001 - kept: its parts were acknowledged already
                    pending.retry_at = now + self.retry_interval
                    continue
            del self._pending[key]
            out.append(sms)
        return out

    def _finish(self, sender: str, to: str, data: bytes, coding: int,
                received_at: datetime | None) -> InboundSms:
        text, problem = decode_user_data(data, coding)
        if problem:
            self._bad(problem, sender)
        return InboundSms(sender=sender, to=to, text=text,
                          received_at=received_at or datetime.now(self.tz))

    def _bad(self, reason: str, sender: str) -> None:
        self.malformed.append(Malformed(reason, mask_number(sender)))
        del self.malformed[:-1000]
        log.warning("smpp.inbound.malformed", reason=reason, sender=mask_number(sender))

    # -- dispatch ---------------------------------------------------------------------------
    def decode(self, body: bytes | P.DeliverSm, accept: Accept | None = None
               ) -> list[DeliveryReceipt | InboundSms]:
        """Decode one deliver_sm body (read with smpplib's DeliverSM), or a deliver_sm read
        already. Never raises for the body; with ``accept``, hands the item to it first and lets
        its exception through (see the class docstring)."""
        if isinstance(body, P.DeliverSm):
            sm = body
        else:
            try:
                sm = P.DeliverSm.decode(body)
            except P.PduError as exc:
                self._bad(f"undecodable deliver_sm: {exc}", "")
                return []
        done: Callable[[bool], None] | None = None
        try:
            item: DeliveryReceipt | InboundSms | None
            if sm.esm_class & ESM_RECEIPT_MASK:
                item = self.receipt(sm)
            else:
                item, done = self._assemble(sm)
        except Exception as exc:  # noqa: BLE001 - the reader must survive anything
            self._bad(f"{type(exc).__name__}: {exc}", sm.source_addr)
            return []
        if item is None:
            return []
        if accept is not None:
            try:
                accept(item)
            except BaseException:
                if done is not None:
                    done(False)
                raise
        if done is not None:
            done(True)
        return [item]
