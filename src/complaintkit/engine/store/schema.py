"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/`` create and change them.

Times are stored as UTC without zone on every database, so SQLite and PostgreSQL compare them
alike; :mod:`complaintkit.engine.store.sql` converts at the boundary. Every hot query has an index
that returns its rows in the query's order: due timers by due time, the outbox's messages still to
send by channel and next attempt, the inbox's pending rows by id, a customer's tickets by time.
``tests/test_query_plans.py`` holds each claim and look-up to its index on both databases.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

#: the newest migration's revision (migrations/versions); a test holds it to Alembic's head, and
#: a database already there is not handed to Alembic at start-up
HEAD_REVISION = "0006"

metadata = MetaData()

#: the outbox messages still to send. The claim must write this condition literally, the states in
#: this order: SQLite (and PostgreSQL's generic plans) use a partial index only for a query whose
#: WHERE contains the index's WHERE as written, not one with the states as bound parameters.
TO_SEND = "state IN ('initial', 'inProgress')"

# SQLite only makes INTEGER PRIMARY KEY an auto-increment rowid; PostgreSQL wants BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")

tickets = Table(
    "ck_tickets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("msisdn", String(11), nullable=False),
    Column("category", String(60), nullable=False),
    Column("department", String(60), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("data", Text, nullable=False),
    # the ticket this one belongs to: a batch request's first ticket, a remedy's original
    Column("parent_id", String(40), nullable=False, server_default=""),
    Index("ix_ck_tickets_parent", "parent_id"),
    Index("ix_ck_tickets_state_department", "state", "department"),
)

events = Table(
    "ck_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(60), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_ck_events_ticket", "ticket_id", "id"),
)

timers = Table(
    "ck_timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("name", String(60), nullable=False),
    Column("due_at", DateTime, nullable=False),
    # pending | fired | cancelled | quarantined (its handler failed: set aside with the error)
    Column("state", String(12), nullable=False),
    Column("fired_at", DateTime),
    Column("data", Text, nullable=False),
    Column("last_error", Text),
    Index("ix_ck_timers_due", "state", "due_at", "id"),
    Index("ix_ck_timers_ticket", "ticket_id", "name"),
)

