"""The hot statements run on the indexes meant for them, on SQLite and PostgreSQL.

Each check calls the store's method, records the SQL it sends to the driver (whatever builds it:
SQLAlchemy or text handed to the driver's cursor) and asks the database for that statement's
plan with the same parameters — EXPLAIN QUERY PLAN on SQLite, EXPLAIN (FORMAT JSON) on
PostgreSQL — over a few thousand rows shaped like a working month (most timers fired, most
messages sent, most tickets archived) and fresh statistics (ANALYZE). The claims must read their
rows in the index's order: no sort.

The outbox claim binds its two states as parameters today: PostgreSQL plans each run with the
values and uses the partial index ix_ck_outbox_claim; SQLite cannot (it proves a partial index's
WHERE only from literals), hence the strict xfail. Written with the states literal
(``schema.TO_SEND``) it uses the index on both: see the last test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from complaintkit.core.codec import converter
from complaintkit.core.model import (
    Channel,
    Customer,
    Event,
    Msisdn,
    Ticket,
    TicketKind,
    TicketState,
    Urgency,
)
from complaintkit.engine.declarations import OPEN_STATES
from complaintkit.engine.store import Store, Transaction, schema
from complaintkit.engine.store.sql import _event_doc

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
_NOW = NOW.replace(tzinfo=None)

#: what the driver was asked to run, in order: (sql, parameters)
RECORDED: list[tuple[str, Any]] = []


class _SqliteCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        RECORDED.append((sql, parameters))
        return super().execute(sql, parameters)


class _SqliteConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _SqliteCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)


def _pg_cursor_factory() -> type:
    import psycopg

    class _PgCursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            RECORDED.append((str(query), params))
            return super().execute(query, params, **options)

    return _PgCursor


# -- a month's rows, written straight through the driver -------------------------------------------


def _ticket_json() -> str:
    at = NOW - timedelta(days=30)
    ticket = Ticket("T00000", TicketKind.NORMAL, TicketState.ACCEPTED, Customer(Msisdn("13812345678")),
                    Channel.HOTLINE, "call_quality", "通话断续", Urgency.GENERAL, at, at, "fd001", "fd001")
    return json.dumps(converter.unstructure(ticket), ensure_ascii=False)


def _fill(conn: Any, when: Callable[[datetime], Any], *, sqlite: bool) -> None:
    """Rows like a month of one province's work: the claims' due rows among many done ones."""
    tickets, events, timers, outbox, remote_ids, inbox = [], [], [], [], [], []
    data = _ticket_json()
    event = json.dumps(_event_doc(Event("T00000", NOW, "fd001", "accept")), ensure_ascii=False)
    open_states = [s.value for s in OPEN_STATES if s is not TicketState.FOLLOW_UP]
    for i in range(4000):
        created = when(_NOW - timedelta(minutes=15 * i))
        state = open_states[i % len(open_states)] if i % 10 < 3 else TicketState.ARCHIVED.value
        tickets.append((f"T{i:05d}", 2, state, "normal", f"138{i % 400:08d}", "call_quality", f"D{i % 10}",
                        created, created, data, "B0001" if i % 100 == 0 else ""))
        events += [(f"T{i:05d}", created, "fd001", "accept", event), (f"T{i:05d}", created, "fd001", "dispatch", event)]
    for i in range(6000):
        # a third fired, a third due all at one instant (a deadline burst), a third still to come
        state, due = (("fired", _NOW - timedelta(days=1, seconds=i)) if i < 2000 else
                      ("pending", _NOW - timedelta(hours=1)) if i < 4000 else
                      ("pending", _NOW + timedelta(seconds=i)))
        timers.append((f"T{i % 4000:05d}", f"internal:t{i // 4000}", when(due), state, "{}"))
    for i in range(5000):
        channel, state, lease = (("sms", "completed", None) if i < 4000 else ("email", "initial", None) if i < 4300
                                 else ("sms", "inProgress", when(_NOW + timedelta(minutes=1))) if i < 4350
                                 else ("sms", "initial", None))
        outbox.append((f"k{i}", f"T{i % 4000:05d}", channel, "13812345678", "", "", "text", "t", state, 0,
                       when(_NOW - timedelta(seconds=5000 - i)), lease, "", "", 0, when(_NOW), "", 0))
        if state == "completed":
            remote_ids.append((f"r{i}", i + 1))
    for i in range(4300):
        state = "done" if i < 4000 else "pending"
        inbox.append(("receipt", "{}", when(_NOW), when(_NOW), state, 0, when(_NOW - timedelta(seconds=4300 - i)),
                      "", ""))

    def insert(table: str, columns: str, rows: list[Any]) -> None:
        if sqlite:
            conn.cursor().executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['?'] * len(rows[0]))})",
                                      rows)
            return
        with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    insert("ck_tickets", "id, version, state, kind, msisdn, category, department, created_at, updated_at, data, "
                         "parent_id", tickets)
    insert("ck_events", "ticket_id, at, actor, kind, data", events)
    insert("ck_timers", "ticket_id, name, due_at, state, data", timers)
    insert("ck_outbox", "key, ticket_id, channel, recipient, sender, subject, text, template, state, attempts, "
                        "next_attempt_at, lease_until, last_error, remote_ids, parts, created_at, delivery, resends",
           outbox)
    insert("ck_remote_ids", "remote_id, outbox_id", remote_ids)
    insert("ck_inbox", "kind, payload, received_at, created_at, state, attempts, next_attempt_at, last_error, "
                       "outcome", inbox)
    conn.commit()
    conn.cursor().execute("ANALYZE")
    conn.commit()


@dataclass
class Database:
    store: Store
    dialect: str
    explain: Callable[[str, Any], list[str]]
    generic: Callable[[str, Any], list[str]] | None = None


def _sqlite_text(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def _pg_plan(rows: Any) -> list[str]:
    """The plan's nodes, each as "<node type> <index name>"."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        found.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
        for child in node.get("Plans", ()):
            walk(child)

    walk(rows[0][0][0]["Plan"])
    return found


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("plans") / "complaints.db"
        store = Store.open(f"sqlite:///{path}", connect_args={"factory": _SqliteConnection})
        with sqlite3.connect(path) as conn:
            _fill(conn, _sqlite_text, sqlite=True)

        def explain(sql: str, params: Any) -> list[str]:
            with sqlite3.connect(path) as conn:
                return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]

        yield Database(store, "sqlite", explain)
        store.close()
        return
    import psycopg

    url: str = request.getfixturevalue("pg_schema_url")
    store = Store.open(url, connect_args={"cursor_factory": _pg_cursor_factory()})
    with store.transaction() as tx:  # the session's schema: other modules' rows go
        tx.conn.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in schema.metadata.sorted_tables)} RESTART IDENTITY")
    with psycopg.connect(url) as conn:
        _fill(conn, lambda moment: moment, sqlite=False)

    def pg_explain(sql: str, params: Any) -> list[str]:
        with psycopg.connect(url) as conn:
            return _pg_plan(conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchall())

    def pg_generic(sql: str, params: Any) -> list[str]:
        """The plan PostgreSQL may settle on for a prepared statement (psycopg prepares a
        statement run five times), made without the parameters' values."""
        values: list[Any] = []
        numbers: dict[str, int] = {}

        def number(found: re.Match[str]) -> str:
            if found.group(1) is None:  # %s: the next positional parameter
                values.append(params[len(values)])
                return f"${len(values)}"
            if found.group(1) not in numbers:  # %(name)s: one number per name
                values.append(params[found.group(1)])
                numbers[found.group(1)] = len(values)
            return f"${numbers[found.group(1)]}"

        text = re.sub(r"%\((\w+)\)s|%s", number, sql)
        with psycopg.connect(url) as conn:
            conn.execute("SET plan_cache_mode = force_generic_plan")
            conn.execute(f"PREPARE ck_plan AS {text}")
            client = psycopg.ClientCursor(conn)
            marks = ", ".join(["%s"] * len(values))
            return _pg_plan(client.execute(f"EXPLAIN (FORMAT JSON) EXECUTE ck_plan({marks})", values).fetchall())

    yield Database(store, "postgresql", pg_explain, pg_generic)
    store.close()


