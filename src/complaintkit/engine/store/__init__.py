"""The SQL store: SQLite (WAL) embedded, PostgreSQL (psycopg 3) in production, from one URL."""

from complaintkit.engine.store.sql import ClaimedMessage, ClaimedTimer, Store, Transaction

__all__ = ["ClaimedMessage", "ClaimedTimer", "Store", "Transaction"]
