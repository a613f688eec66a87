"""``complaintkit bench intake``: tickets accepted per second through the whole path.

The full path is what ``kit.accept`` does — validate, ask the rules, compute deadlines, write the
ticket, its events and its timers in one transaction. The baseline is the raw driver doing one
INSERT per transaction on the same database in the same run: the floor any store pays.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from complaintkit.bench.report import emit

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


class _FullPath:
    """The kit's accept on one database, ready to be measured in rounds."""

    def __init__(self, url: str) -> None:
        from complaintkit.core.model import Actor, Role
        from complaintkit.engine.store import Store
        from complaintkit.kit import ComplaintKit
        from complaintkit.testing import VirtualClock

        self.store = Store.open(url)  # a fresh database: a temporary file, or a scratch schema
        self.kit = ComplaintKit(self.store, clock=VirtualClock())
        self.actor = Actor("fd001", Role.FRONT_DESK, "service_centre")
        self.done = 0
        self.run(1)  # warm-up: caches, prepared statements

    def run(self, count: int) -> float:
        categories = ["call_quality", "bill_dispute", "sms_failure", "business_hall"]
        started = time.perf_counter()
        for i in range(self.done, self.done + count):
            self.kit.accept(self.actor, msisdn=f"138{i:08d}", channel="hotline", category=categories[i % 4],
                            description="客户反映问题，要求处理")
        self.done += count
        return count / (time.perf_counter() - started)

    def close(self) -> None:
        self.kit.close()


class _RawSqlite:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        self.done = 0

    def run(self, count: int) -> float:
        started = time.perf_counter()
        for i in range(self.done, self.done + count):
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("INSERT INTO raw_bench VALUES (?, ?)", (f"T{i}", "客户反映问题，要求处理"))
            self.conn.execute("COMMIT")
        self.done += count
        return count / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.execute("DROP TABLE raw_bench")
        self.conn.close()


class _RawPostgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        self.conn.execute("TRUNCATE raw_bench")
        self.conn.commit()
        self.done = 0

    def run(self, count: int) -> float:
        started = time.perf_counter()
        for i in range(self.done, self.done + count):
            self.conn.execute("INSERT INTO raw_bench VALUES (%s, %s)", (f"T{i}", "客户反映问题，要求处理"))
            self.conn.commit()
        self.done += count
        return count / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.execute("DROP TABLE raw_bench")
        self.conn.commit()
        self.conn.close()


def _rounds(raw: Any, full: Any, tickets: int, rounds: int) -> tuple[float, float]:
    """Alternate raw and full-path rounds so both see the same machine load; return the
    median of each (a spike in one round moves neither)."""
    import statistics

    per_round = max(1, tickets // rounds)
    raw_rates, full_rates = [], []
    for _ in range(rounds):
        raw_rates.append(raw.run(per_round))
        full_rates.append(full.run(per_round))
    raw.close()
    full.close()
    return statistics.median(raw_rates), statistics.median(full_rates)


@contextlib.contextmanager
def _scratch_schema(url: str) -> Iterator[str]:
    """A fresh schema for the run, dropped afterwards: the benchmark never touches the tables of
    the database it is pointed at, and always measures empty, unbloated tables."""
    import psycopg

    schema = f"ck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _pg_reachable(url: str) -> str:
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any reason to skip PostgreSQL is reported as such
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return ""


@click.command()
@click.option("--tickets", default=4000, show_default=True, help="Tickets per path and database.")
@click.option("--rounds", default=8, show_default=True, help="Alternating rounds the tickets are split into.")
@click.option("--pg", "pg_url", default=PG_URL, show_default=True, envvar="COMPLAINTKIT_BENCH_PG",
              help="PostgreSQL to measure on ('' to skip).")
def intake(tickets: int, rounds: int, pg_url: str) -> None:
    """Tickets accepted per second (rules + one transaction) vs the raw driver's inserts."""
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"tickets": tickets, "rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="ck-bench-") as folder:
        raw, full = _rounds(_RawSqlite(Path(folder) / "raw.db"), _FullPath(f"sqlite:///{Path(folder) / 'kit.db'}"),
                            tickets, rounds)
    rows.append(["sqlite", "raw driver: 1 insert / transaction", raw, ""])
    rows.append(["sqlite", "complaintkit accept (full path)", full, f"{full / raw:.3f}x of raw"])
    figures.update(sqlite_raw_per_s=round(raw, 1), sqlite_kit_per_s=round(full, 1),
                   sqlite_ratio=round(full / raw, 3), sqlite_target_met=full >= 1000)
    if pg_url:
        problem = _pg_reachable(pg_url)
        if problem:
            click.echo(f"PostgreSQL at {pg_url} not reachable ({problem}); measured SQLite only", err=True)
            figures["postgres"] = f"skipped: {problem}"
        else:
            with _scratch_schema(pg_url) as url:
                raw_pg, full_pg = _rounds(_RawPostgres(url), _FullPath(url), tickets, rounds)
            rows.append(["postgresql", "raw driver: 1 insert / transaction", raw_pg, ""])
            rows.append(["postgresql", "complaintkit accept (full path)", full_pg, f"{full_pg / raw_pg:.3f}x of raw"])
            figures.update(postgres_raw_per_s=round(raw_pg, 1), postgres_kit_per_s=round(full_pg, 1),
                           postgres_ratio=round(full_pg / raw_pg, 3), postgres_target_met=full_pg >= raw_pg / 2)
    # every command passes one permission check (SPEC H3): its cost beside the whole path's
    from complaintkit.bench.permissions import measure

    check_us = next(iter(measure(20_000).values()))
    rows.append(["-", "permission check (authorize), µs", round(check_us, 3),
                 f"{check_us / (1e6 / full) * 100:.2f}% of an accept"])
    figures.update(permission_check_us=round(check_us, 3))
    emit("intake", ["database", "path", "per second (median of rounds)", "ratio"], rows, figures)
