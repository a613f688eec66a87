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

    def _stop(signum: int, _frame: Any) -> None:
        click.echo(f"received {signal.Signals(signum).name}: finishing the current pass", err=True)
        runner.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner.run(idle=idle)
    kit.close()
    click.echo("worker stopped", err=True)


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