# -- the statements -----------------------------------------------------------------------------


def _statement(db: Database, table: str, call: Callable[[Transaction], Any]) -> tuple[str, Any]:
    """The first statement on ``table`` that ``call`` runs (inside a transaction rolled back)."""
    RECORDED.clear()
    with db.store.read() as tx:
        call(tx)
    for sql, params in RECORDED:
        if re.search(rf"\b{table}\b", sql):
            return sql, params
    raise AssertionError(f"no statement on {table} was run: {[sql for sql, _ in RECORDED]}")


@dataclass(frozen=True)
class Hot:
    table: str
    call: Callable[[Transaction], Any]
    #: the index it must use, by dialect
    index: dict[str, str]
    #: a claim: it reads a batch in the index's order, and must not sort what it found
    ordered: bool = False
    #: another index that serves it as well
    also: str = ""


def _pk(table: str, *, rowid: bool = True) -> dict[str, str]:
    return {"sqlite": "INTEGER PRIMARY KEY" if rowid else f"sqlite_autoindex_{table}_1", "postgresql": f"{table}_pkey"}


def _both(name: str) -> dict[str, str]:
    return {"sqlite": name, "postgresql": name}


HOT = {
    "due timers": Hot("ck_timers", lambda tx: tx.due_timers(NOW, 32), _both("ix_ck_timers_due"), ordered=True),
    "next timer due": Hot("ck_timers", lambda tx: tx.next_timer_due(), _both("ix_ck_timers_due")),
    "lock a timer": Hot("ck_timers", lambda tx: tx.lock_timer(3000), _pk("ck_timers")),
    "cancel a ticket's timers": Hot("ck_timers", lambda tx: tx.cancel_timers("T00042", ["internal:t0"]),
                                    _both("ix_ck_timers_ticket")),
    "a ticket's pending timers": Hot("ck_timers", lambda tx: tx.pending_timers("T00042"),
                                     _both("ix_ck_timers_ticket")),
    "outbox claim": Hot("ck_outbox", lambda tx: tx.claim_messages("sms", NOW, 32, timedelta(minutes=5)),
                        _both("ix_ck_outbox_claim"), ordered=True),
    "remote id": Hot("ck_remote_ids", lambda tx: tx.record_delivery("r42", "delivered", NOW),
                     _pk("ck_remote_ids", rowid=False)),
    "a ticket's messages": Hot("ck_outbox", lambda tx: tx.messages(ticket_id="T00042"), _both("ix_ck_outbox_ticket")),
    "inbox due": Hot("ck_inbox", lambda tx: tx.due_inbox(NOW, 32), _both("ix_ck_inbox_claim"), ordered=True),
    # (state, id) finds the one row as well as the primary key does: either will do
    "lock an inbox row": Hot("ck_inbox", lambda tx: tx.lock_inbox(4100), _pk("ck_inbox"), also="ix_ck_inbox_claim"),
    "a customer's recent tickets": Hot(
        "ck_tickets", lambda tx: tx.find_tickets(msisdn="13800000042", kind=TicketKind.NORMAL,
                                                 since=NOW - timedelta(days=30)),
        _both("ix_ck_tickets_msisdn_created")),
    "a batch's tickets": Hot("ck_tickets", lambda tx: tx.find_tickets(parent_id="B0001"), _both("ix_ck_tickets_parent")),
    "a department's open tickets": Hot("ck_tickets", lambda tx: tx.find_tickets(states=OPEN_STATES, department="D3"),
                                       _both("ix_ck_tickets_state_department")),
    "load a ticket": Hot("ck_tickets", lambda tx: tx.load_ticket("T00042"), _pk("ck_tickets", rowid=False)),
    "a ticket's events": Hot("ck_events", lambda tx: tx.events("T00042"), _both("ix_ck_events_ticket")),
}

