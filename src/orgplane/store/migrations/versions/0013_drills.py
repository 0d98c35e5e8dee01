"""Drill results: one row per scenario step, the only trace a drill leaves in the live store.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_id", sa.String(40), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("score", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drills"),
    )
    op.create_index("ix_drills_subject", "drills", ["subject_kind", "subject_id", "ran_at"])
    op.create_index("ix_drills_scenario", "drills", ["scenario", "ran_at"])


def downgrade() -> None:
    op.drop_table("drills")
