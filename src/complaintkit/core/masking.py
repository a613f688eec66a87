"""The one place that knows what a mobile number looks like, and how personal data is masked.

:data:`MSISDN` is the single pattern for a Chinese mobile number in every form the kit accepts —
``13812345678``, ``138 1234 5678``, ``138-1234-5678``, ``+86 138 1234 5678``, ``+8613812345678``,
``8613812345678``, ``008613812345678``, ``0086-13812345678``, ``(+86) 138…`` — and full-width
digits. :func:`msisdn_digits` (and so ``Msisdn.parse``) accepts exactly what it matches as a
whole; :func:`mask_text` masks exactly what it finds inside a text. Keeping both on one pattern
is what makes "every number the kit accepts is masked in its logs" (SPEC N3) true by construction.

Masking never raises: it is called on error paths, with whatever value was at hand.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Groups of 3-4-4 digits, each gap at most one space or hyphen; an optional country prefix
# (+86, 0086, 86, optionally in parentheses). Not glued to other digits on either side: a
# longer run of digits is something else (an order number, an ID card). Full-width forms
# (１３８…, ＋８６) are matched too: a web form's IME gives them, and they must be masked as well.
_GAP = "[ \u3000\\-\uff0d]?"  # a space or a hyphen, half- or full-width
MSISDN = re.compile(
    r"(?<!\d)"
    r"(?:[(（]?(?:[+＋]|[0０]{2})?[8８][6６][)）]?" + _GAP + ")?"
    r"(?P<head>[1１][3-9３-９]\d)" + _GAP + r"(?P<middle>\d{4})" + _GAP + r"(?P<tail>\d{4})"
    r"(?!\d)"
)

# Resident ID: 18 characters (the last may be X), or the first generation's 15 digits. The
# region code (first six) stays readable, the birth date and serial do not.
_ID_CARD = re.compile(r"(?<!\d)(?P<region>\d{6})(?:\d{11}[\dXx]|\d{9})(?![\dXx])")

#: keys (in events, reprs and JSON) whose value is a person's name
NAME_KEYS = frozenset({"name", "customer_name", "contact_name", "full_name", "姓名"})
# ``name='张三'``, ``"customer_name": "张三"``, ``姓名：张三`` inside a text (a repr in an error
# message, a row in a driver's error detail)
_NAME_IN_TEXT = re.compile(
    r"(?P<key>\b(?:customer_|contact_|full_)?name['\"]?\s*[=:]\s*)(?P<quote>['\"])(?P<value>[^'\"\n]*)(?P=quote)"
    r"|(?P<zh>姓名\s*[:：=]\s*)(?P<zh_value>[^\s，,。；;、)）]+)"
)


def msisdn_digits(text: Any) -> str | None:
    """The 11 ASCII digits of ``text`` if it is a whole mobile number in an accepted form, else None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    m = MSISDN.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        return None
    digits = m["head"] + m["middle"] + m["tail"]
    # \d also matches other scripts' digits; NFKC made full-width ones ASCII, the rest are refused
    return digits if digits.isascii() else None


def mask_number(value: Any) -> str:
    """``13812345678`` → ``138****5678``; other lengths keep only their ends (never raises)."""
    text = value if isinstance(value, str) else _as_text(value)
    if len(text) >= 11:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) > 4:
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    return "*" * len(text)


def mask_name(value: Any) -> str:
    """张三丰 → 张**; Zhang San → Z********."""
    name = value if isinstance(value, str) else _as_text(value)
    return name[:1] + "*" * (len(name) - 1) if name else name


def mask_id_card(text: str) -> str:
    """Every resident ID number in ``text``: ``110101199003071234`` → ``110101************``."""
    return _ID_CARD.sub(lambda m: m["region"] + "*" * (len(m[0]) - 6), text)


def mask_numbers(text: str) -> str:
    """Every mobile number in ``text``, in any accepted form, as ``138****5678``."""
    return MSISDN.sub(lambda m: f"{m['head']}****{m['tail']}", text)


def mask_names(text: str) -> str:
    """Names written as ``name='…'`` / ``"name": "…"`` / ``姓名：…`` inside a text."""

    def one(m: re.Match[str]) -> str:
        if m["zh"] is not None:
            return m["zh"] + mask_name(m["zh_value"])
        return f"{m['key']}{m['quote']}{mask_name(m['value'])}{m['quote']}"

    return _NAME_IN_TEXT.sub(one, text)


def mask_text(value: Any) -> str:
    """A free text with every mobile number, ID-card number and keyed name in it masked."""
    text = value if isinstance(value, str) else _as_text(value)
    # numbers first: a 15-digit 0086… number would otherwise pass for an old ID card
    return mask_names(mask_id_card(mask_numbers(text)))


def _as_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break an error path
        return f"<{type(value).__name__}>"
