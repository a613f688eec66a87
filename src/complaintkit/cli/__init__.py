"""The ``complaintkit`` command: demo, worker, plugins, deadline, soak and benchmarks.

The CLI is an application of the library, so it — and only it — configures logging: structlog
with personal data masked.

Each command is imported when it runs (:mod:`complaintkit.cli.lazy`): a worker started again
after a crash imports what the worker needs, not the demo, the benchmarks or Rich.
"""

from __future__ import annotations

import sys

import click

from complaintkit import __version__
from complaintkit.cli.lazy import LazyGroup, discovered_plugins
from complaintkit.core.errors import ComplaintKitError

#: the built-in commands, by name: ``"module:attribute"``
COMMANDS = {
    "demo": "complaintkit.cli.demo:demo",
    "worker": "complaintkit.cli.worker:worker",
    "plugins": "complaintkit.cli.worker:plugins",
    "deadline": "complaintkit.cli.deadline:deadline",
    "doctor": "complaintkit.cli.doctor:doctor",
    "soak": "complaintkit.cli.soak:soak",
    "standard": "complaintkit.cli.standard:standard",
}
#: the built-in benchmarks (``complaintkit bench NAME``)
BENCHMARKS = {
    "intake": "complaintkit.bench.intake:intake",
    "deadlines": "complaintkit.bench.deadlines:deadlines",
    "permissions": "complaintkit.bench.permissions:permissions",
    "restart": "complaintkit.bench.restart:restart",
    "simulate": "complaintkit.bench.simulate:simulate",
    "timers": "complaintkit.bench.timers:timers",
}

#: whether the plugins' commands were added (once per process, as when they were added on import)
_plugin_commands_added = False


def _add_plugin_commands(ctx: click.Context) -> None:
    """The commands plugins add (``complaintkit_cli_commands``), asked for once."""
    global _plugin_commands_added
    if _plugin_commands_added:
        return
    _plugin_commands_added = True
    try:
        discovered_plugins(ctx).cli_commands(cli)
    except ComplaintKitError as exc:
        # a broken plugin must not take `complaintkit plugins` down with it
        click.echo(f"warning: {exc}", err=True)


@click.group(cls=LazyGroup, lazy=COMMANDS, extend=_add_plugin_commands)
@click.version_option(__version__, prog_name="complaintkit")
def cli() -> None:
    """complaintkit — the complaint work-order process of Chinese telecom operators."""


@cli.group(cls=LazyGroup, lazy=BENCHMARKS, extend=_add_plugin_commands)
def bench() -> None:
    """Benchmarks: each prints a table, then its figures as one JSON line."""


def main() -> None:
    _structlog_without_rich()
    cli(prog_name="complaintkit")


def _structlog_without_rich() -> None:
    """Import structlog with Rich hidden from it.

    structlog imports Rich, when it is installed, for tracebacks this command line never uses:
    its logs format them plainly and masked (:func:`complaintkit.logging.configure_cli_logging`).
    That is ~0.1 s of every worker start, which a timer due while the worker restarts waits
    for. Rich stays importable for the commands that print tables. Only the application does
    this: the library leaves structlog as the application set it up.
    """
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # import rich → ImportError
    try:
        import structlog.dev
        import structlog.tracebacks  # noqa: F401
    finally:
        del sys.modules["rich"]
