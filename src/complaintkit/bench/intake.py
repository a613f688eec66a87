"""``complaintkit bench intake``: tickets accepted per second through the whole path.

The full path is what ``kit.accept`` does — validate, ask the rules, compute deadlines, write the
ticket, its events and its timers in one transaction. The baseline is the raw driver doing one
INSERT per transaction on the same database in the same run: the floor any store pays.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from complaintkit.bench.report import emit

PG_URL = "postgresql://127.0.0.1:5432/test"


def _full_path(url: str, count: int) -> float:
    import structlog

    from complaintkit.kit import ComplaintKit
    from complaintkit.model import Actor, Role
    from complaintkit.store import Store
    from complaintkit.testing import VirtualClock

    structlog.configure(processors=[], logger_factory=structlog.ReturnLoggerFactory())  # measure the kit, not a log sink
    store = Store.open(url)
    _clear(store)
    kit = ComplaintKit(store, clock=VirtualClock())
    actor = Actor("fd001", Role.FRONT_DESK, "service_centre")
    categories = ["call_quality", "bill_dispute", "sms_failure", "business_hall"]
    kit.accept(actor, msisdn="13800000000", channel="hotline", category="hotline", description="warm-up")
    started = time.perf_counter()
    for i in range(count):
        kit.accept(actor, msisdn=f"138{i:08d}", channel="hotline", category=categories[i % 4],
                   description="客户反映问题，要求处理")
    elapsed = time.perf_counter() - started
    _clear(store)
    kit.close()
    return count / elapsed


def _clear(store: Any) -> None:
    from complaintkit.store import schema

    with store.transaction() as tx:
        for table in reversed(schema.metadata.sorted_tables):
            tx.conn.execute(table.delete())


def _raw_sqlite(path: Path, count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    started = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO raw_bench VALUES (?, ?)", (f"T{i}", "客户反映问题，要求处理"))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.execute("DROP TABLE raw_bench")
    conn.close()
    return count / elapsed


def _raw_postgres(count: int) -> float:
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql://", "postgresql://postgres@") if "@" not in PG_URL else PG_URL,
                         autocommit=False) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        conn.execute("TRUNCATE raw_bench")
        conn.commit()
        started = time.perf_counter()
        for i in range(count):
            conn.execute("INSERT INTO raw_bench VALUES (%s, %s)", (f"T{i}", "客户反映问题，要求处理"))
            conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE raw_bench")
        conn.commit()
    return count / elapsed


def _pg_reachable(url: str) -> str:
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return ""


@click.command()
@click.option("--tickets", default=2000, show_default=True, help="Tickets per measurement.")
@click.option("--pg", "pg_url", default=PG_URL, show_default=True, envvar="COMPLAINTKIT_BENCH_PG",
              help="PostgreSQL to measure on ('' to skip).")
def intake(tickets: int, pg_url: str) -> None:
    """Tickets accepted per second (rules + one transaction) vs the raw driver's inserts."""
    global PG_URL
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"tickets": tickets}
    with tempfile.TemporaryDirectory(prefix="ck-bench-") as folder:
        raw = _raw_sqlite(Path(folder) / "raw.db", tickets)
        full = _full_path(f"sqlite:///{Path(folder) / 'kit.db'}", tickets)
    rows.append(["sqlite", "raw driver: 1 insert / transaction", raw, ""])
    rows.append(["sqlite", "complaintkit accept (full path)", full, f"{full / raw:.3f}x of raw"])
    figures.update(sqlite_raw_per_s=round(raw, 1), sqlite_kit_per_s=round(full, 1),
                   sqlite_ratio=round(full / raw, 3), sqlite_target_met=full >= 1000)
    if pg_url:
        PG_URL = pg_url
        problem = _pg_reachable(pg_url)
        if problem:
            click.echo(f"PostgreSQL at {pg_url} not reachable ({problem}); measured SQLite only", err=True)
            figures["postgres"] = f"skipped: {problem}"
        else:
            raw_pg = _raw_postgres(tickets)
            full_pg = _full_path(pg_url, tickets)
            rows.append(["postgresql", "raw driver: 1 insert / transaction", raw_pg, ""])
            rows.append(["postgresql", "complaintkit accept (full path)", full_pg, f"{full_pg / raw_pg:.3f}x of raw"])
            figures.update(postgres_raw_per_s=round(raw_pg, 1), postgres_kit_per_s=round(full_pg, 1),
                           postgres_ratio=round(full_pg / raw_pg, 3), postgres_target_met=full_pg >= raw_pg / 2)
    emit("intake", ["database", "path", "per second", "ratio"], rows, figures)
    os.environ.pop("_CK_BENCH", None)
