"""pluggy hook implementations of complaintkit-smtp (entry point ``complaintkit: smtp``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("complaintkit")


@hookimpl
def complaintkit_email_transport(settings: Mapping[str, Any]) -> Any:
    """An ``SmtpTransport`` for the ``email`` settings; None when no SMTP host is configured.

    Missing ``host``, ``port``, ``username``, ``password`` are read from
    ``COMPLAINTKIT_SMTP_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD``. Bad settings raise
    ``ValueError`` naming the setting, so the worker stops at start-up instead of losing mail.
    """
    settings = settings or {}
    if not (settings.get("host") or os.environ.get("COMPLAINTKIT_SMTP_HOST")):
        return None  # not configured for SMTP: let another plugin answer
    # imported only now: aiosmtplib is not worth a worker's start-up when SMTP is not configured
    from .transport import SmtpConfig, SmtpTransport

    return SmtpTransport(SmtpConfig.from_settings(settings))


@hookimpl
def complaintkit_cli_commands(cli: Any) -> None:
    """Add ``complaintkit bench email``."""
    from .bench import bench_email

    bench = cli.commands.get("bench") if hasattr(cli, "commands") else None
    if bench is None:
        return
    bench.add_command(bench_email)
