"""N1: the store — one URL, migrations on open, the fast insert path, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from complaintkit.core.codec import converter
from complaintkit.core.errors import ConcurrentChange
from complaintkit.core.model import Actor, Event, Role, TicketState
from complaintkit.engine.commands import write_decision
from complaintkit.engine.store import Store
from complaintkit.engine.store.sql import _event_doc
from complaintkit.parts.intake import rules as lifecycle

# about the process, not the CRM: a lenient ck_boss answers every number as a non-customer
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
SHANGHAI = timezone(timedelta(hours=8))


def test_event_documents_match_the_converter() -> None:
    """The hand-written event form must read back exactly as cattrs writes it."""
    at = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    for event in (Event("T1", at, "a", "dispatch", "r", TicketState.ACCEPTED, TicketState.IN_HANDLING,
                        {"deadlines_started": {"handling": {"due_at": at.isoformat()}}, "n": [1, 2]}),
                  Event("T1", at, "system", "overdue")):
        assert _event_doc(event) == converter.unstructure(event)
        assert converter.structure(_event_doc(event), Event) == event


def test_N1_new_ticket_with_all_its_rows_in_one_transaction(ck_kit: Any) -> None:
    t = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="call_quality",
                      description="通话断续")
    with ck_kit.store.read() as tx:
        assert tx.load_ticket(t.id, lock=False) == t
        assert [e.kind for e in tx.events(t.id)] == ["accept", "dispatch"]
        names = {tm.name for tm in tx.pending_timers(t.id)}
    # one pending timer per running deadline, its earliest moment; the dispatch stage was met in
    # the same command, so its timer was never written
    assert names == {"internal:total", "internal:reply", "near:handling"}


def test_N1_a_duplicate_ticket_id_writes_nothing(ck_kit: Any) -> None:
    first = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="x")
    ctx = ck_kit.context(DESK)
    intake = lifecycle.Intake(first.customer, first.channel, "hotline", "again")
    decision = lifecycle.accept(first.id, intake, ctx)
    with pytest.raises(ConcurrentChange), ck_kit.store.inserting() as tx:
        write_decision(tx, decision, ctx.now, fresh=True)
    with ck_kit.store.read() as tx:
        assert len(tx.events(first.id)) == 1 and tx.load_ticket(first.id, lock=False).description == "x"


def test_N1_times_are_stored_as_utc_and_read_back_aware(ck_kit: Any) -> None:
    t = ck_kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="x")
    with ck_kit.store.read() as tx:
        due = min(tm.due_at for tm in tx.pending_timers(t.id))
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert due.astimezone(UTC) > t.created_at.astimezone(UTC)


#: the newest migration
HEAD = "0006"


def test_N1_migrations_run_once_and_reopening_keeps_data(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    with store.transaction() as tx:
        tx.record_inbound("13812345678", "10086", "1", datetime(2026, 3, 2, tzinfo=UTC), "unmatched")
    store.close()
    again = Store.open(sqlite_url)
    with again.read() as tx:
        assert len(tx.inbound()) == 1
        version = tx.conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert version == HEAD
    again.close()


def test_N1_the_store_knows_the_newest_migration(sqlite_url: str) -> None:
    """Start-up skips Alembic when the database is at HEAD_REVISION: it must be Alembic's head,
    or a database one migration behind would never be brought up to date."""
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from complaintkit.engine.store import schema

    config = Config()
    config.set_main_option("script_location", str(resources.files("complaintkit.engine.store") / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == schema.HEAD_REVISION == HEAD


def test_N1_the_migrations_build_the_tables_schema_py_describes(ck_db_url: str) -> None:
    """schema.py's tables and indexes are what the migrations create, on both databases (the
    partial indexes' conditions are held by tests/test_query_plans.py, which needs them used)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from complaintkit.engine.store import schema

    store = Store.open(ck_db_url)
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    store.close()
    assert differences == []


