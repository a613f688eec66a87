"""After the reply: return visits (SPEC G1–G4) and tracking long cases (SPEC F1, F2).

- ``ck_return_visits``: every return visit as its own record — channel, when, by whom, outcome,
  the customer's words and the contact attempts — indexed by customer (to match an SMS answer
  to the open survey) and by ticket.
- ``ck_tracking``: a tracked complaint's expected resolution, its first reply, the rounds done,
  the final reply and the escalation.

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ck_return_visits",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("ticket_id", sa.String(40), nullable=False),
        sa.Column("msisdn", sa.String(11), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("done_at", sa.DateTime),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_ck_return_visits_msisdn", "ck_return_visits", ["msisdn", "status"])
    op.create_index("ix_ck_return_visits_ticket", "ck_return_visits", ["ticket_id"])
    op.create_table(
        "ck_tracking",
        sa.Column("ticket_id", sa.String(40), primary_key=True),
        sa.Column("expected_at", sa.DateTime, nullable=False),
        sa.Column("marked_at", sa.DateTime, nullable=False),
        sa.Column("first_reply_at", sa.DateTime),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("final_replied_at", sa.DateTime),
        sa.Column("escalated_at", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("ck_tracking")
    op.drop_index("ix_ck_return_visits_ticket", "ck_return_visits")
    op.drop_index("ix_ck_return_visits_msisdn", "ck_return_visits")
    op.drop_table("ck_return_visits")
