"""pluggy hook implementations of complaintkit-smpp (entry point ``complaintkit: smpp``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("complaintkit")


@hookimpl
def complaintkit_sms_transport(settings: Mapping[str, object]) -> Any:
    """An ``SmppTransport`` for ``settings``; None when another transport is asked for.

    Missing ``host``, ``port``, ``system_id``, ``password`` are read from
    ``COMPLAINTKIT_SMPP_HOST`` / ``_PORT`` / ``_SYSTEM_ID`` / ``_PASSWORD``.
    """
    import os

    from .transport import SmppConfig, SmppTransport

    settings = settings or {}
    transport = settings.get("transport")
    if transport not in (None, "", "smpp"):
        return None
    if not transport and not (settings.get("host") or os.environ.get("COMPLAINTKIT_SMPP_HOST")):
        return None  # not configured for SMPP: let another plugin answer
    return SmppTransport(SmppConfig.from_settings(settings))


@hookimpl
def complaintkit_local_smsc() -> Any:
    """A started local SMSC on 127.0.0.1 (free port); use it as a context manager."""
    from .smsc import LocalSmsc

    return LocalSmsc().start()


@hookimpl
def complaintkit_cli_commands(cli: Any) -> None:
    """Add ``complaintkit bench smpp``."""
    from .bench import bench_smpp

    bench = cli.commands.get("bench") if hasattr(cli, "commands") else None
    if bench is None:
        return
    bench.add_command(bench_smpp)
