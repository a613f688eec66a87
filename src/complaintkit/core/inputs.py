"""Checks for text that enters the kit from outside: type, characters and length.

Every text a user, a channel or a plugin hands to the rules passes one of these checks before it
can reach a ticket, so a value the store cannot hold (or cannot give back) is refused up front
with :class:`~complaintkit.core.errors.InvalidInput` naming the field — never by a database
driver after half a command ran. What is refused:

- anything that is not ``str`` (``None``, bytes, numbers);
- lone surrogates (no encoder can write them: SQLite and PostgreSQL both fail);
- NUL and the other control characters (PostgreSQL refuses NUL; the rest are never meant) —
  prose (descriptions, notes, reasons, results, SMS text) may hold newlines and tabs;
- more characters than the field's bound (:data:`LIMITS`), which matches its column where it has
  one (PostgreSQL ``varchar(n)`` counts characters, as ``len`` does).

A refusal never repeats the value: it may be personal data, and it may be two million characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from complaintkit.core.errors import InvalidInput

#: the longest text each kind of field may hold, in characters
LIMITS: dict[str, int] = {
    # an actor id is the events table's actor column (varchar 60)
    "actor": 60,
    # department and category codes are ticket columns (varchar 60)
    "department": 60,
    "category": 60,
    "code": 60,
    # a service number or SMS address: the outbox's sender and the inbox's recipient (varchar 40)
    "address": 40,
    # a ticket id (tickets.id, varchar 40)
    "ticket_id": 40,
    "name": 100,
    "tier": 20,
    # short free text: a satisfaction verdict, a handler id given as a transfer target
    "short": 200,
    # prose: descriptions, notes, reasons, results, verification, SMS text
    "prose": 4000,
}

# C0 and C1 controls, DEL and lone surrogates; prose allows \t \n \r
_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_PROSE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text(field: str, value: Any, *, limit: int | str, prose: bool = False, required: bool = False,
         blank: str = "") -> str:
    """``value`` if it is acceptable text for ``field``; else :class:`InvalidInput`.

    ``limit`` is a number of characters or a key of :data:`LIMITS`; ``prose`` allows newlines and
    tabs; ``required`` refuses an empty or blank value (with ``blank`` as the message, if given).
    """
    bound = LIMITS[limit] if isinstance(limit, str) else limit
    if not isinstance(value, str):
        raise InvalidInput(field, f"expected text, got {type(value).__name__}")
    if len(value) > bound:
        raise InvalidInput(field, f"{len(value)} characters is more than the {bound} allowed")
    bad = (_PROSE_BAD if prose else _LINE_BAD).search(value)
    if bad is not None:
        char = bad.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise InvalidInput(field, f"contains {what} (U+{ord(char):04X}) at position {bad.start()}")
    if required and not value.strip():
        raise InvalidInput(field, blank or "must not be empty")
    return value


def prose(field: str, value: Any, *, required: bool = False, blank: str = "", limit: int | str = "prose") -> str:
    """Free text that may span lines: a description, notes, a reason, a result."""
    return text(field, value, limit=limit, prose=True, required=required, blank=blank)


def line(field: str, value: Any, *, limit: int | str, required: bool = False) -> str:
    """One line of text: an id, a code, a name."""
    return text(field, value, limit=limit, required=required)


def storable(value: Any, *, limit: int | str, prose: bool = False) -> str:
    """``value`` made into text the store can hold, for what the far end sent and must be
    recorded rather than refused (an SMSC cannot be told "try again" for ever): bytes decoded
    with replacement, other types as their ``str``, forbidden characters replaced by U+FFFD,
    cut at the field's bound."""
    bound = LIMITS[limit] if isinstance(limit, str) else limit
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = "" if value is None else str(value)
    return (_PROSE_BAD if prose else _LINE_BAD).sub("\ufffd", value)[:bound]


def flag(field: str, value: Any) -> bool:
    """A yes/no value; ``1`` or ``"yes"`` are not booleans and are refused."""
    if not isinstance(value, bool):
        raise InvalidInput(field, f"expected true or false, got {type(value).__name__}")
    return value


def whole_number(field: str, value: Any, *, low: int, high: int) -> int:
    """An ``int`` (not a bool) between ``low`` and ``high``, both included."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"expected a whole number, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidInput(field, f"{value} is outside {low}..{high}")
    return value


def instance(field: str, value: Any, *, kind: type) -> Any:
    """A value of ``kind`` (an enum member, a model value)."""
    if not isinstance(value, kind):
        raise InvalidInput(field, f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def validator(field: str, check: Callable[..., Any], **options: Any) -> Callable[[Any, Any, Any], None]:
    """An attrs validator running ``check(field, value, **options)``: a model value that would
    fail the check can never be built."""

    def run(_instance: Any, _attribute: Any, value: Any) -> None:
        check(field, value, **options)

    return run
