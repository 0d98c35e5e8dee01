"""The coverage gate: the last good copy of file outputs, and every gate answer.

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "last_good_files",
        sa.Column("output_id", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data_at", UTCDateTime()),
        sa.Column("kept_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("output_id", name="pk_last_good_files"),
    )
    op.create_table(
        "gate_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seat_id", sa.String(100), nullable=False),
        sa.Column("output_id", sa.String(100), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("given", sa.String(16), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("size", sa.Integer()),
        sa.Column("content_at", UTCDateTime()),
        sa.Column("escalate_to", sa.String(100)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_answers"),
    )
    op.create_index("ix_gate_answers_seat", "gate_answers", ["seat_id", "answered_at"])
    op.create_index("ix_gate_answers_at", "gate_answers", ["answered_at"])


def downgrade() -> None:
    op.drop_table("gate_answers")
    op.drop_table("last_good_files")
