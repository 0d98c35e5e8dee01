"""Hand-offs (the human queue) and the log of manual checkpoints, for the delegation ledger.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("from_seat", sa.String(100)),
        sa.Column("to_seat", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime()),
        sa.Column("resolved_by", sa.String(100)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("output", sa.JSON()),
        sa.Column("note", sa.Text()),
        sa.Column("overdue_event_id", sa.Integer()),
        sa.Column("during_failure", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index("ix_handoffs_to_seat_resolved_at", "handoffs", ["to_seat", "resolved_at"])
    op.create_index("ix_handoffs_run_id_record_key", "handoffs", ["run_id", "record_key"])
    op.create_index("ix_handoffs_created_at", "handoffs", ["created_at"])
    op.create_table(
        "manual_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("run_status", sa.String(16), nullable=False),
        sa.Column("during_failure", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_manual_checkpoints"),
    )
    op.create_index("ix_manual_checkpoints_run_id", "manual_checkpoints", ["run_id"])
    op.create_index("ix_manual_checkpoints_created_at", "manual_checkpoints", ["created_at"])


def downgrade() -> None:
    op.drop_table("manual_checkpoints")
    op.drop_table("handoffs")
