"""The engine's own tables and columns: the durable inbox, detector runs, quarantine, re-sends.

- ``ck_inbox``: what the far end delivered (customer replies, receipts), stored before it is
  acknowledged and processed afterwards, once.
- ``ck_detector_runs``: one row per detector per window; its primary key makes a detection
  happen once per window, whatever the number of workers.
- ``ck_timers.last_error`` and the ``quarantined`` state: a timer whose handler fails is set
  aside with its error instead of stopping every other timer; the due index gains ``id``, the
  claim's order.
- ``ck_outbox.resends``: how often a message went out again after a lost claim.
- ``ck_tickets.parent_id``: the ticket a ticket belongs to (a batch request, a remedy's original).
- ``ck_remote_ids.remote_id`` of any length (SMTP Message-IDs are 80–100 characters).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ck_inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )
    op.create_index("ix_ck_inbox_due", "ck_inbox", ["state", "next_attempt_at", "id"])
    op.create_table(
        "ck_detector_runs",
        sa.Column("detector", sa.String(80), primary_key=True),
        sa.Column("window_start", sa.DateTime, primary_key=True),
        sa.Column("ran_at", sa.DateTime, nullable=False),
        sa.Column("emitted", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("ck_timers") as batch:
        batch.add_column(sa.Column("last_error", sa.Text))
        batch.alter_column("state", type_=sa.String(12), existing_type=sa.String(10))
    op.drop_index("ix_ck_timers_due", "ck_timers")
    op.create_index("ix_ck_timers_due", "ck_timers", ["state", "due_at", "id"])
    with op.batch_alter_table("ck_outbox") as batch:
        batch.add_column(sa.Column("resends", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("ck_tickets") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(40), nullable=False, server_default=""))
    op.create_index("ix_ck_tickets_parent", "ck_tickets", ["parent_id"])
    with op.batch_alter_table("ck_remote_ids") as batch:
        batch.alter_column("remote_id", type_=sa.Text, existing_type=sa.String(80))


def downgrade() -> None:
    op.drop_index("ix_ck_tickets_parent", "ck_tickets")
    with op.batch_alter_table("ck_tickets") as batch:
        batch.drop_column("parent_id")
    with op.batch_alter_table("ck_outbox") as batch:
        batch.drop_column("resends")
    op.drop_index("ix_ck_timers_due", "ck_timers")
    op.create_index("ix_ck_timers_due", "ck_timers", ["state", "due_at"])
    with op.batch_alter_table("ck_timers") as batch:
        batch.drop_column("last_error")
    op.drop_table("ck_detector_runs")
    op.drop_index("ix_ck_inbox_due", "ck_inbox")
    op.drop_table("ck_inbox")
