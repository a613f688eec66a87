"""``complaintkit bench simulate``: a province's complaints through the whole process, measured.

It runs the scenario of ``complaintkit demo --fake-sms`` (:func:`complaintkit.demo.run`) on the
virtual clock — the same complaints, handling, SMS, e-mail reminders, return visits and limits
for the same seed — and measures what the run costs: CPU time per ticket, the store's
transactions per ticket (writes and reads apart), the peak memory and the wall time, and projects
the CPU time of 300,000 tickets from the CPU time per ticket. It prints the demo's summary too,
so a run can be held against ``complaintkit demo`` for the same seed.

The SMS and e-mail fakes count what they accept instead of keeping it (the demo's keep every
message, which is fine for a few hundred complaints and not for a province); they answer
exactly as the demo's do.
"""

from __future__ import annotations

import contextlib
import resource
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import click

from complaintkit.bench.report import emit
from complaintkit.testing import FakeMail, FakeSms

#: the province the projection is made for: complaints a month
PROJECTED_TICKETS = 300_000


class CountingSms(FakeSms):
    """The demo's SMS fake, counting the messages it accepted instead of keeping them."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted = 0

    def send_many(self, requests: Sequence[Any], *, on_result: Any = None) -> list[Any]:
        results = super().send_many(requests, on_result=on_result)
        self.accepted += len(self.sent)
        self.sent.clear()
        self.attempts.clear()
        return results


class CountingMail(FakeMail):
    """The demo's mail fake (every department with its address), counting instead of keeping."""

    def __init__(self, codes: Any) -> None:
        super().__init__({code: f"{code}@departments.invalid" for code in codes})
        self.accepted = 0

    def send_many(self, requests: Sequence[Any], *, on_result: Any = None) -> list[Any]:
        results = super().send_many(requests, on_result=on_result)
        self.accepted += len(self.sent)
        self.sent.clear()
        self.attempts.clear()
        return results


@attrs.define
class Transactions:
    """The store's transactions, as counted by :func:`count_transactions`."""

    #: write transactions: ``transaction()`` and ``inserting()`` (one statement on PostgreSQL)
    writes: int = 0
    #: read-only views: ``read()``, and ``quick_read()`` when it gives one (PostgreSQL)
    reads: int = 0


def count_transactions(store: Any) -> Transactions:
    """Count the transactions ``store`` runs from now on, by wrapping this instance's entry
    points (the class and every other store are left alone)."""
    counts = Transactions()
    local = threading.local()
    transaction, inserting, read, quick_read = store.transaction, store.inserting, store.read, store.quick_read

    @contextlib.contextmanager
    def counted_transaction() -> Iterator[Any]:
        if getattr(local, "inserting", False):
            local.inserting = False  # the insert-only path's own transaction (SQLite): counted there
        else:
            counts.writes += 1
        with transaction() as tx:
            yield tx

    @contextlib.contextmanager
    def counted_inserting() -> Iterator[Any]:
        counts.writes += 1
        local.inserting = True
        try:
            with inserting() as tx:
                yield tx
        finally:
            local.inserting = False

    @contextlib.contextmanager
    def counted_read() -> Iterator[Any]:
        counts.reads += 1
        with read() as tx:
            yield tx

    def counted_quick_read() -> Any:
        tx = quick_read()
        if tx is not None:
            counts.reads += 1
        return tx

    store.transaction, store.inserting = counted_transaction, counted_inserting
    store.read, store.quick_read = counted_read, counted_quick_read
    return counts


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@attrs.define
class Measured:
    result: Any
    #: the standard's name and version
    standard: str
    emails_sent: int
    transactions: Transactions
    cpu_s: float
    wall_s: float
    peak_mib_before: float
    peak_mib: float


def run_simulation(url: str, *, tickets: int, days: int, seed: int, standard: Any = None,
                   progress: Callable[[int], None] | None = None) -> Measured:
    """Run the demo's scenario on the store at ``url`` and measure it (the set-up — opening and
    migrating the database, loading the plugins — is not measured)."""
    from complaintkit import demo as scenario
    from complaintkit.cli.failures import open_store
    from complaintkit.engine.outbox import Outbox, RetryPolicy
    from complaintkit.engine.worker import Worker
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit
    from complaintkit.testing import VirtualClock

    clock = VirtualClock()
    kit = ComplaintKit(open_store(url), plugins=Plugins.discover(), clock=clock, standard=standard)
    try:
        sms = CountingSms()
        mail = CountingMail(d.code for d in kit.standard.departments)
        worker = Worker(kit, Outbox(kit, sms=sms, email=mail, retry=RetryPolicy(first=timedelta(seconds=5))))
        try:
            clock.attach(worker)
            counts = count_transactions(kit.store)
            before = _peak_mib()
            cpu, wall = time.process_time(), time.perf_counter()
            result = scenario.run(kit, clock, worker, scenario.Sms(sms, sms.reply), tickets=tickets, days=days,
                                  seed=seed, progress=progress)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return Measured(result, f"{kit.standard.name} {kit.standard.version}", mail.accepted, counts, cpu,
                            wall, before, _peak_mib())
        finally:
            worker.outbox.close()
    finally:
        kit.close()


