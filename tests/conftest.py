"""The project's own fixtures, on top of complaintkit's pytest plugin (``ck_*`` fixtures).

Every test that uses ``ck_db_url`` (and so ``ck_kit``) runs twice: on SQLite and on PostgreSQL.
PostgreSQL is the server at 127.0.0.1:5432, database ``test`` (``COMPLAINTKIT_TEST_PG`` to point
elsewhere); each test session works in a schema of its own. When the server is unreachable, the
PostgreSQL variants skip with the reason — or fail, when ``COMPLAINTKIT_REQUIRE_PG=1`` (CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BASE = os.environ.get("COMPLAINTKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_problem() -> str:
    try:
        import psycopg

        psycopg.connect(PG_BASE, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any reason at all is reported
        return f"PostgreSQL at {PG_BASE} is not reachable: {type(exc).__name__}: {exc}".strip()
    return ""


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the session."""
    problem = _pg_problem()
    if problem:
        if os.environ.get("COMPLAINTKIT_REQUIRE_PG") == "1":
            pytest.fail(problem + " (COMPLAINTKIT_REQUIRE_PG=1)")
        pytest.skip(problem)
    import psycopg

    schema = f"ck_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _truncate(url: str) -> None:
    from complaintkit.engine.store import Store, schema

    store = Store.open(url)
    with store.transaction() as tx:
        names = ", ".join(t.name for t in schema.metadata.sorted_tables)
        tx.conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY")
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ck_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Overrides the plugin's fixture: every kit test runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'complaints.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    _truncate(url)
    return url


@pytest.fixture
def fresh_pg_url(pg_schema_url: str) -> str:
    """The session's PostgreSQL schema, emptied for this test (PostgreSQL-only tests)."""
    _truncate(pg_schema_url)
    return pg_schema_url


@pytest.fixture
def pg_admin_url() -> str:
    """The server's own URL, outside the test schema (to act on connections, say)."""
    return PG_BASE


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'complaints.db'}"
