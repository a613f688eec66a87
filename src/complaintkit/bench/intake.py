"""``complaintkit bench intake``: tickets accepted per second through the whole path.

The full path is what ``kit.accept`` does — validate, look up the customer's last 30 days for a
repeat complaint, ask the rules, compute deadlines, write the ticket, its events and its timers
in one transaction. Two baselines run on the same database in the same run, in alternating
rounds:

* **the same rows, raw** — the physical limit: the very rows the kit's previous round wrote
  (ticket, events, timers, with the kit's own tables and indexes), written with the raw driver,
  one transaction per ticket (on PostgreSQL one round trip per ticket, as the kit does);
* **one row, raw** — one INSERT of one small row per transaction: the floor any store pays.

On PostgreSQL it also measures accepts from several threads on one kit.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from complaintkit.bench.report import emit

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
CATEGORIES = ("call_quality", "bill_dispute", "sms_failure", "business_hall")
#: the tables one accept writes, parent first
TABLES = ("ck_tickets", "ck_events", "ck_timers", "ck_outbox")


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
        self.last_ids: list[str] = []
        self.run(1)  # warm-up: caches, prepared statements

    def accept(self, i: int) -> str:
        return self.kit.accept(self.actor, msisdn=f"138{i:08d}", channel="hotline", category=CATEGORIES[i % 4],
                               description="客户反映问题，要求处理").id

    def run(self, count: int) -> float:
        first = self.done
        self.done += count
        started = time.perf_counter()
        self.last_ids = [self.accept(i) for i in range(first, first + count)]
        return count / (time.perf_counter() - started)

    def written(self) -> list[dict[str, list[dict[str, Any]]]]:
        """The rows the last round wrote, ticket by ticket, table by table (ids left out: the
        database gives them)."""
        with self.store.read() as tx:
            out: dict[str, dict[str, list[dict[str, Any]]]] = {i: {t: [] for t in TABLES} for i in self.last_ids}
            for table in TABLES:
                key = "id" if table == "ck_tickets" else "ticket_id"
                for chunk in range(0, len(self.last_ids), 500):
                    ids = self.last_ids[chunk:chunk + 500]
                    marks = ", ".join(["%s" if self.store.dialect == "postgresql" else "?"] * len(ids))
                    cursor = tx._raw_cursor()
                    cursor.execute(f"SELECT * FROM {table} WHERE {key} IN ({marks})", ids)
                    names = [d[0] for d in cursor.description]
                    for values in cursor.fetchall():
                        row = dict(zip(names, values, strict=True))
                        if table != "ck_tickets":
                            row.pop("id")
                        out[row[key]][table].append(row)
        return list(out.values())

    def close(self) -> None:
        self.kit.close()


class _SameRowsSqlite:
    """The kit's rows of the previous round, written with sqlite3: BEGIN IMMEDIATE, the inserts,
    COMMIT per ticket, on a database with the kit's schema (same indexes) and its settings."""

    def __init__(self, path: Path) -> None:
        from complaintkit.engine.store import Store

        Store.open(f"sqlite:///{path}").close()  # the kit's tables and indexes, nothing in them
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def run(self, tickets: list[dict[str, list[dict[str, Any]]]]) -> float:
        statements = {}
        for table in TABLES:
            sample = next((t[table][0] for t in tickets if t[table]), None)
            if sample is not None:
                names = list(sample)
                statements[table] = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                     names)
        prepared = [[(statements[table][0], [tuple(r[n] for n in statements[table][1]) for r in ticket[table]])
                     for table in TABLES if ticket[table]] for ticket in tickets]
        cursor = self.conn.cursor()
        started = time.perf_counter()
        for ticket in prepared:
            cursor.execute("BEGIN IMMEDIATE")
            for sql, rows in ticket:
                if len(rows) == 1:
                    cursor.execute(sql, rows[0])
                else:
                    cursor.executemany(sql, rows)
            cursor.execute("COMMIT")
        return len(prepared) / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.close()


class _SameRowsPostgres:
    """The kit's rows of the previous round, written with psycopg in ONE statement per ticket
    (autocommit; the ticket as parameters, events and timers as one JSON array each): one round
    trip per ticket, the least a client–server database allows."""

    def __init__(self, url: str) -> None:
        import psycopg

        from complaintkit.engine.store import Store

        Store.open(url).close()
        self.conn = psycopg.connect(url, autocommit=True)

    def run(self, tickets: list[dict[str, list[dict[str, Any]]]]) -> float:
        prepared = []
        for ticket in tickets:
            parts: list[str] = []
            params: list[Any] = []
            for table in TABLES:
                rows = ticket[table]
                if not rows:
                    continue
                names = ", ".join(f'"{n}"' for n in rows[0])
                if table == "ck_tickets":
                    parts.append(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(rows[0]))})")
                    params.extend(rows[0].values())
                else:
                    parts.append(f"INSERT INTO {table} ({names}) SELECT {names} "
                                 f"FROM json_populate_recordset(NULL::{table}, %s::json)")
                    params.append(json.dumps(rows, default=_iso, ensure_ascii=False))
            ctes = ", ".join(f"w{i} AS ({p})" for i, p in enumerate(parts[:-1]))
            prepared.append(((f"WITH {ctes} " if ctes else "") + parts[-1], params))
        cursor = self.conn.cursor()
        started = time.perf_counter()
        for sql, params in prepared:
            cursor.execute(sql, params)
        return len(prepared) / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.close()


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


