"""``complaintkit demo``: a province's month of complaints in seconds."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from complaintkit.logging import configure_cli_logging


@click.command()
@click.option("--tickets", default=300, show_default=True, help="How many complaints to generate.")
@click.option("--days", default=30, show_default=True, help="Over how many days they arrive.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated scenario.")
@click.option("--db", "url", default=None, help="Database URL (default: a new SQLite file in a temporary folder).")
@click.option("--smsc", default=None, metavar="HOST:PORT",
              help="Send the SMS to this SMSC over SMPP instead of the local one.")
@click.option("--system-id", envvar="COMPLAINTKIT_SMPP_SYSTEM_ID", default=None, help="SMPP system_id (env COMPLAINTKIT_SMPP_SYSTEM_ID).")
@click.option("--password", envvar="COMPLAINTKIT_SMPP_PASSWORD", default=None, help="SMPP password (env COMPLAINTKIT_SMPP_PASSWORD).")
@click.option("--fake-sms", is_flag=True, help="Use the in-memory SMS fake even if an SMPP plugin is installed.")
@click.option("--standard", "standard_name", default=None, metavar="NAME",
              help="An installed standard by name (baseline, ningxia …; default: the installed plugins' standard).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--json-logs", is_flag=True, help="Log JSON lines instead of text.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def demo(tickets: int, days: int, seed: int, url: str | None, smsc: str | None, system_id: str | None,
         password: str | None, fake_sms: bool, standard_name: str | None, log_level: str, json_logs: bool,
         no_progress: bool) -> None:
    """Generate a province's complaints and run them through the whole process.

    Runs on a virtual clock with fake BOSS/CRM, and sends the follow-up SMS over real SMPP to a
    local SMSC on loopback when the SMPP adapter is installed (or to --smsc).
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from complaintkit import demo as scenario
    from complaintkit.cli.failures import open_store
    from complaintkit.cli.lazy import discovered_plugins
    from complaintkit.demo_summary import summary_rows
    from complaintkit.engine.outbox import Outbox, RetryPolicy
    from complaintkit.engine.worker import Worker
    from complaintkit.kit import ComplaintKit
    from complaintkit.testing import FakeMail, VirtualClock

    configure_cli_logging(level=log_level, json=json_logs)
    console = Console(stderr=False)
    plugins = discovered_plugins()
    with contextlib.ExitStack() as stack:
        if url is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="complaintkit-demo-"))
            url = f"sqlite:///{Path(folder) / 'demo.db'}"
        clock = VirtualClock()
        chosen = None
        if standard_name is not None:
            from complaintkit.core.errors import ComplaintKitError
            from complaintkit.standard.installed import named

            try:
                chosen = named(standard_name)
            except ComplaintKitError as exc:
                raise click.BadParameter(str(exc), param_hint="--standard") from None
        kit = ComplaintKit(open_store(url), plugins=plugins, clock=clock, standard=chosen)
        stack.callback(kit.close)
        transport, sms_label, reply = _sms(stack, plugins, smsc, system_id, password, fake_sms)
        # every department of the standard has a mailing list, as in a configured deployment
        mail = FakeMail.for_departments(d.code for d in kit.standard.departments)
        worker = Worker(kit, Outbox(kit, sms=transport, email=mail,
                                    retry=RetryPolicy(first=timedelta(seconds=5))))
        stack.callback(worker.outbox.close)
        clock.attach(worker)
        console.print(f"[bold]complaintkit demo[/bold] — standard [cyan]{kit.standard.name}[/cyan] "
                      f"{kit.standard.version}, {tickets} complaints over {days} days, seed {seed}, "
                      f"SMS: {sms_label}")
        sms = scenario.Sms(transport, reply)
        if no_progress:
            result = scenario.run(kit, clock, worker, sms, tickets=tickets, days=days, seed=seed)
        else:
            with Progress(console=console, transient=False) as bar:
                task = bar.add_task("complaints", total=tickets)
                result = scenario.run(kit, clock, worker, sms, tickets=tickets, days=days, seed=seed,
                                      progress=lambda n: bar.update(task, completed=n))

    table = Table(title=f"Summary after {result.virtual_days:.1f} virtual days")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in summary_rows(result, emails_sent=len(mail.sent)):
        table.add_row(label, value)
    console.print(table)


def _sms(stack: contextlib.ExitStack, plugins: Any, smsc: str | None, system_id: str | None,
         password: str | None, fake: bool) -> tuple[Any, str, Any]:
    from complaintkit.demo import WaitingTransport
    from complaintkit.ports.transports import InboundSms
    from complaintkit.testing import FakeSms

    if not fake:
        if smsc:
            host, _, port = smsc.rpartition(":")
            if not host or not port.isdigit():
                raise click.BadParameter(f"{smsc!r}: expected HOST:PORT", param_hint="--smsc")
            settings: dict[str, Any] | None = {"host": host, "port": int(port), "system_id": system_id or os.environ.get(
                "COMPLAINTKIT_SMPP_SYSTEM_ID", ""), "password": password or os.environ.get("COMPLAINTKIT_SMPP_PASSWORD", "")}
            local = None
        else:
            local = plugins.call_first("complaintkit_local_smsc")
            settings = dict(local.settings) if local is not None else None
            if local is not None:
                stack.enter_context(local)
        if settings is not None:
            real = plugins.call_first("complaintkit_sms_transport", settings=settings)
            if real is None and smsc:
                raise click.UsageError("--smsc needs an SMS transport plugin (pip install complaintkit-smpp)")
            if real is not None:
                transport = WaitingTransport(real)

                def reply(number: str, text: str) -> None:
                    if local is None:
                        return  # a remote SMSC: customers answer from their phones
                    local.inject_mo(number, "10086", text)
                    transport.wait_for_inbound(InboundSms)

                label = f"SMPP to {settings['host']}:{settings['port']}" + (" (local SMSC)" if local else "")
                return transport, label, reply
    fake_sms = FakeSms()
    return fake_sms, "in-memory fake (no SMPP plugin)", lambda number, text: fake_sms.reply(number, text)

