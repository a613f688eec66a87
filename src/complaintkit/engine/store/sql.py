"""One store for SQLite and PostgreSQL: tickets, events, timers and the outbox in one transaction.

``Store.open("sqlite:///complaints.db")`` or ``Store.open("postgresql://host/db")``; the schema is
brought to the newest migration on open. A command runs inside ``store.transaction()``: it loads
the ticket (locked on PostgreSQL), asks the rules, and writes everything the decision holds; the
transaction commits all of it or nothing.

Several workers share timers and the outbox on PostgreSQL by claiming rows with
``FOR UPDATE SKIP LOCKED``; on SQLite every write transaction starts ``IMMEDIATE``, so one writer
at a time holds the lock for the whole command.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import attrs
from sqlalchemy import Connection, DateTime, Engine, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
)

from complaintkit.core.codec import converter
from complaintkit.core.errors import ConcurrentChange, StoreUnavailable, TicketBusy, TicketNotFound
from complaintkit.core.masking import mask_text
from complaintkit.core.model import (
    Event,
    MessageChannel,
    MessageState,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
    Timer,
)
from complaintkit.engine.store import schema
from complaintkit.engine.store.quiet import INBOX, TIMERS, Quiet, outbox_key
from complaintkit.logging import get_logger

log = get_logger(__name__)


def utc(moment: datetime) -> datetime:
    """Aware → naive UTC, the form every table stores."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: the store needs aware times")
    return moment.astimezone(UTC).replace(tzinfo=None)


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


@attrs.define(frozen=True)
class ClaimedTimer:
    id: int
    timer: Timer


@attrs.define(frozen=True)
class ClaimedMessage:
    id: int
    message: OutgoingMessage
    attempts: int


