"""E-mail over SMTP for complaintkit (entry point ``complaintkit: smtp``)."""

from __future__ import annotations

from .transport import SmtpConfig, SmtpTransport, message_id_for

__all__ = ["SmtpConfig", "SmtpTransport", "message_id_for"]
