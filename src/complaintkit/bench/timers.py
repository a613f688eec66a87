"""``complaintkit bench timers``: the CPU one fired timer costs, among few and many pending.

Real tickets are accepted (each sets its deadlines' timers), the clock jumps ten days so they
are all due, and the timer engine fires ``--due`` of them: CPU milliseconds per fired timer,
with ``--few`` pending timers beside them, then again after far-future timers were added up to
``--many`` pending (a province's backlog): the claim must not slow down with the table. On
PostgreSQL it also fires with two worker processes at once against one.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from complaintkit.bench.intake import PG_URL, _pg_reachable, _scratch_schema
from complaintkit.bench.report import emit

CATEGORIES = ("call_quality", "bill_dispute", "sms_failure", "business_hall")


def _kit(url: str, *, days: int = 0) -> Any:
    from complaintkit.engine.store import Store
    from complaintkit.kit import ComplaintKit
    from complaintkit.testing import VirtualClock

    clock = VirtualClock()
    kit = ComplaintKit(Store.open(url), clock=clock)
    if days:
        clock.set(clock.now() + timedelta(days=days))
    return kit


def _accept(kit: Any, count: int, first: int = 0) -> None:
    from complaintkit.core.model import Actor, Role

    actor = Actor("fd001", Role.FRONT_DESK, "service_centre")
    for i in range(first, first + count):
        kit.accept(actor, msisdn=f"139{i:08d}", channel="hotline", category=CATEGORIES[i % 4],
                   description="客户反映问题，要求处理")


def _pending(kit: Any) -> int:
    with kit.store.read() as tx:
        return int(tx._run("SELECT COUNT(*) FROM ck_timers WHERE state = 'pending'").fetchone()[0])


def _fill(kit: Any, up_to: int) -> None:
    """Far-future pending timers of tickets that do not exist, up to ``up_to`` pending in all:
    they are never due here, they only make the table and its indexes a backlog's size."""
    missing = up_to - _pending(kit)
    if missing <= 0:
        return
    with kit.store.transaction() as tx:
        if kit.store.dialect == "postgresql":
            tx._run("INSERT INTO ck_timers (ticket_id, name, due_at, state, data) SELECT 'FILL' || g, "
                    "'overdue:total', TIMESTAMP '2099-01-01' + g * INTERVAL '1 second', 'pending', '{}' "
                    "FROM generate_series(1, ?) AS g", (missing,))
            tx._run("ANALYZE ck_timers")
        else:
            cursor = tx._raw_cursor()
            cursor.executemany("INSERT INTO ck_timers (ticket_id, name, due_at, state, data) "
                               "VALUES (?, 'overdue:total', ?, 'pending', '{}')",
                               ((f"FILL{g}", f"2099-01-01 00:00:{g % 60:02d}.{g:06d}"[:26]) for g in range(missing)))


def _fire(kit: Any, count: int) -> tuple[float, int]:
    """CPU ms per fired timer over ``count`` timers."""
    from complaintkit.engine import timers

    started = time.process_time()
    fired = timers.fire_due(kit.runner, kit.clock.now(), limit=count)
    return (time.process_time() - started) * 1000 / max(fired, 1), fired


def _one_database(url: str, due: int, few: int, many: int) -> dict[str, Any]:
    kit = _kit(url)
    _accept(kit, due * 2 // 3 + 1)  # three timers a ticket: enough due for two rounds
    kit.close()
    kit = _kit(url, days=10)
    _fill(kit, few)
    few_pending = _pending(kit)
    cpu_few, fired_few = _fire(kit, due)
    _fill(kit, many)
    many_pending = _pending(kit)
    cpu_many, fired_many = _fire(kit, due)
    kit.close()
    return {"cpu_ms_few": cpu_few, "fired_few": fired_few, "pending_few": few_pending,
            "cpu_ms_many": cpu_many, "fired_many": fired_many, "pending_many": many_pending}


def _worker_process(url: str, limit: int, start: Any, out: Any) -> None:
    kit = _kit(url, days=10)
    from complaintkit.engine import timers

    start.wait()
    began = time.perf_counter()
    fired = timers.fire_due(kit.runner, kit.clock.now(), limit=limit)
    out.put((fired, began, time.perf_counter()))
    kit.close()


def _processes(url: str, count: int, limit: int) -> float:
    """Timers fired per second of wall time by ``count`` worker processes together."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker_process, args=(url, limit, start, out)) for _ in range(count)]
    for proc in procs:
        proc.start()
    time.sleep(3.0)  # every process has imported and opened its kit
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    fired = sum(r[0] for r in results)
    return fired / (max(r[2] for r in results) - min(r[1] for r in results))


@click.command()
@click.option("--due", default=3000, show_default=True, help="Timers fired per measurement.")
@click.option("--few", default=10_000, show_default=True, help="Pending timers in the small table.")
@click.option("--many", default=1_000_000, show_default=True, help="Pending timers in the large table.")
@click.option("--pg", "pg_url", default=PG_URL, show_default=True, envvar="COMPLAINTKIT_BENCH_PG",
              help="PostgreSQL to measure on ('' to skip).")
def timers(due: int, few: int, many: int, pg_url: str) -> None:
    """CPU per fired timer with few and many pending; two workers against one on PostgreSQL."""
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"due": due}
    databases: list[tuple[str, Any]] = []
    folder = tempfile.TemporaryDirectory(prefix="ck-bench-")
    databases.append(("sqlite", f"sqlite:///{Path(folder.name) / 'timers.db'}"))
    problem = _pg_reachable(pg_url) if pg_url else "skipped (--pg '')"
    if problem:
        click.echo(f"PostgreSQL not measured: {problem}", err=True)
        figures["postgres"] = f"skipped: {problem}"
    try:
        for name, url in databases + ([("postgresql", pg_url)] if not problem else []):
            if name == "postgresql":
                with _scratch_schema(url) as scratch:
                    found = _one_database(scratch, due, few, many)
                with _scratch_schema(url) as scratch:
                    kit = _kit(scratch)
                    _accept(kit, due * 2)
                    kit.close()
                    one = _processes(scratch, 1, due)
                    two = _processes(scratch, 2, due)
                rows.append([name, "timers/s, 1 worker process", one, ""])
                rows.append([name, "timers/s, 2 worker processes", two, f"{two / one:.2f}x of 1"])
                figures.update(postgres_one_worker_per_s=round(one, 1), postgres_two_workers_per_s=round(two, 1),
                               postgres_two_workers_ratio=round(two / one, 3))
            else:
                found = _one_database(url, due, few, many)
            ratio = found["cpu_ms_many"] / found["cpu_ms_few"]
            rows.append([name, f"CPU ms / fired timer, {found['pending_few']:,} pending", found["cpu_ms_few"], ""])
            rows.append([name, f"CPU ms / fired timer, {found['pending_many']:,} pending", found["cpu_ms_many"],
                         f"{ratio:.2f}x of few"])
            figures.update({f"{name}_cpu_ms_per_timer": round(found["cpu_ms_few"], 3),
                            f"{name}_cpu_ms_per_timer_many": round(found["cpu_ms_many"], 3),
                            f"{name}_pending_many": found["pending_many"],
                            f"{name}_many_ratio": round(ratio, 3),
                            f"{name}_target_met": found["cpu_ms_few"] <= 1.5 and ratio <= 1.1})
    finally:
        folder.cleanup()
    emit("timers", ["database", "measure", "value", "ratio"], rows, figures)