class _OneRowSqlite:
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
        self.conn.close()


class _OneRowPostgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS raw_bench (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
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
        self.conn.close()


def _rounds(full: _FullPath, same: Any, one: Any, tickets: int, rounds: int) -> tuple[float, float, float]:
    """Alternate the kit, the same rows raw and one row raw, round by round, so all three see
    the same machine load; the median of each (a spike in one round moves none)."""
    per_round = max(1, tickets // rounds)
    full_rates, same_rates, one_rates = [], [], []
    try:
        for _ in range(rounds):
            full_rates.append(full.run(per_round))
            same_rates.append(same.run(full.written()))
            one_rates.append(one.run(per_round))
    finally:
        for path in (full, same, one):
            path.close()
    return statistics.median(full_rates), statistics.median(same_rates), statistics.median(one_rates)


def _threads(url: str, tickets: int, count: int) -> float:
    """Accepts per second from ``count`` threads on one kit (each thread its own connection)."""
    full = _FullPath(url)
    per_thread = max(1, tickets // count)
    base = 10_000_000
    barrier = threading.Barrier(count + 1)

    def work(n: int) -> None:
        barrier.wait()
        start = base + n * per_thread
        for i in range(start, start + per_thread):
            full.accept(i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = per_thread * count / (time.perf_counter() - started)
    full.close()
    return rate


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
@click.option("--threads", default=4, show_default=True, help="Threads for the PostgreSQL several-threads figure.")
@click.option("--pg", "pg_url", default=PG_URL, show_default=True, envvar="COMPLAINTKIT_BENCH_PG",
              help="PostgreSQL to measure on ('' to skip).")
def intake(tickets: int, rounds: int, threads: int, pg_url: str) -> None:
    """Tickets accepted per second (rules + one transaction) vs the same rows written raw."""
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {"tickets": tickets, "rounds": rounds}
    with tempfile.TemporaryDirectory(prefix="ck-bench-") as folder:
        base = Path(folder)
        full, same, one = _rounds(_FullPath(f"sqlite:///{base / 'kit.db'}"), _SameRowsSqlite(base / "same.db"),
                                  _OneRowSqlite(base / "one.db"), tickets, rounds)
    rows.append(["sqlite", "raw driver: the kit's rows, 1 transaction / ticket", same, ""])
    rows.append(["sqlite", "raw driver: 1 small row / transaction", one, ""])
    rows.append(["sqlite", "complaintkit accept (full path)", full, f"{full / same:.3f}x of the same rows raw"])
    # ``*_raw_per_s``: the baseline the ratio is taken against (the same rows, raw)
    figures.update(sqlite_kit_per_s=round(full, 1), sqlite_raw_per_s=round(same, 1),
                   sqlite_one_row_raw_per_s=round(one, 1), sqlite_ratio=round(full / same, 3),
                   sqlite_ratio_one_row=round(full / one, 3),
                   sqlite_target_met=full >= 1500 and full >= same / 2)
    if pg_url:
        problem = _pg_reachable(pg_url)
        if problem:
            click.echo(f"PostgreSQL at {pg_url} not reachable ({problem}); measured SQLite only", err=True)
            figures["postgres"] = f"skipped: {problem}"
        else:
            with _scratch_schema(pg_url) as kit_url, _scratch_schema(pg_url) as raw_url:
                full_pg, same_pg, one_pg = _rounds(_FullPath(kit_url), _SameRowsPostgres(raw_url),
                                                   _OneRowPostgres(raw_url), tickets, rounds)
            with _scratch_schema(pg_url) as kit_url:
                many = _threads(kit_url, tickets, threads) if threads > 1 else full_pg
            rows.append(["postgresql", "raw driver: the kit's rows, 1 round trip / ticket", same_pg, ""])
            rows.append(["postgresql", "raw driver: 1 small row / transaction", one_pg, ""])
            rows.append(["postgresql", "complaintkit accept (full path), 1 thread", full_pg,
                         f"{full_pg / same_pg:.3f}x of the same rows raw"])
            rows.append(["postgresql", f"complaintkit accept, {threads} threads", many,
                         f"{many / full_pg:.2f}x of 1 thread"])
            figures.update(postgres_kit_per_s=round(full_pg, 1), postgres_raw_per_s=round(same_pg, 1),
                           postgres_one_row_raw_per_s=round(one_pg, 1), postgres_ratio=round(full_pg / same_pg, 3),
                           postgres_threads=threads, postgres_threads_per_s=round(many, 1),
                           postgres_target_met=full_pg >= 0.7 * same_pg)
    # every command passes one permission check (SPEC H3): its cost beside the whole path's
    from complaintkit.bench.permissions import measure

    check_us = next(iter(measure(20_000).values()))
    rows.append(["-", "permission check (authorize), µs", round(check_us, 3),
                 f"{check_us / (1e6 / full) * 100:.2f}% of an accept"])
    figures.update(permission_check_us=round(check_us, 3))
    emit("intake", ["database", "path", "per second (median of rounds)", "ratio"], rows, figures)
