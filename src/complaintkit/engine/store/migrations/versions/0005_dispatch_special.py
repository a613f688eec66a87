"""Dispatch and special tickets: misdispatches, batch requests and their callers, and the index
the repeat-complaint look-up at acceptance runs on.

- ``ck_misdispatches``: every misdispatch (D5) with its reason, for the complaint-management
  department and for reports by department.
- ``ck_batches`` / ``ck_batch_callers``: batch complaint requests (E2), each caller once.
- ``ix_ck_tickets_msisdn_created``: a customer's tickets of the last 30 days (E3).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ck_misdispatches",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("from_department", sa.String(60), nullable=False),
        sa.Column("requested", sa.String(60), nullable=False),
        sa.Column("department", sa.String(60), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("bounces", sa.Integer, nullable=False),
    )
    op.create_index("ix_ck_misdispatches_ticket", "ck_misdispatches", ["ticket_id", "id"])
    op.create_index("ix_ck_misdispatches_from", "ck_misdispatches", ["from_department", "at"])
    op.create_table(
        "ck_batches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("area", sa.String(60), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("lead_department", sa.String(60), nullable=False),
        sa.Column("callers", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("opened_by", sa.String(60), nullable=False),
        sa.Column("warning_at", sa.DateTime),
        sa.Column("cleared_at", sa.DateTime),
        sa.Column("cleared_by", sa.String(60), nullable=False, server_default=""),
        sa.Column("result", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_ck_batches_open", "ck_batches", ["category", "area", "state"])
    op.create_table(
        "ck_batch_callers",
        sa.Column("batch_id", sa.String(40), primary_key=True),
        sa.Column("msisdn", sa.String(11), primary_key=True),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
    )
    op.create_index("ix_ck_tickets_msisdn_created", "ck_tickets", ["msisdn", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ck_tickets_msisdn_created", "ck_tickets")
    op.drop_table("ck_batch_callers")
    op.drop_index("ix_ck_batches_open", "ck_batches")
    op.drop_table("ck_batches")
    op.drop_index("ix_ck_misdispatches_from", "ck_misdispatches")
    op.drop_index("ix_ck_misdispatches_ticket", "ck_misdispatches")
    op.drop_table("ck_misdispatches")
