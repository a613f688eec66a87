"""How many SMS a text takes, and where it is cut: the one rule for every SMS gateway.

The SMPP adapter splits by it and :class:`~complaintkit.testing.FakeSms` counts by it, so a test
against the fake sees the same ``parts`` as production (templates are written to a part budget,
SPEC K3, and the outbox records the count).

* Text made only of GSM 03.38 default-alphabet characters is sent in GSM 7-bit: 160 septets in
  one SMS, 153 per part when concatenated (7 septets go to the concatenation header). The
  extension characters ``{ } [ ] ~ \\ | ^ €`` (and form feed) take two septets (escape + code)
  and are never split from their escape.
* Anything else (Chinese) is sent in UCS2: 70 UTF-16 code units in one SMS, 67 per part
  (134 octets + the 6-octet header = 140). A character outside the BMP (an emoji) is a surrogate
  pair, two code units, and a part never ends between them.
* At most 255 parts (the header counts parts in one octet).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

GSM_SINGLE = 160  # septets
GSM_PART = 153
UCS2_SINGLE = 70  # UTF-16 code units
UCS2_PART = 67
MAX_PARTS = 255

#: GSM 03.38 default alphabet, index = septet value (0x1B is the escape to the extension table)
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: the extension table: character -> code after the escape
GSM_EXT = {"\x0c": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
           "]": 0x3E, "|": 0x40, "€": 0x65}
_GSM_ONE = frozenset(GSM_BASIC) - {"\x1b"}
_GSM_ANY = _GSM_ONE | frozenset(GSM_EXT)


@attrs.define(frozen=True)
class SmsSplit:
    """A text cut into the pieces that go into one SMS each."""

    #: True: GSM 7-bit (data_coding 0); False: UCS2 (data_coding 8)
    gsm: bool
    pieces: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.pieces)


def is_gsm(text: str) -> bool:
    """Every character is in the GSM default alphabet or its extension table."""
    return all(ch in _GSM_ANY for ch in text)


def gsm_width(ch: str) -> int:
    """Septets a GSM character takes."""
    return 2 if ch in GSM_EXT else 1


def ucs2_width(ch: str) -> int:
    """UTF-16 code units a character takes (a surrogate pair for characters beyond the BMP)."""
    return 2 if ord(ch) > 0xFFFF else 1


def _cut(text: str, width: Callable[[str], int], single: int, part: int) -> list[str]:
    if sum(width(ch) for ch in text) <= single:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        w = width(ch)
        if size + w > part:  # a character never straddles two parts
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += w
    if current:
        pieces.append("".join(current))
    return pieces


def split_gsm(text: str) -> list[str]:
    """GSM pieces of at most 153 septets (160 if one), never cutting an escape from its code."""
    return _cut(text, gsm_width, GSM_SINGLE, GSM_PART)


def split_ucs2(text: str) -> list[str]:
    """UCS2 pieces of at most 67 code units (70 if one), never inside a surrogate pair."""
    return _cut(text, ucs2_width, UCS2_SINGLE, UCS2_PART)


def split_sms(text: str, *, allow_gsm: bool = True) -> SmsSplit:
    """Choose the alphabet (GSM 7-bit when allowed and possible, else UCS2) and cut the text."""
    if allow_gsm and is_gsm(text):
        return SmsSplit(True, tuple(split_gsm(text)))
    return SmsSplit(False, tuple(split_ucs2(text)))


def sms_parts(text: str, *, allow_gsm: bool = True) -> int:
    """How many SMS ``text`` is sent as (1 for the empty text)."""
    return split_sms(text, allow_gsm=allow_gsm).count