def _shown(url: str) -> str:
    """The URL as it may be shown in an error: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not even a URL: show its scheme only
        return url.split("://", 1)[0] + "://…" if "://" in url else "the URL given"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_text(text[0][:300]) if text else type(exc).__name__


class Store:
    """A database holding complaintkit's tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local = threading.local()
        self._inserters: list[Any] = []
        self._lanes: list[_Lane] = []
        self._lanes_lock = threading.Lock()
        #: transactions run, writes and reads apart: what a benchmark counts
        self.counts = {"writes": 0, "reads": 0}
        #: what this process knows is not waiting (see quiet.py): the worker's loops skip empty passes
        self.quiet = Quiet()
        # an in-memory SQLite database is one connection shared by every thread (the worker's
        # loops, a transport's I/O thread handing replies to the inbox): one user at a time
        self._shared = threading.RLock() if engine.pool.__class__.__name__ == "StaticPool" else None

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, **engine_options: Any) -> Store:
        """Connect to ``url`` (``sqlite:///file.db``, ``sqlite://`` or ``postgresql://…``).

        A URL the kit cannot use, or a database it cannot reach or migrate, is
        :class:`StoreUnavailable` saying which (the password never shown).
        """
        if not isinstance(url, str) or not url.strip():
            raise StoreUnavailable("the database URL is empty; write sqlite:///complaints.db or "
                                   "postgresql://user@host/database", unusable=True)
        try:
            return cls._open(url, migrate=migrate, **engine_options)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreUnavailable(f"{_shown(url)!r} is not a database URL the kit can use ({_first_line(exc)}); "
                                   "write sqlite:///complaints.db or postgresql://user@host/database",
                                   unusable=True) from exc
        except DBAPIError as exc:
            raise StoreUnavailable(f"cannot open the database {_shown(url)}: {_first_line(exc.orig or exc)}") from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot open the database {_shown(url)}: {_first_line(exc)}") from exc

    @classmethod
    def _open(cls, url: str, *, migrate: bool, **engine_options: Any) -> Store:
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        if url in ("sqlite://", "sqlite:///:memory:"):
            from sqlalchemy.pool import StaticPool

            # one shared connection, or every checkout would see a new empty database
            engine_options.setdefault("poolclass", StaticPool)
            engine_options.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **engine_options)
        if engine.dialect.name == "sqlite":
            _sqlite_setup(engine)
        store = cls(engine)
        if migrate:
            try:
                store.migrate()
            except BaseException:
                engine.dispose()
                raise
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic)."""
        if self._at_head():
            # a worker restarting after a crash starts firing timers ~0.15 s sooner without
            # loading Alembic to learn there is nothing to do
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("complaintkit.engine.store") / "migrations"))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def _at_head(self) -> bool:
        try:
            with self.engine.connect() as conn:
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError:
            return False  # a new database: no version table yet
        return version == schema.HEAD_REVISION

    def close(self) -> None:
        for conn in self._inserters:
            conn.close()
        self._inserters.clear()
        with self._lanes_lock:
            lanes, self._lanes = self._lanes, []
        for lane in lanes:
            lane.close()
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One command's transaction: commits when the block ends, rolls back if it raises.

        It runs on this thread's own connection (:class:`_Lane`) with BEGIN and COMMIT sent by the
        store itself: checking a connection out of a pool and letting SQLAlchemy begin and end
        the transaction cost more than a small command's statements."""
        with self._exclusive():
            lane, own = self._take_lane()
            try:
                lane.begin(immediate=True)
                tx = Transaction(lane.conn, self.dialect, lane.cursor)
                yield tx
                lane.commit()
                self.counts["writes"] += 1
                self._woken(tx)
            except BaseException:
                lane.rollback()
                raise
            finally:
                self._give_back(lane, own)

    def _take_lane(self) -> tuple[_Lane, bool]:
        """This thread's lane, or — inside another transaction of this thread (a command that
        records something of its own meanwhile) — a connection for this once."""
        lane: _Lane | None = getattr(self._local, "lane", None)
        if lane is not None and lane.busy:
            lane = _Lane(self.engine)
            lane.busy = True
            return lane, True
        if lane is None or lane.dead():
            if lane is not None:
                self._forget(lane)
            lane = _Lane(self.engine)
            self._local.lane = lane
            with self._lanes_lock:
                self._lanes.append(lane)
        lane.busy = True
        return lane, False

    def _give_back(self, lane: _Lane, own: bool) -> None:
        lane.busy = False
        if own:
            lane.close()
        elif lane.dead():  # a dropped connection is replaced on the next transaction
            self._forget(lane)
            self._local.lane = None

    def _forget(self, lane: _Lane) -> None:
        lane.close()
        with self._lanes_lock:
            if lane in self._lanes:
                self._lanes.remove(lane)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self._shared is None:
            yield
            return
        with self._shared:
            yield

    @contextmanager
    def inserting(self) -> Iterator[Transaction]:
        """A transaction that only inserts (a new ticket with its events, timers and messages).

        On PostgreSQL the rows are collected and written by ONE statement — a data-modifying
        CTE reading each table's rows from a JSON parameter — sent in autocommit mode: a single
        statement is atomic by itself, so the whole command is one round trip, where BEGIN,
        three INSERTs and COMMIT would be four or five. The caller may only insert inside.
        """
        if self.dialect != "postgresql":
            with self.transaction() as tx:
                yield tx
            return
        tx = Transaction(None, self.dialect)  # type: ignore[arg-type]
        tx._buffer = {}
        tx._cursor = self._inserter()
        yield tx
        tx._flush()
        self.counts["writes"] += 1
        self._woken(tx)

    def _woken(self, tx: Transaction) -> None:
        """After a commit: wake the loops for what it queued (see quiet.py)."""
        for key, at in tx.wakes:
            if key.endswith("*"):
                self.quiet.wake_prefix(key[:-1])
            else:
                self.quiet.wake(key, at)

    def _inserter(self) -> Any:
        """A cursor on this thread's autocommit connection for :meth:`inserting` (kept, not pooled: checking
        a pooled connection out and flipping it to autocommit and back costs more than the
        statement)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:  # a dropped connection is replaced
            import psycopg

            url = self.engine.url.set(drivername="postgresql")
            conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._local.conn = conn
            self._local.cursor = conn.cursor()
            self._inserters.append(conn)
        return self._local.cursor

    def quick_read(self) -> Transaction | None:
        """On PostgreSQL, a view on this thread's autocommit connection (see :meth:`inserting`)
        for the one statement a command reads before it only inserts — a customer's recent
        tickets — one round trip, no transaction. None on SQLite (read inside the transaction)."""
        if self.dialect != "postgresql":
            return None
        tx = Transaction(None, self.dialect)  # type: ignore[arg-type]
        tx._cursor = self._inserter()
        return tx

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read-only view (queries, reports): one snapshot, never writes, always rolled back."""
        with self._exclusive():
            lane, own = self._take_lane()
            try:
                lane.begin(immediate=False)
                self.counts["reads"] += 1
                yield Transaction(lane.conn, self.dialect, lane.cursor)
            finally:
                lane.rollback()
                self._give_back(lane, own)


