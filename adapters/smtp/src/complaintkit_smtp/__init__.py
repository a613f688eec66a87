"""E-mail over SMTP for complaintkit (entry point ``complaintkit: smtp``).

The names are imported when first used: plugin discovery imports :mod:`complaintkit_smtp.plugin`,
and through it this package, in every complaintkit process (a worker restarting after a crash
among them); the transport pulls in aiosmtplib and asyncio, needed only where SMTP is configured.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transport import SmtpConfig, SmtpTransport, message_id_for

__all__ = ["SmtpConfig", "SmtpTransport", "message_id_for"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".transport", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