#: SQLite matches a partial index's WHERE only against literals: ``state IN (?, ?)`` cannot use
#: ix_ck_outbox_claim there (see the recommended form below)
def _uses(db: Database, plan: list[str], index: str) -> bool:
    if db.dialect == "sqlite":
        return any(re.search(rf"USING (COVERING )?INDEX {index}\b|USING {index}\b", step) for step in plan)
    return any(step.endswith(f" {index}") for step in plan)


def _sorts(db: Database, plan: list[str]) -> bool:
    if db.dialect == "sqlite":
        return any("TEMP B-TREE FOR ORDER BY" in step for step in plan)
    return any(step.split(" ")[0] in ("Sort", "Incremental") for step in plan)


@pytest.mark.parametrize("name", sorted(HOT))
def test_a_hot_statement_uses_its_index(db: Database, name: str) -> None:
    hot = HOT[name]
    sql, params = _statement(db, hot.table, hot.call)
    plan = db.explain(sql, params)
    assert _uses(db, plan, hot.index[db.dialect]) or (hot.also and _uses(db, plan, hot.also)), \
        f"{name}: {sql}\nplan: {plan}"
    if hot.ordered:
        assert not _sorts(db, plan), f"{name} sorts what it found: {sql}\nplan: {plan}"


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.parametrize("name", ["due timers", "inbox due", "outbox claim"])
def test_a_claims_prepared_plan_keeps_its_index(db: Database, name: str) -> None:
    """A claim runs many times a minute: psycopg prepares it, and PostgreSQL may then plan it
    once for any parameters (PostgreSQL only: SQLite plans each statement anew). That plan must
    read the index in order too."""
    assert db.generic is not None
    hot = HOT[name]
    sql, params = _statement(db, hot.table, hot.call)
    plan = db.generic(sql, params)
    assert _uses(db, plan, hot.index[db.dialect]) and not _sorts(db, plan), f"{name}: {sql}\nplan: {plan}"