def test_N1_the_claim_indexes_migration_goes_down_and_up_again(ck_db_url: str) -> None:
    """0006 replaces the claims' indexes and, on PostgreSQL, sets the hot tables' autovacuum and
    fill factor; going back to 0005 restores both."""
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    store = Store.open(ck_db_url)
    config = Config()
    config.set_main_option("script_location", str(resources.files("complaintkit.engine.store") / "migrations"))

    def state() -> tuple[set[str], dict[str, Any]]:
        with store.engine.connect() as conn:
            names = {i["name"] for t in ("ck_outbox", "ck_inbox", "ck_tickets") for i in inspect(conn).get_indexes(t)}
            options = {} if store.dialect != "postgresql" else dict(conn.exec_driver_sql(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('ck_outbox', 'ck_timers') "
                "AND relnamespace = current_schema()::regnamespace").all())
        return names, options

    def to(revision: str) -> None:
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if revision == "0005" else command.upgrade)(config, revision)

    names, options = state()
    assert {"ix_ck_outbox_claim", "ix_ck_inbox_claim"} <= names and "ix_ck_outbox_due" not in names
    if store.dialect == "postgresql":
        assert "fillfactor=85" in options["ck_outbox"] and "autovacuum_analyze_scale_factor=0.02" in options["ck_timers"]
    to("0005")
    names, options = state()
    assert {"ix_ck_outbox_due", "ix_ck_inbox_due", "ix_ck_tickets_msisdn_state"} <= names
    assert "ix_ck_outbox_claim" not in names and all(v is None for v in options.values())
    to("head")
    assert state()[0] == names - {"ix_ck_outbox_due", "ix_ck_inbox_due", "ix_ck_tickets_msisdn_state"} | {
        "ix_ck_outbox_claim", "ix_ck_inbox_claim"}
    store.close()


def test_N1_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    with store.read() as tx:
        assert tx.conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_N1_sqlite_reads_do_not_block_a_writer(sqlite_url: str) -> None:
    """A report reading on SQLite must not hold the write lock the worker needs."""
    store = Store.open(sqlite_url)
    other = Store.open(sqlite_url, migrate=False, connect_args={"timeout": 0.2})
    with store.read() as reader:
        reader.inbound()
        with other.transaction() as writer:  # would wait for the lock and fail if reads took it
            writer.record_inbound("13812345678", "10086", "1", datetime(2026, 3, 2, tzinfo=UTC), "unmatched")
    store.close()
    other.close()


def test_N1_sqlite_times_are_written_as_sqlalchemy_reads_them(sqlite_url: str, ck_clock: Any) -> None:
    """The fast insert path and SQLAlchemy must store times in one text form, or comparisons
    between a stored due time and a bound 'now' would go wrong at equal times."""
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit

    kit = ComplaintKit(Store.open(sqlite_url), plugins=Plugins.discover(), clock=ck_clock)
    t = kit.open_follow_up(DESK, msisdn="13912345678", problem_type="call_quality", category="hotline",
                           description="x")
    with kit.store.read() as tx:
        stored = tx.conn.exec_driver_sql("SELECT due_at FROM ck_timers").scalar()
        claimed = tx.due_timers(t.created_at + timedelta(hours=2), 1)  # due exactly now
    assert stored == "2026-03-02 03:00:00.000000"
    assert claimed and claimed[0].timer.name == "follow_up_sms"
    kit.close()


@pytest.mark.postgres
def test_N4_a_dropped_database_connection_fails_one_command_and_loses_nothing(
        fresh_pg_url: str, pg_admin_url: str, ck_clock: Any) -> None:
    import psycopg

    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit

    url = f"{fresh_pg_url}&application_name=ck_dropped"
    kit = ComplaintKit(Store.open(url), plugins=Plugins.discover(), clock=ck_clock)
    first = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline", description="一")
    kit.record(first.id, DESK, verification="已核实")  # a pooled connection, too
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:  # the database drops every kit connection
        killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = 'ck_dropped'").fetchone()
    assert killed is not None and killed[0] >= 2
    with pytest.raises(psycopg.OperationalError):
        kit.accept(DESK, msisdn="13812345679", channel="hotline", category="hotline", description="二")
    second = kit.accept(DESK, msisdn="13812345679", channel="hotline", category="hotline", description="二")
    for _ in range(2):  # the pool notices its dead connections and replaces them
        try:
            kit.record(first.id, DESK, final_result="已解决")
            break
        except Exception as exc:  # noqa: BLE001 - the first use of a dead pooled connection
            assert "terminat" in str(exc) or "closed" in str(exc), exc
    assert sorted(t.description for t in kit.tickets()) == ["一", "二"]
    assert kit.ticket(first.id).record.final_result == "已解决"
    assert kit.ticket(second.id).version == 1
    kit.close()
