"""Bounded watch history: time indexes on pings, metric values and transitions; a publish's
data time (a repeat counts only when it moves) and status (the last good one is kept).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publishes") as batch:
        batch.add_column(sa.Column("data_at", UTCDateTime()))
        batch.add_column(sa.Column("status", sa.String(16)))
    op.create_index("ix_pings_at", "pings", ["at", "subject_kind", "subject_id", "kind"])
    op.create_index("ix_metric_values_at", "metric_values", ["at", "metric_id", "value"])
    op.create_index("ix_watch_transitions_at", "watch_transitions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_watch_transitions_at", "watch_transitions")
    op.drop_index("ix_metric_values_at", "metric_values")
    op.drop_index("ix_pings_at", "pings")
    with op.batch_alter_table("publishes") as batch:
        batch.drop_column("status")
        batch.drop_column("data_at")