class _Lane:
    """One thread's connection, kept open: an SQLAlchemy connection in autocommit mode, so that
    the store sends BEGIN, COMMIT and ROLLBACK itself, and its driver cursor, on which the hot
    statements run (their text built once per dialect). Code that builds SQLAlchemy statements
    (the parts' own tables) runs on the same connection, inside the same transaction."""

    __slots__ = ("busy", "conn", "cursor", "sqlite")

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self.sqlite = engine.dialect.name == "sqlite"
        self.busy = False

    def begin(self, *, immediate: bool) -> None:
        # IMMEDIATE takes SQLite's write lock up front: a command that reads then writes can never
        # be refused half-way by another writer (SQLITE_BUSY on lock upgrade). Reads take no lock:
        # in WAL mode they see a snapshot while the worker writes.
        self.cursor.execute("BEGIN IMMEDIATE" if immediate and self.sqlite else "BEGIN")

    def commit(self) -> None:
        self.cursor.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.cursor.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - a broken connection: dead() says so, it is replaced
            if not self.sqlite:
                self.conn.invalidate()

    def dead(self) -> bool:
        if self.conn.invalidated or self.conn.closed:
            return True
        driver = self.conn.connection.driver_connection
        return bool(getattr(driver, "closed", False) or getattr(driver, "broken", False))

    def close(self) -> None:
        try:
            self.cursor.close()
            self.conn.close()
        except Exception:  # noqa: BLE001, S110 - closing a connection the server already dropped
            pass


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The store, not the driver, decides when transactions begin (see _Lane.begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


@functools.lru_cache(maxsize=32)
def _sqlite_insert(table: Any) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """SQLite's INSERT for ``table``: (sql, column order, positions of the DATETIME columns)."""
    names = _insert_columns(table)
    sql = (f"INSERT INTO {table.name} ({', '.join(chr(34) + n + chr(34) for n in names)}) "
           f"VALUES ({', '.join('?' * len(names))})")
    return sql, names, tuple(i for i, n in enumerate(names) if isinstance(table.c[n].type, DateTime))


@functools.lru_cache(maxsize=32)
def _combined_insert_sql(tables: tuple[tuple[Any, bool], ...]) -> str:
    """One INSERT per table, chained as a data-modifying CTE. A single row (the ticket) goes as
    plain parameters; several rows (events, timers) as one JSON array each — one parameter, one
    statement, whatever the count."""
    parts = []
    for table, single in tables:
        columns = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        names = ", ".join(f'"{n}"' for n in columns)
        if single:
            parts.append(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(['%s'] * len(columns))})")
        else:
            parts.append(f"INSERT INTO {table.name} ({names}) SELECT {names} "
                         f"FROM json_populate_recordset(NULL::{table.name}, %s::json)")
    if len(parts) == 1:
        return parts[0]
    ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:-1]))
    return f"WITH {ctes} {parts[-1]}"


