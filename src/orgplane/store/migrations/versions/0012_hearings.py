"""Retirement hearings: a seat's evidence when the hearing opened, and its verdict.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hearings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seat_id", sa.String(100), nullable=False),
        sa.Column("open_seat", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(100)),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.JSON()),
        sa.Column("reason", sa.Text()),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("sync_id", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["sync_id"], ["org_syncs.id"], name="fk_hearings_sync_id_org_syncs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hearings"),
        sa.UniqueConstraint("open_seat", name="uq_hearings_open_seat"),
    )
    op.create_index("ix_hearings_seat_id", "hearings", ["seat_id"])


def downgrade() -> None:
    op.drop_index("ix_hearings_seat_id", table_name="hearings")
    op.drop_table("hearings")
