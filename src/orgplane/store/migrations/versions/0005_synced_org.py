"""The digest of the org last synced, so an unchanged org costs one read and no write.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "synced_org",
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name="pk_synced_org"),
    )


def downgrade() -> None:
    op.drop_table("synced_org")
