"""Text for SMS: UCS2 for Chinese, GSM 7-bit for plain text, concatenation by UDH.

Where a text is cut, and how many parts it takes, is the kit's one rule
(:mod:`complaintkit.core.sms_text`, see docs/smpp.md), shared with ``FakeSms``: GSM 7-bit
160/153 septets, UCS2 70/67 code units, never inside a surrogate pair or a GSM escape. This
module encodes the pieces for submit_sm:

* GSM pieces go as data_coding 0, one septet per octet (SMPP carries GSM unpacked).
* UCS2 pieces go as data_coding 8 (UTF-16 big-endian).
* Concatenated parts carry an 8-bit reference UDH (IEI 0x00). The reference comes from a
  per-destination counter (:class:`RefAllocator`), never from a random number.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import attrs

from complaintkit.core.masking import mask_number
from complaintkit.core.sms_text import (
    GSM_BASIC,
    GSM_EXT,
    GSM_PART,
    GSM_SINGLE,
    MAX_PARTS,
    UCS2_PART,
    UCS2_SINGLE,
    is_gsm,
    sms_parts,
    split_gsm,
    split_sms,
    split_ucs2,
)

__all__ = [
    "DC_GSM", "DC_LATIN1", "DC_UCS2", "GSM_BASIC", "GSM_EXT", "GSM_PART", "GSM_SINGLE",
    "MAX_PARTS", "UCS2_PART", "UCS2_SINGLE", "EncodedText", "RefAllocator", "TextTooLong",
    "encode_text", "gsm_decode", "gsm_encode", "is_gsm", "mask_number", "mask_text",
    "part_count", "split_gsm", "split_ucs2", "udh_8bit",
]

DC_GSM = 0x00
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

_GSM_INDEX = {ch: i for i, ch in enumerate(GSM_BASIC) if ch != "\x1b"}
_GSM_EXT_REV = {v: k for k, v in GSM_EXT.items()}
assert len(GSM_BASIC) == 128


class TextTooLong(ValueError):
    """More than 255 parts: no SMS can carry it."""


@attrs.define(frozen=True)
class EncodedText:
    data_coding: int
    #: the user data of each part, UDH included when there is more than one part
    parts: tuple[bytes, ...]
    #: True when the parts carry a UDH (esm_class 0x40 must be set)
    udhi: bool

    @property
    def count(self) -> int:
        return len(self.parts)


def gsm_encode(text: str) -> bytes:
    """Unpacked GSM 7-bit: one septet per octet, extension characters as ESC + code."""
    out = bytearray()
    for ch in text:
        if ch in _GSM_INDEX:
            out.append(_GSM_INDEX[ch])
        else:
            out += bytes((0x1B, GSM_EXT[ch]))
    return bytes(out)


def gsm_decode(data: bytes) -> str:
    """Decode unpacked GSM 7-bit; octets ≥ 0x80 are read as Latin-1 (many SMSCs send that)."""
    out: list[str] = []
    escape = False
    for b in data:
        if escape:
            out.append(_GSM_EXT_REV.get(b, " "))
            escape = False
        elif b == 0x1B:
            escape = True
        elif b < 0x80:
            out.append(GSM_BASIC[b])
        else:
            out.append(bytes([b]).decode("latin-1"))
    return "".join(out)


def udh_8bit(ref: int, total: int, seq: int) -> bytes:
    return bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq))


def encode_text(text: str, ref: int | None = None, *, allow_gsm: bool = True,
                max_parts: int = MAX_PARTS) -> EncodedText:
    """Encode ``text`` for submit_sm. ``ref`` is needed only when the text needs several parts."""
    split = split_sms(text, allow_gsm=allow_gsm)
    pieces = split.pieces
    if split.gsm:
        coding, encode = DC_GSM, gsm_encode
    else:
        coding, encode = DC_UCS2, (lambda s: s.encode("utf-16-be"))
    if len(pieces) > max_parts:
        raise TextTooLong(f"{len(pieces)} parts, at most {max_parts} allowed")
    if len(pieces) == 1:
        return EncodedText(coding, (encode(pieces[0]),), False)
    if ref is None:
        raise ValueError("a concatenated message needs a reference")
    total = len(pieces)
    return EncodedText(
        coding,
        tuple(udh_8bit(ref, total, i + 1) + encode(p) for i, p in enumerate(pieces)),
        True,
    )


def part_count(text: str, *, allow_gsm: bool = True) -> int:
    """How many parts ``encode_text`` makes of ``text``: the kit's rule, ``sms_parts``."""
    return sms_parts(text, allow_gsm=allow_gsm)


class RefAllocator:
    """Concatenation references: a counter per destination, so two long messages to the same
    number in a row never share a reference (until 256 long messages to that number).

    A new destination starts at a point derived from the clock at start-up (not random), so a
    restart does not begin again at the same reference the previous process used last.
    Thread-safe; remembers at most ``max_destinations`` numbers (least recently used dropped).
    """

    def __init__(self, max_destinations: int = 100_000, start: int | None = None) -> None:
        self._next: OrderedDict[str, int] = OrderedDict()
        self._start = (int(time.time()) if start is None else start) & 0xFF
        self._max = max_destinations
        self._lock = threading.Lock()

    def next(self, destination: str) -> int:
        with self._lock:
            ref = self._next.pop(destination, self._start)
            self._next[destination] = (ref + 1) & 0xFF
            if len(self._next) > self._max:
                self._next.popitem(last=False)
            return ref


def mask_text(text: str) -> str:
    """Never log message text: only its length."""
    return f"<{len(text)} chars>"
