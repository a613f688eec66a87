"""The first schema: tickets, events, timers, outbox, remote ids, inbound SMS.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ck_tickets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("msisdn", sa.String(11), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("department", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_ck_tickets_msisdn_state", "ck_tickets", ["msisdn", "state"])
    op.create_index("ix_ck_tickets_state_department", "ck_tickets", ["state", "department"])
    op.create_table(
        "ck_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_ck_events_ticket", "ck_events", ["ticket_id", "id"])
    op.create_table(
        "ck_timers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("fired_at", sa.DateTime),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_ck_timers_due", "ck_timers", ["state", "due_at"])
    op.create_index("ix_ck_timers_ticket", "ck_timers", ["ticket_id", "name"])
    op.create_table(
        "ck_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("template", sa.String(80), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("lease_until", sa.DateTime),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("remote_ids", sa.Text, nullable=False),
        sa.Column("parts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("delivered_at", sa.DateTime),
    )
    op.create_index("ix_ck_outbox_due", "ck_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_ck_outbox_ticket", "ck_outbox", ["ticket_id"])
    op.create_table(
        "ck_remote_ids",
        sa.Column("remote_id", sa.String(80), primary_key=True),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ck_inbound",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in ("ck_inbound", "ck_remote_ids", "ck_outbox", "ck_timers", "ck_events", "ck_tickets"):
        op.drop_table(table)