@contextlib.contextmanager
def _database(url: str | None) -> Iterator[str]:
    """A temporary SQLite file by default; on PostgreSQL a scratch schema, dropped afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="ck-simulate-") as folder:
            yield f"sqlite:///{Path(folder) / 'province.db'}"
    elif url.startswith(("postgresql", "postgres:")):
        from complaintkit.bench.intake import _scratch_schema

        with _scratch_schema(url) as scratch:
            yield scratch
    else:
        yield url


def _progress(enabled: bool, tickets: int) -> contextlib.AbstractContextManager[Callable[[int], None] | None]:
    if not enabled:
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def bar() -> Iterator[Callable[[int], None]]:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as shown:
            task = shown.add_task("complaints accepted", total=tickets)
            yield lambda n: shown.update(task, completed=n)

    return bar()


@click.command("simulate")
@click.option("--tickets", default=3000, show_default=True, help="How many complaints to generate.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated scenario (as the demo's).")
@click.option("--days", default=30, show_default=True, help="Over how many days they arrive.")
@click.option("--db", "url", default=None, envvar="COMPLAINTKIT_BENCH_DB",
              help="Database URL (default: a new SQLite file in a temporary folder; on PostgreSQL the "
                   "run works in a scratch schema, dropped afterwards).")
@click.option("--standard", "standard_name", default=None, metavar="NAME",
              help="An installed standard by name (default: the installed plugins' standard).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def simulate(tickets: int, seed: int, days: int, url: str | None, standard_name: str | None,
             no_progress: bool) -> None:
    """A province's complaints through the whole process: CPU, transactions and memory per ticket."""
    from complaintkit.demo_summary import summary_rows
    from complaintkit.logging import configure_cli_logging

    if tickets < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--tickets'")
    if days < 1:
        raise click.BadParameter("must be at least 1", param_hint="'--days'")
    configure_cli_logging(level="warning")
    chosen = None
    if standard_name is not None:
        from complaintkit.core.errors import ComplaintKitError
        from complaintkit.standard.installed import named

        try:
            chosen = named(standard_name)
        except ComplaintKitError as exc:
            raise click.BadParameter(str(exc), param_hint="--standard") from None
    with _database(url) as db, _progress(not no_progress, tickets) as progress:
        m = run_simulation(db, tickets=tickets, days=days, seed=seed, standard=chosen, progress=progress)
    cpu_ms = m.cpu_s * 1000 / tickets
    projected_s = cpu_ms * PROJECTED_TICKETS / 1000
    t = m.transactions
    db_kind = db.split(":")[0].split("+")[0]
    rows: list[list[Any]] = [
        ["wall time, s", round(m.wall_s, 1)],
        ["CPU time, s", round(m.cpu_s, 1)],
        ["CPU per ticket, ms", round(cpu_ms, 2)],
        ["write transactions", t.writes],
        ["  per ticket", round(t.writes / tickets, 2)],
        ["read transactions", t.reads],
        ["  per ticket", round(t.reads / tickets, 2)],
        ["peak memory (maxrss), MiB", round(m.peak_mib, 1)],
        ["  before the run, MiB", round(m.peak_mib_before, 1)],
        [f"projected CPU for {PROJECTED_TICKETS:,} tickets, h", round(projected_s / 3600, 2)],
        *([label, value] for label, value in summary_rows(m.result, emails_sent=m.emails_sent)),
    ]
    figures = {
        "tickets": tickets, "seed": seed, "days": days, "db": db_kind, "standard": m.standard,
        "wall_s": round(m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 2),
        "cpu_ms_per_ticket": round(cpu_ms, 3),
        "write_transactions": t.writes,
        "read_transactions": t.reads,
        "writes_per_ticket": round(t.writes / tickets, 3),
        "reads_per_ticket": round(t.reads / tickets, 3),
        "peak_rss_mib": round(m.peak_mib, 1),
        "peak_rss_before_run_mib": round(m.peak_mib_before, 1),
        "projected_tickets": PROJECTED_TICKETS,
        "projected_cpu_s": round(projected_s, 1),
        "projected_cpu_h": round(projected_s / 3600, 3),
        "summary": {**attrs.asdict(m.result), "emails_sent": m.emails_sent},
    }
    click.echo(f"{tickets} complaints over {days} days (seed {seed}), standard {m.standard}, {db_kind}: "
               f"{m.result.virtual_days:.1f} virtual days")
    emit("simulate", ["measure", "value"], rows, figures)


__all__ = ["CountingMail", "CountingSms", "Transactions", "count_transactions", "run_simulation", "simulate"]
