"""``complaintkit soak``: the crash soak (nothing lost, nothing stuck) from the command line."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from complaintkit.logging import configure_cli_logging


@click.command()
@click.option("--tickets", default=200, show_default=True, help="Tickets to create.")
@click.option("--kills", default=20, show_default=True, help="Workers to kill with SIGKILL (and start again).")
@click.option("--db", "url", default=None,
              help="Database URL (default: a fresh SQLite file in a temporary folder).")
@click.option("--workers", type=int, default=None,
              help="Worker processes at a time (default: 1 on SQLite, 3 on PostgreSQL).")
@click.option("--seed", default=1, show_default=True, help="Seed of the random plan (what, when, whom to kill).")
def soak(tickets: int, kills: int, url: str | None, workers: int | None, seed: int) -> None:
    """Kill workers at random while tickets, timers, messages and replies flow; then count what
    was lost, fired twice or sent twice. Exits 1 when a guarantee broke; the last line is JSON."""
    configure_cli_logging(level="warning")
    from complaintkit.bench.soak import SoakConfig, broken, report, run_soak

    with tempfile.TemporaryDirectory(prefix="ck-soak-") as tmp:
        workdir = Path(tmp)
        db_url = url or f"sqlite:///{workdir / 'soak.db'}"
        count = workers if workers is not None else (1 if db_url.startswith("sqlite") else 3)
        figures = run_soak(SoakConfig(db_url=db_url, workdir=workdir, tickets=tickets, kills=kills,
                                      workers=count, seed=seed, log=lambda line: click.echo(line, err=True)))
        report(figures, click.echo)
    problems = broken(figures)
    if problems:
        raise click.ClickException("guarantees broken: " + "; ".join(problems))
