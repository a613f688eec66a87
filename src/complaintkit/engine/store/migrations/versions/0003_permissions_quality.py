"""Permissions and quality inspection: refusals kept for audit, the monthly sampling cycles.

- ``ck_refusals``: every refused command (SPEC H3): actor, role, action, permission, the rule
  that refused and why, the tickets and amount concerned.
- ``ck_quality_cycles``, ``ck_quality_frame``: one cycle per month, and the month's accepted
  complaints frozen when it started, with the sampled ones marked (SPEC I1).
- ``ck_quality_inspections``: each sampled ticket's scorecard.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ck_refusals",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("permission", sa.String(80), nullable=False),
        sa.Column("rule", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ticket_id", sa.String(400), nullable=False),
        sa.Column("amount_fen", sa.BigInteger),
        sa.Column("limit_fen", sa.BigInteger),
    )
    op.create_index("ix_ck_refusals_actor", "ck_refusals", ["actor", "at"])
    op.create_table(
        "ck_quality_cycles",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("seed", sa.String(60), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("frame_size", sa.Integer, nullable=False),
        sa.Column("sample_size", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
    )
    op.create_table(
        "ck_quality_frame",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("ticket_id", sa.String(40), primary_key=True),
        sa.Column("stratum", sa.String(240), nullable=False),
        sa.Column("city", sa.String(60), nullable=False),
        sa.Column("category", sa.String(60), nullable=False),
        sa.Column("handler", sa.String(60), nullable=False),
        sa.Column("recording", sa.String(200), nullable=False),
        sa.Column("sampled", sa.Integer, nullable=False),
    )
    op.create_table(
        "ck_quality_inspections",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("ticket_id", sa.String(40), nullable=False, unique=True),
        sa.Column("handler", sa.String(60), nullable=False),
        sa.Column("inspector", sa.String(60), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
    )
    op.create_index("ix_ck_quality_inspections_month", "ck_quality_inspections", ["month", "handler"])


def downgrade() -> None:
    op.drop_index("ix_ck_quality_inspections_month", "ck_quality_inspections")
    op.drop_table("ck_quality_inspections")
    op.drop_table("ck_quality_frame")
    op.drop_table("ck_quality_cycles")
    op.drop_index("ix_ck_refusals_actor", "ck_refusals")
    op.drop_table("ck_refusals")