def _sqlite_value(value: Any) -> Any:
    """Times as SQLAlchemy's SQLite DATETIME writes them, so stored and bound values compare
    alike as text (and sqlite3's deprecated default adapter is never used)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


@functools.lru_cache(maxsize=32)
def _insert_columns(table: Any) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if not (c.primary_key and c.autoincrement is True))


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


@functools.lru_cache(maxsize=128)
def _multi_insert_sql(table: Any, count: int) -> tuple[str, tuple[str, ...]]:
    names = tuple(c.name for c in table.columns if not (c.primary_key and c.autoincrement is True))
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    columns = ", ".join(f'"{n}"' for n in names)
    return f"INSERT INTO {table.name} ({columns}) VALUES " + ", ".join([row] * count), names


class Transaction:
    """What a command may do inside its one transaction."""

    def __init__(self, conn: Connection, dialect: str, cursor: Any = None) -> None:
        self.conn = conn
        self.dialect = dialect
        self._cursor: Any = cursor
        #: loops to wake after the commit: (key, due at or None for now)
        self.wakes: list[tuple[str, datetime | None]] = []
        #: rows collected for one combined statement (see Store.inserting), by table
        self._buffer: dict[Any, list[dict[str, Any]]] | None = None

    def _flush(self) -> None:
        if not self._buffer:
            return
        shape = tuple((t, len(rows) == 1) for t, rows in self._buffer.items())
        sql = _combined_insert_sql(shape)
        params: list[Any] = []
        for table, single in shape:
            rows = self._buffer[table]
            if single:
                params.extend(rows[0].get(n) for n in _insert_columns(table))
            else:
                params.append(json.dumps(rows, default=_json_default, ensure_ascii=False))
        self._buffer = None
        try:
            self._raw_cursor().execute(sql, params)
        except _integrity_errors() as exc:
            raise ConcurrentChange(f"duplicate key: {exc}") from exc

    def _insert_many(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Insert rows through the driver directly: the hot path of every command.

        Compiling a Core statement per call costs more than the insert itself; the statement
        text is built once per table (and, on PostgreSQL, per row count: one multi-row INSERT is
        one query in the pipeline, where ``executemany`` would be one per row).
        """
        if self._buffer is not None:
            self._buffer.setdefault(table, []).extend(rows)
            return
        cursor = self._raw_cursor()
        if self.dialect == "postgresql":
            sql, names = _multi_insert_sql(table, len(rows))
            cursor.execute(sql, [r.get(n) for r in rows for n in names])
            return
        sql, names, times = _sqlite_insert(table)
        params: list[Any] = []
        for r in rows:
            values: list[Any] = [r.get(n) for n in names]
            for i in times:  # DATETIME as SQLAlchemy writes it on SQLite (see _sqlite_value)
                moment = values[i]
                if moment is not None:
                    values[i] = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
            params.append(values)
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)

    def _raw_cursor(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    # -- statements on the driver cursor ---------------------------------------------------

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run ``sql`` (written with ``?`` marks) on the driver cursor; the text for this
        dialect is made once. Every statement a command, a timer or the outbox runs goes here:
        building and compiling a SQLAlchemy statement per call cost more than running it."""
        cursor = self._raw_cursor()
        cursor.execute(_dialect_sql(self.dialect, sql), params)
        return cursor

    def _t(self, moment: datetime) -> Any:
        """A time as a parameter: naive UTC, and as text on SQLite (how its DATETIME is stored)."""
        naive = utc(moment)
        return naive if self.dialect == "postgresql" else naive.strftime("%Y-%m-%d %H:%M:%S.%f")

    # -- tickets ---------------------------------------------------------------------------

    def load_ticket(self, ticket_id: str, *, lock: bool = True, skip_locked: bool = False) -> Ticket:
        """The ticket, locked for this transaction on PostgreSQL (the first lock a command
        takes: ticket before its timers and messages, everywhere). ``skip_locked``: raise
        :class:`TicketBusy` instead of waiting when another transaction holds it."""
        sql = "SELECT data FROM ck_tickets WHERE id = ?"
        if lock and self.dialect == "postgresql":
            sql += " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
        row = self._run(sql, (ticket_id,)).fetchone()
        if row is None:
            if skip_locked and lock and self.dialect == "postgresql" and self._run(
                    "SELECT 1 FROM ck_tickets WHERE id = ?", (ticket_id,)).fetchone() is not None:
                raise TicketBusy(ticket_id)
            raise TicketNotFound(ticket_id)
        return _ticket(row[0])

    def find_tickets(self, *, msisdn: str | None = None, state: TicketState | None = None,
                     states: Iterable[TicketState] | None = None, department: str | None = None,
                     kind: TicketKind | None = None, limit: int | None = None,
                     parent_id: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> list[Ticket]:
        """Tickets matching every filter given, oldest first (each filter is on an index)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("msisdn", msisdn), ("state", state.value if state is not None else None),
                              ("department", department), ("kind", kind.value if kind is not None else None),
                              ("parent_id", parent_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if states is not None:
            values = [s.value for s in states]
            if not values:
                return []
            where.append(f"state IN ({', '.join('?' * len(values))})")
            params.extend(values)
        if since is not None:
            where.append("created_at >= ?")
            params.append(self._t(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(self._t(until))
        sql = "SELECT data FROM ck_tickets"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_ticket(row[0]) for row in self._run(sql, params).fetchall()]

    def insert_ticket(self, ticket: Ticket) -> Ticket:
        stored = attrs.evolve(ticket, version=1)
        try:
            self._insert_many(schema.tickets, [_ticket_row(stored)])
        except (IntegrityError, *_integrity_errors()) as exc:  # type: ignore[misc]
            raise ConcurrentChange(f"ticket {ticket.id} already exists") from exc
        return stored

    def update_ticket(self, ticket: Ticket) -> Ticket:
        """Write ``ticket`` if nobody changed it since it was loaded (its ``version``)."""
        stored = attrs.evolve(ticket, version=ticket.version + 1)
        row = _ticket_row(stored)
        cursor = self._run(
            "UPDATE ck_tickets SET version = ?, state = ?, kind = ?, msisdn = ?, category = ?, department = ?, "
            "created_at = ?, updated_at = ?, data = ?, parent_id = ? WHERE id = ? AND version = ?",
            (row["version"], row["state"], row["kind"], row["msisdn"], row["category"], row["department"],
             self._t(stored.created_at), self._t(stored.updated_at), row["data"], row["parent_id"],
             ticket.id, ticket.version))
        if cursor.rowcount != 1:
            raise ConcurrentChange(f"ticket {ticket.id} changed meanwhile (version {ticket.version})")
        return stored

    def events(self, ticket_id: str) -> list[Event]:
        rows = self._run("SELECT data FROM ck_events WHERE ticket_id = ? ORDER BY id", (ticket_id,)).fetchall()
        return [converter.structure(json.loads(r[0]), Event) for r in rows]

    def add_events(self, events: Sequence[Event]) -> None:
        if events:
            self._insert_many(schema.events, [
                {"ticket_id": ev.ticket_id, "at": utc(ev.at), "actor": ev.actor, "kind": ev.kind,
                 "data": json.dumps(_event_doc(ev), ensure_ascii=False)}
                for ev in events
            ])

    # -- timers ----------------------------------------------------------------------------

    def set_timers(self, timers: Sequence[Timer], *, replace: bool = True) -> None:
        """Add timers; a pending timer of the same ticket and name is replaced (unless the caller
        knows there is none, as for a ticket created in this transaction)."""
        if not timers:
            return
        if replace:
            by_ticket: dict[str, list[str]] = {}
            for tm in timers:
                by_ticket.setdefault(tm.ticket_id, []).append(tm.name)
            for ticket_id, names in by_ticket.items():
                self.cancel_timers(ticket_id, names)
        self.wakes.append((TIMERS, min(tm.due_at for tm in timers)))
        self._insert_many(schema.timers, [
            {"ticket_id": tm.ticket_id, "name": tm.name, "due_at": utc(tm.due_at), "state": "pending",
             "data": json.dumps(tm.data, ensure_ascii=False) if tm.data else "{}"}
            for tm in timers
        ])

    def cancel_timers(self, ticket_id: str, names: Iterable[str]) -> None:
        names = sorted(set(names))
        if names:
            # {+}: SQLite, without statistics, would walk every pending timer on the due-time
            # index (state first) instead of this ticket's few on the ticket index
            self._run("UPDATE ck_timers SET state = 'cancelled' WHERE ticket_id = ? AND {+}state = 'pending' "
                      f"AND name IN ({', '.join('?' * len(names))})", (ticket_id, *names))

    def pending_timers(self, ticket_id: str | None = None) -> list[Timer]:
        sql = "SELECT ticket_id, name, due_at, data FROM ck_timers WHERE state = 'pending'"
        params: tuple[Any, ...] = ()
        if ticket_id is not None:
            sql += " AND ticket_id = ?"
            params = (ticket_id,)
        rows = self._run(sql + " ORDER BY due_at, id", params).fetchall()
        return [Timer(r[0], r[1], _read_time(r[2]), json.loads(r[3])) for r in rows]

    def next_timer_due(self) -> datetime | None:
        row = self._run("SELECT due_at FROM ck_timers WHERE state = 'pending' ORDER BY due_at LIMIT 1").fetchone()
        return None if row is None else _read_time(row[0])

    def due_timers(self, now: datetime, limit: int) -> list[ClaimedTimer]:
        """Pending timers due by ``now``, earliest first — candidates, not locked: the worker
        locks each one's ticket first, then the timer (:meth:`lock_timer`), the order every
        command takes, so a worker and a command can never deadlock."""
        rows = self._run("SELECT id, ticket_id, name, due_at, data FROM ck_timers WHERE state = 'pending' "
                         "AND due_at <= ? ORDER BY due_at, id LIMIT ?", (self._t(now), int(limit))).fetchall()
        return [ClaimedTimer(r[0], Timer(r[1], r[2], _read_time(r[3]), json.loads(r[4]))) for r in rows]

    def lock_timer(self, timer_id: int) -> bool:
        """Lock a candidate timer (after its ticket); False if it fired, was cancelled or is
        being fired by another worker meanwhile."""
        sql = "SELECT id FROM ck_timers WHERE id = ? AND state = 'pending'"
        if self.dialect == "postgresql":
            sql += " FOR UPDATE SKIP LOCKED"
        return self._run(sql, (timer_id,)).fetchone() is not None

    def quarantine_timer(self, timer_id: int, error: str) -> None:
        self._run("UPDATE ck_timers SET state = 'quarantined', last_error = ? WHERE id = ? AND state = 'pending'",
                  (error[:2000], timer_id))

    def quarantined_timers(self) -> list[dict[str, Any]]:
        t = schema.timers.c
        rows = self.conn.execute(select(t.id, t.ticket_id, t.name, t.due_at, t.last_error)
                                 .where(t.state == "quarantined").order_by(t.id))
        return [dict(r._mapping) for r in rows]

    def release_timer(self, timer_id: int) -> bool:
        """Put a quarantined timer back to pending (after its cause was fixed)."""
        self.wakes.append((TIMERS, None))
        return bool(self._run("UPDATE ck_timers SET state = 'pending', last_error = NULL "
                              "WHERE id = ? AND state = 'quarantined'", (timer_id,)).rowcount)

    def mark_timer_fired(self, timer_id: int, at: datetime) -> None:
        cursor = self._run("UPDATE ck_timers SET state = 'fired', fired_at = ? WHERE id = ? AND state = 'pending'",
                           (self._t(at), timer_id))
        if cursor.rowcount != 1:
            raise ConcurrentChange(f"timer {timer_id} is no longer pending")

    # -- outbox ----------------------------------------------------------------------------

    def add_messages(self, messages: Sequence[OutgoingMessage], now: datetime, *, fresh: bool = False) -> int:
        """Queue messages; a key already queued is not queued again. Returns how many were new.

        ``fresh``: the caller knows no key can exist yet (a ticket created in this transaction),
        so the rows are inserted without the duplicate check (no read-back, pipeline-safe).
        """
        self.wakes.extend((outbox_key(ch), None) for ch in {m.channel.value for m in messages})
        if fresh:
            self._insert_many(schema.outbox, [_message_row(m, now) for m in messages])
            return len(messages)
        added = 0
        for m in messages:
            if self._insert_ignoring_duplicate(schema.outbox, _message_row(m, now), "key"):
                added += 1
        return added

    def _insert_ignoring_duplicate(self, table: Any, row: dict[str, Any], key: str | tuple[str, ...]) -> bool:
        """Insert unless ``key`` exists; True if inserted. RETURNING tells, where rowcount may not."""
        keys = (key,) if isinstance(key, str) else tuple(key)
        names = _insert_columns(table)
        sql = _ignoring_insert_sql(table, keys)
        convert = _sqlite_value if self.dialect == "sqlite" else _same
        return self._run(sql, [convert(row.get(n)) for n in names]).fetchone() is not None

    def claim_messages(self, channel: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMessage]:
        """Messages due for an attempt, leased to this worker until ``now + lease``.

        A worker that dies mid-send leaves its lease to expire (the live worker renews it, see
        :meth:`renew_leases`); another then sends the message again. Such a message may have
        reached the far end already: the re-send is counted on the row (``resends``) and logged.
        """
        n = self._t(now)
        sql = ("SELECT id, key, ticket_id, channel, recipient, sender, subject, text, template, attempts, "
               "lease_until FROM ck_outbox WHERE channel = ? AND state IN ('initial', 'inProgress') "
               "AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
               "ORDER BY next_attempt_at, id LIMIT ?")
        if self.dialect == "postgresql":
            sql += " FOR UPDATE SKIP LOCKED"
        rows = self._run(sql, (channel, n, n, int(limit))).fetchall()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ", ".join("?" * len(ids))
        self._run(f"UPDATE ck_outbox SET lease_until = ?, state = 'inProgress' WHERE id IN ({marks})",
                  (self._t(now + lease), *ids))
        lost = [r[0] for r in rows if r[10] is not None]
        if lost:
            self._run(f"UPDATE ck_outbox SET resends = resends + 1 WHERE id IN ({', '.join('?' * len(lost))})",
                      lost)
            log.warning("re-sending after a lost claim: the far end may get these twice",
                        channel=channel, messages=len(lost), keys=[r[1] for r in rows if r[10] is not None][:10])
        return [ClaimedMessage(r[0], OutgoingMessage(r[1], MessageChannel(r[3]), r[4], r[7], r[2], r[6], r[8], r[5]),
                               r[9]) for r in rows]

    def renew_leases(self, message_ids: Sequence[int], until: datetime) -> None:
        """A live worker keeps its claims: messages still being sent stay leased to it."""
        if message_ids:
            self._run(f"UPDATE ck_outbox SET lease_until = ? WHERE id IN ({', '.join('?' * len(message_ids))}) "
                      "AND lease_until IS NOT NULL", (self._t(until), *message_ids))

    def record_sent(self, message_id: int, now: datetime, remote_ids: Sequence[str], parts: int) -> None:
        self._run("UPDATE ck_outbox SET state = 'completed', sent_at = ?, lease_until = NULL, "
                  "attempts = attempts + 1, remote_ids = ?, parts = ?, last_error = '' WHERE id = ?",
                  (self._t(now), ",".join(remote_ids), parts, message_id))
        for rid in remote_ids:
            self._insert_ignoring_duplicate(schema.remote_ids, {"remote_id": rid, "outbox_id": message_id},
                                            "remote_id")

    def record_retry(self, message_id: int, next_at: datetime, error: str, *, count: bool = True) -> None:
        """Release the message until ``next_at``; ``count`` uses up one of its attempts."""
        self.wakes.append((outbox_key("*"), None))
        self._run("UPDATE ck_outbox SET next_attempt_at = ?, lease_until = NULL, attempts = attempts + ?, "
                  "last_error = ? WHERE id = ?", (self._t(next_at), int(count), error[:500], message_id))

    def record_failed(self, message_id: int, error: str) -> None:
        self._run("UPDATE ck_outbox SET state = 'failed', lease_until = NULL, attempts = attempts + 1, "
                  "last_error = ? WHERE id = ?", (error[:500], message_id))

    def record_delivery(self, remote_id: str, state: str, at: datetime) -> bool:
        row = self._run("SELECT outbox_id FROM ck_remote_ids WHERE remote_id = ?", (remote_id,)).fetchone()
        if row is None:
            return False
        self._run("UPDATE ck_outbox SET delivery = ?, delivered_at = ? WHERE id = ?",
                  (state, self._t(at), row[0]))
        return True

    def messages(self, *, ticket_id: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        o = schema.outbox.c
        query = select(schema.outbox).order_by(o.id)
        if ticket_id is not None:
            query = query.where(o.ticket_id == ticket_id)
        if channel is not None:
            query = query.where(o.channel == channel)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def record_inbound(self, sender: str, recipient: str, text: str, at: datetime, outcome: str,
                       ticket_id: str = "") -> int:
        """Record a customer's SMS; returns its row id (the key of the answer to it)."""
        return int(self._run(
            "INSERT INTO ck_inbound (sender, recipient, text, received_at, outcome, ticket_id) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (sender, recipient, text, self._t(at), outcome, ticket_id)).fetchone()[0])

    def inbound(self) -> list[dict[str, Any]]:
        i = schema.inbound.c
        return [dict(r._mapping) for r in self.conn.execute(select(schema.inbound).order_by(i.id))]

    # -- detectors -------------------------------------------------------------------------

    def claim_detector_window(self, detector: str, window_start: datetime, now: datetime) -> bool:
        """Take a detector's window; False if a run of it is already recorded (or in flight)."""
        return self._insert_ignoring_duplicate(schema.detector_runs, {
            "detector": detector, "window_start": utc(window_start), "ran_at": utc(now), "emitted": 0,
        }, ("detector", "window_start"))

    def settle_detector_window(self, detector: str, window_start: datetime, emitted: int) -> None:
        self._run("UPDATE ck_detector_runs SET emitted = ? WHERE detector = ? AND window_start = ?",
                  (emitted, detector, self._t(window_start)))

    def detector_runs(self, detector: str | None = None) -> list[dict[str, Any]]:
        d = schema.detector_runs.c
        query = select(schema.detector_runs).order_by(d.window_start, d.detector)
        if detector is not None:
            query = query.where(d.detector == detector)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    # -- inbox -----------------------------------------------------------------------------

    def add_inbox(self, kind: str, payload: dict[str, Any], received_at: datetime, now: datetime) -> int:
        """Store what the far end delivered; returns its row id."""
        self.wakes.append((INBOX, None))
        return int(self._run(
            "INSERT INTO ck_inbox (kind, payload, received_at, created_at, state, attempts, next_attempt_at, "
            "last_error, outcome) VALUES (?, ?, ?, ?, 'pending', 0, ?, '', '') RETURNING id",
            (kind, json.dumps(payload, ensure_ascii=False, default=_json_default), self._t(received_at),
             self._t(now), self._t(now))).fetchone()[0])

    def next_inbox_due(self) -> datetime | None:
        row = self._run("SELECT MIN(next_attempt_at) FROM ck_inbox WHERE state = 'pending'").fetchone()
        return None if row is None or row[0] is None else _read_time(row[0])

    def next_message_due(self, channel: str) -> datetime | None:
        """When the next message of ``channel`` may be claimed (its next attempt, or the end of
        the lease a lost worker holds on it); None when none is waiting."""
        row = self._run("SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at "
                        "THEN lease_until ELSE next_attempt_at END) FROM ck_outbox WHERE channel = ? "
                        "AND state IN ('initial', 'inProgress')", (channel,)).fetchone()
        return None if row is None or row[0] is None else _read_time(row[0])

    def due_inbox(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Pending inbox rows due for a (first or next) attempt, oldest first; not locked —
        :meth:`lock_inbox` takes each in the transaction that handles it."""
        rows = self._run("SELECT id, kind, payload, received_at, attempts FROM ck_inbox WHERE state = 'pending' "
                         "AND next_attempt_at <= ? ORDER BY id LIMIT ?", (self._t(now), int(limit))).fetchall()
        return [{"id": r[0], "kind": r[1], "payload": json.loads(r[2]), "received_at": _read_time(r[3]),
                 "attempts": r[4]} for r in rows]

    def lock_inbox(self, inbox_id: int) -> bool:
        sql = "SELECT id FROM ck_inbox WHERE id = ? AND state = 'pending'"
        if self.dialect == "postgresql":
            sql += " FOR UPDATE SKIP LOCKED"
        return self._run(sql, (inbox_id,)).fetchone() is not None

    def settle_inbox(self, inbox_id: int, outcome: str) -> None:
        self._run("UPDATE ck_inbox SET state = 'done', outcome = ?, attempts = attempts + 1, last_error = '' "
                  "WHERE id = ?", (outcome[:20], inbox_id))

    def retry_inbox(self, inbox_id: int, next_at: datetime, error: str, *, quarantine: bool) -> None:
        if not quarantine:
            self.wakes.append((INBOX, next_at))
        self._run("UPDATE ck_inbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                  "WHERE id = ? AND state = 'pending'",
                  ("quarantined" if quarantine else "pending", self._t(next_at), error[:2000], inbox_id))

    def inbox(self, *, state: str | None = None) -> list[dict[str, Any]]:
        i = schema.inbox.c
        query = select(schema.inbox).order_by(i.id)
        if state is not None:
            query = query.where(i.state == state)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def release_inbox(self, inbox_id: int, now: datetime) -> bool:
        self.wakes.append((INBOX, None))
        i = schema.inbox.c
        return bool(self.conn.execute(update(schema.inbox).where(i.id == inbox_id, i.state == "quarantined")
                                      .values(state="pending", next_attempt_at=utc(now))).rowcount)


@functools.lru_cache(maxsize=1024)
def _dialect_sql(dialect: str, sql: str) -> str:
    # sqlite3 takes qmark parameters, psycopg format ones; no statement here holds a literal ? or %.
    # "{+}" before a column keeps SQLite's planner off that column's index (a unary plus)
    if dialect == "postgresql":
        return sql.replace("?", "%s").replace("{+}", "")
    return sql.replace("{+}", "+")


def _read_time(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives its DATETIME text back)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def _same(value: Any) -> Any:
    return value


@functools.lru_cache(maxsize=32)
def _ignoring_insert_sql(table: Any, keys: tuple[str, ...]) -> str:
    names = _insert_columns(table)
    return (f"INSERT INTO {table.name} ({', '.join(chr(34) + n + chr(34) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT ({', '.join(keys)}) DO NOTHING "
            f"RETURNING {keys[0]}")


def _integrity_errors() -> tuple[type[Exception], ...]:
    """The drivers' own duplicate-key errors (the fast insert path bypasses SQLAlchemy's wrapping).

    psycopg's error joins once psycopg is loaded — nothing can raise it before — so a process
    on SQLite never imports psycopg (it costs a restarted worker ~0.15 s before its first timer).
    """
    global _INTEGRITY_ERRORS
    if len(_INTEGRITY_ERRORS) == 1:
        psycopg = sys.modules.get("psycopg")
        unique = getattr(getattr(psycopg, "errors", None), "UniqueViolation", None)
        if unique is not None:
            _INTEGRITY_ERRORS = (*_INTEGRITY_ERRORS, unique)
    return _INTEGRITY_ERRORS


def _message_row(m: OutgoingMessage, now: datetime) -> dict[str, Any]:
    return {
        "key": m.key, "ticket_id": m.ticket_id, "channel": m.channel.value, "recipient": m.to,
        "sender": m.sender, "subject": m.subject, "text": m.text, "template": m.template,
        "state": MessageState.INITIAL.value, "attempts": 0, "next_attempt_at": utc(now),
        "last_error": "", "remote_ids": "", "parts": 0, "created_at": utc(now), "delivery": "", "resends": 0,
    }


_INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)


def _event_doc(ev: Event) -> dict[str, Any]:
    """The stored form of an event, as ``converter.unstructure`` would give it — written by hand
    because it runs for every event of every command, and an event's ``data`` is plain JSON
    already (the rules put only text, numbers, booleans, lists and mappings in it)."""
    return {
        "ticket_id": ev.ticket_id, "at": ev.at.isoformat(), "actor": ev.actor, "kind": ev.kind,
        "reason": ev.reason, "from_state": ev.from_state.value if ev.from_state else None,
        "to_state": ev.to_state.value if ev.to_state else None, "data": ev.data,
    }


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "version": ticket.version,
        "state": ticket.state.value,
        "kind": ticket.kind.value,
        "msisdn": ticket.customer.msisdn.digits,
        "category": ticket.category,
        "department": ticket.department,
        "created_at": utc(ticket.created_at),
        "updated_at": utc(ticket.updated_at),
        "data": json.dumps(converter.unstructure(ticket), ensure_ascii=False),
        "parent_id": ticket.parent_id,
    }


@functools.lru_cache(maxsize=2048)
def _ticket(data: str) -> Ticket:
    # A ticket is immutable (frozen, tuples all the way down) and the same stored text always
    # decodes to the same ticket: the detectors' scans, the worker and the read side load the
    # same open tickets again and again, and decoding one costs more than the query for it.
    return converter.structure(json.loads(data), Ticket)


__all__ = ["ClaimedMessage", "ClaimedTimer", "OperationalError", "Store", "Transaction", "aware", "utc"]
