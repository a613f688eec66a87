"""``complaintkit bench restart``: how long a timer waits for a worker started after a crash.

With one worker, a timer that comes due while the worker is dead waits for the next one to
start: the soak's single-worker lateness is made of this time. Each run creates an online
follow-up, waits until its first timer is due, starts ``complaintkit worker`` exactly as the soak
does (a SQLite database already at the newest migration, the local SMSC configured) and measures
from the moment the process is started to the moment the timer is marked fired; then the worker
is killed with SIGKILL, as the soak kills it. Where ``/proc`` is, the CPU time the worker used
until then is given too: on a busy machine the wall time grows with the others' load, the CPU
time much less. ``complaintkit worker --help`` is timed too: the cost of starting Python and
reading the command line, before any database or SMSC.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from complaintkit.bench.report import emit


def _help_seconds(runs: int) -> list[float]:
    exe = Path(sys.executable).with_name("complaintkit")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(exe), "worker", "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) process ``pid`` has used so far; None where /proc is not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # after the command name: state is field 3, utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _restart_seconds(runs: int, workdir: Path) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of the worker) from starting it to its first timer fired."""
    from sqlalchemy import select

    from complaintkit.bench.soak import DESK, SoakConfig, Workers, replaying_smsc, soak_standard
    from complaintkit.engine.store import schema
    from complaintkit.kit import ComplaintKit
    from complaintkit.standard import load_standard

    standard_dir = soak_standard(workdir / "standard")
    config = SoakConfig(db_url=f"sqlite:///{workdir / 'restart.db'}", workdir=workdir, workers=1)
    kit = ComplaintKit.open(config.db_url, standard=load_standard(standard_dir))
    smsc = replaying_smsc()
    smsc.start()
    times: list[float] = []
    cpu: list[float] = []
    try:
        settings = workdir / "settings.toml"
        settings.write_text("[sms]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in smsc.settings.items())
                            + "[outbox]\nlease = 5\n", encoding="utf-8")
        workers = Workers(config, settings, standard_dir)
        t = schema.timers.c
        for run in range(runs):
            ticket = kit.open_follow_up(DESK, msisdn=str(13900000000 + run), problem_type="call_quality",
                                        category="hotline", description="已处理")
            with kit.store.read() as tx:
                first = tx.conn.execute(select(t.id, t.due_at).where(t.ticket_id == ticket.id, t.state == "pending")
                                        .order_by(t.due_at).limit(1)).one()
            # start the worker once the timer is due, as when a worker dies and its timers wait
            wait = (first.due_at - datetime.now(UTC).replace(tzinfo=None)).total_seconds() + 0.05
            time.sleep(max(0.0, wait))
            started = datetime.now(UTC).replace(tzinfo=None)
            workers.start(0)
            fired_at = None
            while fired_at is None and (datetime.now(UTC).replace(tzinfo=None) - started).total_seconds() < 60:
                time.sleep(0.005)
                with kit.store.read() as tx:
                    fired_at = tx.conn.execute(select(t.fired_at).where(t.id == first.id, t.state == "fired")).scalar()
            proc = workers.procs[0]
            used = _cpu_seconds(proc.pid) if proc is not None else None
            if used is not None:
                cpu.append(used)
            workers.kill(0)
            if fired_at is None:
                raise click.ClickException("the worker did not fire a due timer within 60 s")
            times.append((fired_at - started).total_seconds())
    finally:
        smsc.stop()
        kit.close()
    return times, cpu


@click.command("restart")
@click.option("--runs", default=10, show_default=True, help="Workers to start (and kill).")
def restart(runs: int) -> None:
    """Seconds from starting a worker to its first due timer fired (SQLite, the soak's set-up)."""
    with tempfile.TemporaryDirectory(prefix="ck-restart-") as tmp:
        first_timer, cpu = _restart_seconds(runs, Path(tmp))
    help_only = _help_seconds(runs)
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"runs": runs}
    measured = [("worker --help", help_only), ("start → first timer fired", first_timer)]
    if cpu:
        # what the worker itself spent: less sensitive than wall time to a busy machine
        measured.append(("worker CPU until then", cpu))
        figures.update(first_timer_cpu_p50_s=round(statistics.median(cpu), 3))
    for name, values in measured:
        ordered = sorted(values)
        rows.append([name, statistics.median(ordered), ordered[0], ordered[-1]])
    figures.update(help_p50_s=round(statistics.median(help_only), 3), help_max_s=round(max(help_only), 3),
                   first_timer_p50_s=round(statistics.median(first_timer), 3),
                   first_timer_max_s=round(max(first_timer), 3))
    emit("restart", ["seconds", "median", "min", "max"], rows, figures)
