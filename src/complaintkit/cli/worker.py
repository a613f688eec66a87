"""``complaintkit worker`` and ``complaintkit plugins``."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from complaintkit.logging import configure_cli_logging


@click.command()
@click.option("--db", "url", required=True, envvar="COMPLAINTKIT_DB",
              help="Database URL: sqlite:///complaints.db or postgresql://host/db (env COMPLAINTKIT_DB).")
@click.option("--settings", "settings_file", type=click.Path(exists=True, dir_okay=False), default=None,
              envvar="COMPLAINTKIT_SETTINGS",
              help="TOML file with a table per adapter: [sms], [email], [boss] (env COMPLAINTKIT_SETTINGS).")
@click.option("--standard", "standard_folder", type=click.Path(exists=True, file_okay=False), default=None,
              envvar="COMPLAINTKIT_STANDARD",
              help="A standard folder to use instead of the installed standard plugin's (env COMPLAINTKIT_STANDARD).")
@click.option("--idle", default=1.0, show_default=True, help="Seconds to wait when there is nothing to do.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--json-logs", is_flag=True, help="Log JSON lines instead of text.")
def worker(url: str, settings_file: str | None, standard_folder: str | None, idle: float, log_level: str, json_logs: bool) -> None:
    """Fire due timers and deliver the outbox until SIGTERM or Ctrl-C, then stop cleanly."""
    runner: Any = None
    kit: Any = None
    stopped_while_starting: list[int] = []

    def _stop(signum: int, _frame: Any) -> None:
        if runner is None:
            if not stopped_while_starting:  # a second signal finds it stopping already
                stopped_while_starting.append(signum)
                raise _StoppedWhileStarting(signum)
            return
        click.echo(f"received {signal.Signals(signum).name}: finishing the current pass", err=True)
        runner.stop()

    # SIGTERM is taken from the first moment: a supervisor that stops a worker it has just
    # started again (after a crash) gets a clean exit, not a process killed by the signal
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, _stop)
    try:
        try:
            configure_cli_logging(level=log_level, json=json_logs)
            from complaintkit.cli.failures import open_store
            from complaintkit.cli.lazy import discovered_plugins
            from complaintkit.engine.worker import Worker
            from complaintkit.kit import ComplaintKit
            from complaintkit.standard import load_standard

            standard = load_standard(standard_folder) if standard_folder else None
            settings = load_settings(settings_file)
            kit = ComplaintKit(open_store(url), plugins=discovered_plugins(), settings=settings, standard=standard)
            runner = Worker(kit)
        except _StoppedWhileStarting as stop:
            if kit is not None:
                kit.close()
            click.echo(f"received {signal.Signals(stop.args[0]).name} while starting: worker stopped", err=True)
            return
        # Ctrl-C while starting still interrupts at once (a database that does not answer)
        signal.signal(signal.SIGINT, _stop)
        runner.run(idle=idle)
        kit.close()
        click.echo("worker stopped", err=True)
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: set outside Python, nothing to put back
                signal.signal(sig, handler)


class _StoppedWhileStarting(BaseException):
    """SIGTERM came before the worker had started: there is no pass to finish, so it stops there
    (a BaseException, like KeyboardInterrupt, so that nothing on the way catches it)."""


def load_settings(path: str | None) -> dict[str, Any]:
    """The adapters' settings: one TOML table each (``[sms]``, ``[email]``, ``[boss]``)."""
    if path is None:
        return {}
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"{path}: not valid TOML: {exc}", param_hint="--settings") from exc
    except OSError as exc:
        raise click.BadParameter(f"{path}: cannot be read: {exc.strerror}", param_hint="--settings") from exc
    for name, value in data.items():
        if not isinstance(value, dict):
            raise click.BadParameter(f"{path}: {name!r} must be a table like [{name}]", param_hint="--settings")
    return data


@click.command()
def plugins() -> None:
    """List the loaded plugins, with versions and the hooks each implements."""
    from rich.console import Console
    from rich.table import Table

    from complaintkit.cli.lazy import discovered_plugins

    table = Table(title="complaintkit plugins, in load order (built-ins last)")
    for column in ("name", "distribution", "version", "hooks"):
        table.add_column(column)
    for info in discovered_plugins().info():
        table.add_row(info.name, info.distribution, info.version, ", ".join(h.removeprefix("complaintkit_")
                                                                             for h in info.hooks))
    # piped output (scripts, tests) gets whole lines, not a table folded at 80 columns
    Console(width=None if sys.stdout.isatty() else 200).print(table)
