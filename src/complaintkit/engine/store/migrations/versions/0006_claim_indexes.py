"""Indexes the claims read in their own order, and autovacuum for the tables that churn.

- ``ix_ck_outbox_claim`` on (channel, next_attempt_at, id), PARTIAL: only messages still to send
  (``initial``, ``inProgress``). The claim reads one channel's due messages in that order and
  stops at its batch, with no sort; a sent or failed message leaves the index, so a month of sent
  messages is not walked by every claim. It replaces ``ix_ck_outbox_due`` (state,
  next_attempt_at), whose two states' ranges had to be read whole and sorted on every claim.
  SQLite and PostgreSQL's generic plans use a partial index only when the statement writes the
  states as literals, in this order: ``state IN ('initial', 'inProgress')``.
- ``ix_ck_inbox_claim`` on (state, id, next_attempt_at): the inbox hands out due rows oldest (id)
  first; the old (state, next_attempt_at, id) made every pass sort every due row by id.
- ``ix_ck_tickets_msisdn_state`` dropped: a customer's tickets are found on
  ``ix_ck_tickets_msisdn_created`` (msisdn first) and are few; one index less to write on every
  ticket and every change of state.
- ``ix_ck_timers_due`` (state, due_at, id) stays: it already reads the due timers in the claim's
  order. The claim sorted (every due timer, on every claim) only while the table had no statistics
  yet and the planner expected a handful of due timers: hence the analyze settings below.
- PostgreSQL only: autovacuum and fill factors for the hot tables (see ``_STORAGE``).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: messages still to send; written as the claim must write it (SQLite matches it literally)
TO_SEND = "state IN ('initial', 'inProgress')"

#: PostgreSQL storage parameters by table, each with why
_STORAGE: dict[str, dict[str, str]] = {
    # every timer is written pending and updated once (fired or cancelled): one dead row, and one
    # dead entry at the head of the due range every claim walks, per timer. Vacuum at 2 % changed
    # rows instead of 20 %; analyze as often: a claim planned without counts of the due timers
    # sorted them all (measured: 10,000 rows sorted on each claim). No fill factor: every
    # update changes ``state``, an indexed column, so none can be HOT.
    "ck_timers": {"autovacuum_vacuum_scale_factor": "0.02", "autovacuum_analyze_scale_factor": "0.02"},
    # every message is updated at least twice (claimed, sent): two dead rows and two dead entries
    # in the claim's index per message; an empty claim after 10,000 sends walked 20,000 of them.
    # Fill factor 85: the lease renewals and delivery receipts change no indexed column and stay
    # HOT (no index entries, no vacuum needed) when the page has room.
    "ck_outbox": {"autovacuum_vacuum_scale_factor": "0.02", "autovacuum_analyze_scale_factor": "0.02",
                  "fillfactor": "85"},
    # a queue: every row is written pending and updated to done (or retried)
    "ck_inbox": {"autovacuum_vacuum_scale_factor": "0.02", "autovacuum_analyze_scale_factor": "0.02"},
    # a ticket is rewritten by every command on it; those that keep its state, department and
    # customer (notes, deadlines, contacts) are HOT when the page has room
    "ck_tickets": {"autovacuum_vacuum_scale_factor": "0.05", "autovacuum_analyze_scale_factor": "0.05",
                   "fillfactor": "85"},
    # only ever appended to: vacuum after 5 % new rows rather than 20 % (PostgreSQL 13+), so pages
    # are marked all-visible and frozen a little at a time, not in one pass over a month of events
    "ck_events": {"autovacuum_vacuum_insert_scale_factor": "0.05"},
}


def _storage() -> dict[str, dict[str, str]]:
    version = op.get_bind().dialect.server_version_info or (0,)
    if version >= (13,):
        return _STORAGE
    # PostgreSQL 12 has no insert-triggered vacuum
    return {table: {k: v for k, v in params.items() if "insert" not in k} for table, params in _STORAGE.items()}


def upgrade() -> None:
    op.drop_index("ix_ck_outbox_due", "ck_outbox")
    op.create_index("ix_ck_outbox_claim", "ck_outbox", ["channel", "next_attempt_at", "id"],
                    postgresql_where=sa.text(TO_SEND), sqlite_where=sa.text(TO_SEND))
    op.drop_index("ix_ck_inbox_due", "ck_inbox")
    op.create_index("ix_ck_inbox_claim", "ck_inbox", ["state", "id", "next_attempt_at"])
    op.drop_index("ix_ck_tickets_msisdn_state", "ck_tickets")
    if op.get_bind().dialect.name == "postgresql":
        for table, params in _storage().items():
            if params:
                op.execute(f"ALTER TABLE {table} SET ({', '.join(f'{k} = {v}' for k, v in params.items())})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, params in _storage().items():
            if params:
                op.execute(f"ALTER TABLE {table} RESET ({', '.join(params)})")
    op.create_index("ix_ck_tickets_msisdn_state", "ck_tickets", ["msisdn", "state"])
    op.drop_index("ix_ck_inbox_claim", "ck_inbox")
    op.create_index("ix_ck_inbox_due", "ck_inbox", ["state", "next_attempt_at", "id"])
    op.drop_index("ix_ck_outbox_claim", "ck_outbox")
    op.create_index("ix_ck_outbox_due", "ck_outbox", ["state", "next_attempt_at"])
