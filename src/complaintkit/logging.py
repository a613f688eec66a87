"""structlog processors for the application's logging set-up (the library never configures it).

:func:`mask_pii` replaces mobile numbers (``138****5678``), ID-card numbers and the values of
name fields in every event, key and nested value, as PIPL requires. The CLI puts it in its chain;
an embedding application adds it to its own::

    structlog.configure(processors=[mask_pii, structlog.processors.JSONRenderer()])
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import structlog

# 18-digit resident ID (last may be X) before mobile numbers: an ID contains 11-digit runs.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_NAME_KEYS = {"name", "customer_name", "contact_name", "full_name", "姓名"}


def mask_text(text: str) -> str:
    text = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(3)[:0] + "****", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_name(name: str) -> str:
    """张三丰 → 张**; Zhang San → Z*********."""
    return name[:1] + "*" * (len(name) - 1) if name else name


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return mask_name(value) if key.lower() in _NAME_KEYS else mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_mask(v) for v in value) if not isinstance(value, (set, frozenset)) else [_mask(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and len(str(value)) in (11, 18):
        return mask_text(str(value))
    text = str(value) if value is not None and not isinstance(value, (int, float, bool)) else None
    if text is not None and text != (masked := mask_text(text)):
        return masked
    return value


def mask_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask personal data everywhere in the event."""
    for key in list(event_dict):
        event_dict[key] = _mask(event_dict[key], key)
    return event_dict


def configure_cli_logging(*, level: str = "info", json: bool = False, stream: Any = None) -> None:
    """The CLI's logging: structlog with PII masking, human-readable unless ``json``."""
    import logging
    import sys

    renderer: Any = structlog.processors.JSONRenderer(ensure_ascii=False) if json else \
        structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            mask_pii,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