outbox = Table(
    "ck_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("ticket_id", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("sender", String(40), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("template", String(80), nullable=False),
    # TMF681: initial | inProgress | completed | failed
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("lease_until", DateTime),
    Column("last_error", Text, nullable=False),
    Column("remote_ids", Text, nullable=False),
    Column("parts", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Column("delivery", String(16), nullable=False),
    Column("delivered_at", DateTime),
    # sent again after a worker lost its claim mid-send (counted, logged: a possible duplicate)
    Column("resends", Integer, nullable=False, server_default="0"),
    # the claim: one channel's messages still to send, due first; sent ones leave the index
    Index("ix_ck_outbox_claim", "channel", "next_attempt_at", "id",
          postgresql_where=text(TO_SEND), sqlite_where=text(TO_SEND)),
    Index("ix_ck_outbox_ticket", "ticket_id"),
)

remote_ids = Table(
    "ck_remote_ids",
    metadata,
    # any length: SMTP Message-IDs are 80–100 characters
    Column("remote_id", Text, primary_key=True),
    Column("outbox_id", BigInteger, nullable=False),
)

inbound = Table(
    "ck_inbound",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sender", String(20), nullable=False),
    Column("recipient", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    # converted | late | unknown_code | unmatched | malformed
    Column("outcome", String(20), nullable=False),
    Column("ticket_id", String(40), nullable=False),
)

inbox = Table(
    "ck_inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # sms | receipt
    Column("kind", String(12), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # pending | done | quarantined
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("outcome", String(20), nullable=False),
    # due rows are handed out oldest (id) first
    Index("ix_ck_inbox_claim", "state", "id", "next_attempt_at"),
)

detector_runs = Table(
    "ck_detector_runs",
    metadata,
    Column("detector", String(80), primary_key=True),
    Column("window_start", DateTime, primary_key=True),
    Column("ran_at", DateTime, nullable=False),
    Column("emitted", Integer, nullable=False),
)

# -- permissions (parts/permissions) -------------------------------------------------------------

refusals = Table(
    "ck_refusals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(60), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(80), nullable=False),
    Column("permission", String(80), nullable=False),
    # no_rule | role | scope | amount
    Column("rule", String(12), nullable=False),
    Column("reason", Text, nullable=False),
    # the tickets the refused command concerned, comma-separated ("" for none: a refused accept)
    Column("ticket_id", String(400), nullable=False),
    Column("amount_fen", BigInteger),
    Column("limit_fen", BigInteger),
    Index("ix_ck_refusals_actor", "actor", "at"),
)

# -- quality inspection (parts/quality) ----------------------------------------------------------

quality_cycles = Table(
    "ck_quality_cycles",
    metadata,
    # the month sampled, "2026-03": one cycle per month
    Column("month", String(7), primary_key=True),
    Column("seed", String(60), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("frame_size", Integer, nullable=False),
    Column("sample_size", Integer, nullable=False),
    Column("actor", String(60), nullable=False),
)

quality_frame = Table(
    "ck_quality_frame",
    metadata,
    # the month's accepted complaints as they were when the cycle started (frozen)
    Column("month", String(7), primary_key=True),
    Column("ticket_id", String(40), primary_key=True),
    Column("stratum", String(240), nullable=False),
    Column("city", String(60), nullable=False),
    Column("category", String(60), nullable=False),
    Column("handler", String(60), nullable=False),
    Column("recording", String(200), nullable=False),
    Column("sampled", Integer, nullable=False),
)

quality_inspections = Table(
    "ck_quality_inspections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False),
    Column("ticket_id", String(40), nullable=False, unique=True),
    Column("handler", String(60), nullable=False),
    Column("inspector", String(60), nullable=False),
    Column("at", DateTime, nullable=False),
    # {"service_language": 90, …}: each norm's score out of 100
    Column("scores", Text, nullable=False),
    # the weighted score, in hundredths (8725 = 87.25)
    Column("total", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("notes", Text, nullable=False),
    Index("ix_ck_quality_inspections_month", "month", "handler"),
)

# -- return visits and tracking (parts/return_visits, parts/tracking) ----------------------------

return_visits = Table(
    "ck_return_visits",
    metadata,
    # <ticket id>-V<n>: the ticket's n-th visit
    Column("id", String(60), primary_key=True),
    Column("ticket_id", String(40), nullable=False),
    # the customer's number: an SMS answer is matched to the open surveys of its sender
    Column("msisdn", String(11), nullable=False),
    # sms | phone | in_person
    Column("channel", String(12), nullable=False),
    # open | done
    Column("status", String(12), nullable=False),
    # satisfied | basically_satisfied | dissatisfied | unreachable | no_answer ('' while open)
    Column("outcome", String(20), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("done_at", DateTime),
    # the rest of the visit (by whom, the customer's words, attempts …) as JSON
    Column("data", Text, nullable=False),
    Index("ix_ck_return_visits_msisdn", "msisdn", "status"),
    Index("ix_ck_return_visits_ticket", "ticket_id"),
)

tracking = Table(
    "ck_tracking",
    metadata,
    Column("ticket_id", String(40), primary_key=True),
    Column("expected_at", DateTime, nullable=False),
    Column("marked_at", DateTime, nullable=False),
    Column("first_reply_at", DateTime),
    # tracking rounds done (re-activations)
    Column("rounds", Integer, nullable=False),
    Column("final_replied_at", DateTime),
    Column("escalated_at", DateTime),
)

# -- parts/dispatch: every misdispatch, for the complaint-management department (D5) -------------

misdispatches = Table(
    "ck_misdispatches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ticket_id", String(40), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("from_department", String(60), nullable=False),
    Column("requested", String(60), nullable=False),
    Column("department", String(60), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(60), nullable=False),
    Column("bounces", Integer, nullable=False),
    Index("ix_ck_misdispatches_ticket", "ticket_id", "id"),
    Index("ix_ck_misdispatches_from", "from_department", "at"),
)

# -- parts/special: batch complaint requests and their callers (E2) ----------------------------------

batches = Table(
    "ck_batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("category", String(60), nullable=False),
    Column("area", String(60), nullable=False),
    # collecting | warning | cleared
    Column("state", String(12), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("lead_department", String(60), nullable=False),
    Column("callers", Integer, nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("opened_by", String(60), nullable=False),
    Column("warning_at", DateTime),
    Column("cleared_at", DateTime),
    Column("cleared_by", String(60), nullable=False, server_default=""),
    Column("result", Text, nullable=False, server_default=""),
    Index("ix_ck_batches_open", "category", "area", "state"),
)

batch_callers = Table(
    "ck_batch_callers",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("msisdn", String(11), primary_key=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("actor", String(60), nullable=False),
)

# the repeat-complaint look-up at acceptance (E3): one customer's tickets of the last days
Index("ix_ck_tickets_msisdn_created", tickets.c.msisdn, tickets.c.created_at)