#: the outbox claim as it should be written: the states literal, in ix_ck_outbox_claim's order, so
#: SQLite and PostgreSQL's prepared (generic) plans can prove the partial index covers it
CLAIM = ("SELECT id, key, ticket_id, channel, recipient, sender, subject, text, template, attempts, lease_until "
         "FROM ck_outbox WHERE channel = {m} AND " + schema.TO_SEND + " AND next_attempt_at <= {m} "
         "AND (lease_until IS NULL OR lease_until <= {m}) ORDER BY next_attempt_at, id LIMIT {m}")


def test_the_outbox_claim_with_literal_states_uses_the_partial_index(db: Database) -> None:
    """The form the claim should take (the states written out): ix_ck_outbox_claim in order on
    both databases, in PostgreSQL's prepared plan too — and the same messages as the claim finds."""
    mark = "?" if db.dialect == "sqlite" else "%s"
    sql = CLAIM.format(m=mark) + (" FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else "")
    now = _sqlite_text(_NOW) if db.dialect == "sqlite" else _NOW
    params = ("sms", now, now, 32)
    plans = [db.explain(sql, params)] + ([db.generic(sql, params)] if db.generic else [])
    for plan in plans:
        assert _uses(db, plan, "ix_ck_outbox_claim") and not _sorts(db, plan), plan
    with db.store.read() as tx:  # and it finds what the store's claim finds
        literal = [row[0] for row in tx.conn.exec_driver_sql(sql, params)]
        assert literal and literal == [c.id for c in tx.claim_messages("sms", NOW, 32, timedelta(minutes=5))]

