"""Text for SMS: UCS2 for Chinese, GSM 7-bit for plain text, concatenation by UDH.

Rules (see docs/smpp.md):

* Text made only of GSM 03.38 default-alphabet characters goes as data_coding 0, one septet per
  octet (SMPP carries GSM unpacked): 160 septets in one SMS, 153 per part when concatenated.
  Extension characters (``{ } [ ] ~ \\ | ^ €``) take two septets and are never split.
* Everything else (Chinese) goes as UCS2, data_coding 8: 70 UTF-16 code units in one SMS,
  67 per part (134 octets + the 6-octet UDH = 140). A part never ends inside a surrogate pair.
* Concatenated parts carry an 8-bit reference UDH (IEI 0x00). The reference comes from a
  per-destination counter (:class:`RefAllocator`), never from a random number.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import attrs

from complaintkit.core.masking import mask_number  # noqa: F401 - the kit's one mask, kept importable here

DC_GSM = 0x00
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

UCS2_SINGLE = 70  # code units
UCS2_PART = 67
GSM_SINGLE = 160  # septets
GSM_PART = 153
MAX_PARTS = 255

# GSM 03.38 default alphabet, index = septet value
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXT = {"\x0c": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
           "]": 0x3E, "|": 0x40, "€": 0x65}
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


def is_gsm(text: str) -> bool:
    return all(ch in _GSM_INDEX or ch in GSM_EXT for ch in text)


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


def split_ucs2(text: str) -> list[str]:
    """Split into UCS2 parts of ≤ 67 code units (≤ 70 if one part), never inside a surrogate pair."""
    units = len(text.encode("utf-16-be")) // 2
    if units <= UCS2_SINGLE:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if size + width > UCS2_PART:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += width
    if current:
        parts.append("".join(current))
    return parts


def split_gsm(text: str) -> list[str]:
    """Split into GSM parts of ≤ 153 septets (≤ 160 if one part), never inside an escape."""
    def width(ch: str) -> int:
        return 2 if ch in GSM_EXT else 1

    if sum(width(ch) for ch in text) <= GSM_SINGLE:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        w = width(ch)
        if size + w > GSM_PART:
            parts.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += w
    if current:
        parts.append("".join(current))
    return parts


def udh_8bit(ref: int, total: int, seq: int) -> bytes:
    return bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq))


def encode_text(text: str, ref: int | None = None, *, allow_gsm: bool = True,
                max_parts: int = MAX_PARTS) -> EncodedText:
    """Encode ``text`` for submit_sm. ``ref`` is needed only when the text needs several parts."""
    if allow_gsm and is_gsm(text):
        pieces = split_gsm(text)
        coding, encode = DC_GSM, gsm_encode
    else:
        pieces = split_ucs2(text)
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
    if allow_gsm and is_gsm(text):
        return len(split_gsm(text))
    return len(split_ucs2(text))


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
