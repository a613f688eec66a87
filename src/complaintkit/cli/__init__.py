"""The ``complaintkit`` command: demo, worker, plugins, deadline, soak and benchmarks.

The CLI is an application of the library, so it — and only it — configures logging: structlog
with personal data masked.
"""

from __future__ import annotations

import click

from complaintkit import __version__
from complaintkit.cli.failures import Group
from complaintkit.core.errors import ComplaintKitError


@click.group(cls=Group)
@click.version_option(__version__, prog_name="complaintkit")
def cli() -> None:
    """complaintkit — the complaint work-order process of Chinese telecom operators."""


@cli.group(cls=Group)
def bench() -> None:
    """Benchmarks: each prints a table, then its figures as one JSON line."""


def _load() -> None:
    from complaintkit.bench.deadlines import deadlines
    from complaintkit.bench.intake import intake
    from complaintkit.bench.permissions import permissions
    from complaintkit.bench.restart import restart
    from complaintkit.cli.deadline import deadline
    from complaintkit.cli.demo import demo
    from complaintkit.cli.doctor import doctor
    from complaintkit.cli.soak import soak
    from complaintkit.cli.standard import standard
    from complaintkit.cli.worker import plugins, worker

    cli.add_command(demo)
    cli.add_command(worker)
    cli.add_command(plugins)
    cli.add_command(deadline)
    cli.add_command(doctor)
    cli.add_command(soak)
    cli.add_command(standard)
    bench.add_command(intake)
    bench.add_command(deadlines)
    bench.add_command(permissions)
    bench.add_command(restart)
    try:
        from complaintkit.hooks.manager import Plugins

        Plugins.discover().call_all("complaintkit_cli_commands", cli=cli)
    except ComplaintKitError as exc:
        # a broken plugin must not take `complaintkit plugins` down with it
        click.echo(f"warning: {exc}", err=True)


_load()


def main() -> None:
    cli(prog_name="complaintkit")
