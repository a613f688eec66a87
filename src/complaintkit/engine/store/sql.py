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
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update
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
    MessageState,
    OutgoingMessage,
    Ticket,
    TicketKind,
    TicketState,
    Timer,
)
from complaintkit.engine.store import schema
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
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One command's transaction: commits when the block ends, rolls back if it raises."""
        with self._exclusive(), self.engine.begin() as conn:
            yield Transaction(conn, self.dialect)

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
        """A read-only view (queries, reports); never writes, always rolled back."""
        with self._exclusive(), self.engine.connect() as conn:
            conn.info["ck_read_only"] = True
            try:
                yield Transaction(conn, self.dialect)
            finally:
                conn.rollback()
                conn.info.pop("ck_read_only", None)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a command that reads then writes can never
        # be refused half-way by another writer (SQLITE_BUSY on lock upgrade). Reads need no
        # lock: in WAL mode they see a snapshot while the worker writes.
        conn.exec_driver_sql("BEGIN" if conn.info.get("ck_read_only") else "BEGIN IMMEDIATE")


_INSERTS: dict[tuple[str, str], tuple[str, tuple[str, ...], bool]] = {}


def _insert_sql(conn: Connection, table: Any) -> tuple[str, tuple[str, ...], bool]:
    """The INSERT for ``table`` compiled once per dialect: (sql, column order, positional?)."""
    key = (conn.dialect.name, table.name)
    found = _INSERTS.get(key)
    if found is None:
        columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        compiled = insert(table).values({c.name: None for c in columns}).compile(dialect=conn.dialect)
        # positional drivers (sqlite3) take tuples in this order; named ones (psycopg) take dicts
        found = (compiled.string, tuple(compiled.positiontup) if compiled.positional else  # type: ignore[arg-type]
                 tuple(c.name for c in columns), compiled.positional)
        _INSERTS[key] = found
    return found


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

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self._cursor: Any = None
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
        sql, names, positional = _insert_sql(self.conn, table)
        params: list[Any] = ([tuple(_sqlite_value(r.get(n)) for n in names) for r in rows] if positional
                             else [{n: _sqlite_value(r.get(n)) for n in names} for r in rows])
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)

    def _raw_cursor(self) -> Any:
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    # -- tickets ---------------------------------------------------------------------------

    def load_ticket(self, ticket_id: str, *, lock: bool = True, skip_locked: bool = False) -> Ticket:
        """The ticket, locked for this transaction on PostgreSQL (the first lock a command
        takes: ticket before its timers and messages, everywhere). ``skip_locked``: raise
        :class:`TicketBusy` instead of waiting when another transaction holds it."""
        query = select(schema.tickets.c.data).where(schema.tickets.c.id == ticket_id)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=skip_locked)
        row = self.conn.execute(query).first()
        if row is None:
            if skip_locked and self.dialect == "postgresql" and self.conn.execute(
                    select(schema.tickets.c.id).where(schema.tickets.c.id == ticket_id)).first() is not None:
                raise TicketBusy(ticket_id)
            raise TicketNotFound(ticket_id)
        return _ticket(row.data)

    def find_tickets(self, *, msisdn: str | None = None, state: TicketState | None = None,
                     states: Iterable[TicketState] | None = None, department: str | None = None,
                     kind: TicketKind | None = None, limit: int | None = None,
                     parent_id: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> list[Ticket]:
        """Tickets matching every filter given, oldest first (each filter is on an index)."""
        if (msisdn is not None and state is None and states is None and department is None and limit is None
                and parent_id is None and until is None):
            return self._customer_tickets(msisdn, kind, since)
        t = schema.tickets.c
        query = select(t.data).order_by(t.created_at, t.id)
        if msisdn is not None:
            query = query.where(t.msisdn == msisdn)
        if state is not None:
            query = query.where(t.state == state.value)
        if states is not None:
            query = query.where(t.state.in_([s.value for s in states]))
        if department is not None:
            query = query.where(t.department == department)
        if kind is not None:
            query = query.where(t.kind == kind.value)
        if parent_id is not None:
            query = query.where(t.parent_id == parent_id)
        if since is not None:
            query = query.where(t.created_at >= utc(since))
        if until is not None:
            query = query.where(t.created_at < utc(until))
        if limit is not None:
            query = query.limit(limit)
        return [_ticket(r.data) for r in self.conn.execute(query)]

    def _customer_tickets(self, msisdn: str, kind: TicketKind | None, since: datetime | None) -> list[Ticket]:
        """One customer's tickets (of a kind, since a time): the look-up every acceptance makes
        for repeat complaints, on ``ix_ck_tickets_msisdn_created``. Run on the driver's cursor
        with the statement text built once — compiling a Core query costs more than running it —
        so it also works on the autocommit cursor of :meth:`Store.quick_read`."""
        mark = "%s" if self.dialect == "postgresql" else "?"
        sql = f"SELECT data FROM ck_tickets WHERE msisdn = {mark}"
        params: list[Any] = [msisdn]
        if kind is not None:
            sql += f" AND kind = {mark}"
            params.append(kind.value)
        if since is not None:
            sql += f" AND created_at >= {mark}"
            params.append(utc(since) if self.dialect == "postgresql" else _sqlite_value(utc(since)))
        cursor = self._raw_cursor()
        cursor.execute(sql + " ORDER BY created_at, id", params)
        return [_ticket(row[0]) for row in cursor.fetchall()]

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
        t = schema.tickets.c
        result = self.conn.execute(
            update(schema.tickets).where(t.id == ticket.id, t.version == ticket.version).values(_ticket_row(stored))
        )
        if result.rowcount != 1:
            raise ConcurrentChange(f"ticket {ticket.id} changed meanwhile (version {ticket.version})")
        return stored

    def events(self, ticket_id: str) -> list[Event]:
        e = schema.events.c
        rows = self.conn.execute(select(e.data).where(e.ticket_id == ticket_id).order_by(e.id))
        return [converter.structure(json.loads(r.data), Event) for r in rows]

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
        self._insert_many(schema.timers, [
            {"ticket_id": tm.ticket_id, "name": tm.name, "due_at": utc(tm.due_at), "state": "pending",
             "data": json.dumps(tm.data, ensure_ascii=False) if tm.data else "{}"}
            for tm in timers
        ])

    def cancel_timers(self, ticket_id: str, names: Iterable[str]) -> None:
        names = sorted(set(names))
        if names:
            t = schema.timers.c
            self.conn.execute(update(schema.timers).where(
                t.ticket_id == ticket_id, t.state == "pending", t.name.in_(names)).values(state="cancelled"))

    def pending_timers(self, ticket_id: str | None = None) -> list[Timer]:
        t = schema.timers.c
        query = select(t.ticket_id, t.name, t.due_at, t.data).where(t.state == "pending").order_by(t.due_at, t.id)
        if ticket_id is not None:
            query = query.where(t.ticket_id == ticket_id)
        return [Timer(r.ticket_id, r.name, aware(r.due_at), json.loads(r.data)) for r in self.conn.execute(query)]  # type: ignore[arg-type]

    def next_timer_due(self) -> datetime | None:
        t = schema.timers.c
        return aware(self.conn.execute(select(func.min(t.due_at)).where(t.state == "pending")).scalar())

    def due_timers(self, now: datetime, limit: int) -> list[ClaimedTimer]:
        """Pending timers due by ``now``, earliest first — candidates, not locked: the worker
        locks each one's ticket first, then the timer (:meth:`lock_timer`), the order every
        command takes, so a worker and a command can never deadlock."""
        t = schema.timers.c
        rows = self.conn.execute(
            select(t.id, t.ticket_id, t.name, t.due_at, t.data)
            .where(t.state == "pending", t.due_at <= utc(now)).order_by(t.due_at, t.id).limit(limit))
        return [ClaimedTimer(r.id, Timer(r.ticket_id, r.name, aware(r.due_at), json.loads(r.data)))  # type: ignore[arg-type]
                for r in rows]

    def lock_timer(self, timer_id: int) -> bool:
        """Lock a candidate timer (after its ticket); False if it fired, was cancelled or is
        being fired by another worker meanwhile."""
        t = schema.timers.c
        query = select(t.id).where(t.id == timer_id, t.state == "pending")
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return self.conn.execute(query).first() is not None

    def quarantine_timer(self, timer_id: int, error: str) -> None:
        t = schema.timers.c
        self.conn.execute(update(schema.timers).where(t.id == timer_id, t.state == "pending")
                          .values(state="quarantined", last_error=error[:2000]))

    def quarantined_timers(self) -> list[dict[str, Any]]:
        t = schema.timers.c
        rows = self.conn.execute(select(t.id, t.ticket_id, t.name, t.due_at, t.last_error)
                                 .where(t.state == "quarantined").order_by(t.id))
        return [dict(r._mapping) for r in rows]

    def release_timer(self, timer_id: int) -> bool:
        """Put a quarantined timer back to pending (after its cause was fixed)."""
        t = schema.timers.c
        return bool(self.conn.execute(update(schema.timers).where(t.id == timer_id, t.state == "quarantined")
                                      .values(state="pending", last_error=None)).rowcount)

    def mark_timer_fired(self, timer_id: int, at: datetime) -> None:
        t = schema.timers.c
        result = self.conn.execute(update(schema.timers).where(t.id == timer_id, t.state == "pending")
                                   .values(state="fired", fired_at=utc(at)))
        if result.rowcount != 1:
            raise ConcurrentChange(f"timer {timer_id} is no longer pending")

    # -- outbox ----------------------------------------------------------------------------

    def add_messages(self, messages: Sequence[OutgoingMessage], now: datetime, *, fresh: bool = False) -> int:
        """Queue messages; a key already queued is not queued again. Returns how many were new.

        ``fresh``: the caller knows no key can exist yet (a ticket created in this transaction),
        so the rows are inserted without the duplicate check (no read-back, pipeline-safe).
        """
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
        keys = [key] if isinstance(key, str) else list(key)
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        statement = (dialect_insert(table).values(row).on_conflict_do_nothing(index_elements=keys)
                     .returning(table.c[keys[0]]))
        return self.conn.execute(statement).first() is not None

    def claim_messages(self, channel: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMessage]:
        """Messages due for an attempt, leased to this worker until ``now + lease``.

        A worker that dies mid-send leaves its lease to expire (the live worker renews it, see
        :meth:`renew_leases`); another then sends the message again. Such a message may have
        reached the far end already: the re-send is counted on the row (``resends``) and logged.
        """
        o = schema.outbox.c
        n = utc(now)
        query = (select(o.id, o.key, o.ticket_id, o.channel, o.recipient, o.sender, o.subject, o.text,
                        o.template, o.attempts, o.lease_until)
                 .where(o.channel == channel, o.state.in_([MessageState.INITIAL.value, MessageState.IN_PROGRESS.value]),
                        o.next_attempt_at <= n, (o.lease_until.is_(None)) | (o.lease_until <= n))
                 .order_by(o.next_attempt_at, o.id).limit(limit))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self.conn.execute(query).all()
        if rows:
            lost = [r.id for r in rows if r.lease_until is not None]
            self.conn.execute(update(schema.outbox).where(o.id.in_([r.id for r in rows]))
                              .values(lease_until=utc(now + lease), state=MessageState.IN_PROGRESS.value))
            if lost:
                self.conn.execute(update(schema.outbox).where(o.id.in_(lost)).values(resends=o.resends + 1))
                log.warning("re-sending after a lost claim: the far end may get these twice",
                            channel=channel, messages=len(lost), keys=[r.key for r in rows if r.id in set(lost)][:10])
        from complaintkit.core.model import MessageChannel

        return [ClaimedMessage(r.id, OutgoingMessage(r.key, MessageChannel(r.channel), r.recipient, r.text,
                                                     r.ticket_id, r.subject, r.template, r.sender), r.attempts)
                for r in rows]

    def renew_leases(self, message_ids: Sequence[int], until: datetime) -> None:
        """A live worker keeps its claims: messages still being sent stay leased to it."""
        if message_ids:
            o = schema.outbox.c
            self.conn.execute(update(schema.outbox).where(
                o.id.in_(list(message_ids)), o.lease_until.is_not(None)).values(lease_until=utc(until)))

    def record_sent(self, message_id: int, now: datetime, remote_ids: Sequence[str], parts: int) -> None:
        o = schema.outbox.c
        self.conn.execute(update(schema.outbox).where(o.id == message_id).values(
            state=MessageState.COMPLETED.value, sent_at=utc(now), lease_until=None, attempts=o.attempts + 1,
            remote_ids=",".join(remote_ids), parts=parts, last_error=""))
        if remote_ids:
            for rid in remote_ids:
                self._insert_ignoring_duplicate(schema.remote_ids, {"remote_id": rid, "outbox_id": message_id},
                                                "remote_id")

    def record_retry(self, message_id: int, next_at: datetime, error: str, *, count: bool = True) -> None:
        """Release the message until ``next_at``; ``count`` uses up one of its attempts."""
        o = schema.outbox.c
        self.conn.execute(update(schema.outbox).where(o.id == message_id).values(
            next_attempt_at=utc(next_at), lease_until=None, attempts=o.attempts + int(count), last_error=error[:500]))

    def record_failed(self, message_id: int, error: str) -> None:
        o = schema.outbox.c
        self.conn.execute(update(schema.outbox).where(o.id == message_id).values(
            state=MessageState.FAILED.value, lease_until=None, attempts=o.attempts + 1, last_error=error[:500]))

    def record_delivery(self, remote_id: str, state: str, at: datetime) -> bool:
        r = schema.remote_ids.c
        row = self.conn.execute(select(r.outbox_id).where(r.remote_id == remote_id)).first()
        if row is None:
            return False
        o = schema.outbox.c
        self.conn.execute(update(schema.outbox).where(o.id == row.outbox_id).values(delivery=state,
                                                                                  delivered_at=utc(at)))
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
        i = schema.inbound.c
        return int(self.conn.execute(insert(schema.inbound).values(
            sender=sender, recipient=recipient, text=text, received_at=utc(at), outcome=outcome,
            ticket_id=ticket_id).returning(i.id)).scalar_one())

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
        d = schema.detector_runs.c
        self.conn.execute(update(schema.detector_runs).where(
            d.detector == detector, d.window_start == utc(window_start)).values(emitted=emitted))

    def detector_runs(self, detector: str | None = None) -> list[dict[str, Any]]:
        d = schema.detector_runs.c
        query = select(schema.detector_runs).order_by(d.window_start, d.detector)
        if detector is not None:
            query = query.where(d.detector == detector)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    # -- inbox -----------------------------------------------------------------------------

    def add_inbox(self, kind: str, payload: dict[str, Any], received_at: datetime, now: datetime) -> int:
        """Store what the far end delivered; returns its row id."""
        i = schema.inbox.c
        return int(self.conn.execute(insert(schema.inbox).values(
            kind=kind, payload=json.dumps(payload, ensure_ascii=False, default=_json_default),
            received_at=utc(received_at), created_at=utc(now), state="pending", attempts=0,
            next_attempt_at=utc(now), last_error="", outcome="").returning(i.id)).scalar_one())

    def due_inbox(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Pending inbox rows due for a (first or next) attempt, oldest first; not locked —
        :meth:`lock_inbox` takes each in the transaction that handles it."""
        i = schema.inbox.c
        rows = self.conn.execute(select(i.id, i.kind, i.payload, i.received_at, i.attempts)
                                 .where(i.state == "pending", i.next_attempt_at <= utc(now))
                                 .order_by(i.id).limit(limit))
        return [{"id": r.id, "kind": r.kind, "payload": json.loads(r.payload), "received_at": aware(r.received_at),
                 "attempts": r.attempts} for r in rows]

    def lock_inbox(self, inbox_id: int) -> bool:
        i = schema.inbox.c
        query = select(i.id).where(i.id == inbox_id, i.state == "pending")
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return self.conn.execute(query).first() is not None

    def settle_inbox(self, inbox_id: int, outcome: str) -> None:
        i = schema.inbox.c
        self.conn.execute(update(schema.inbox).where(i.id == inbox_id).values(
            state="done", outcome=outcome[:20], attempts=i.attempts + 1, last_error=""))

    def retry_inbox(self, inbox_id: int, next_at: datetime, error: str, *, quarantine: bool) -> None:
        i = schema.inbox.c
        self.conn.execute(update(schema.inbox).where(i.id == inbox_id, i.state == "pending").values(
            state="quarantined" if quarantine else "pending", attempts=i.attempts + 1,
            next_attempt_at=utc(next_at), last_error=error[:2000]))

    def inbox(self, *, state: str | None = None) -> list[dict[str, Any]]:
        i = schema.inbox.c
        query = select(schema.inbox).order_by(i.id)
        if state is not None:
            query = query.where(i.state == state)
        return [dict(r._mapping) for r in self.conn.execute(query)]

    def release_inbox(self, inbox_id: int, now: datetime) -> bool:
        i = schema.inbox.c
        return bool(self.conn.execute(update(schema.inbox).where(i.id == inbox_id, i.state == "quarantined")
                                      .values(state="pending", next_attempt_at=utc(now))).rowcount)


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


def _ticket(data: str) -> Ticket:
    return converter.structure(json.loads(data), Ticket)


__all__ = ["ClaimedMessage", "ClaimedTimer", "OperationalError", "Store", "Transaction", "aware", "utc"]
