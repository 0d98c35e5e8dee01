"""Silent-failure detection: watch states and transitions, publishes, pings, metric values.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_states",
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("last_good_at", UTCDateTime()),
        sa.Column("data_at", UTCDateTime()),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("same_content", sa.Integer(), nullable=False),
        sa.Column("deadline", UTCDateTime()),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", name="pk_watch_states"),
    )
    op.create_table(
        "watch_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_watch_transitions"),
    )
    op.create_index(
        "ix_watch_transitions_subject", "watch_transitions", ["subject_kind", "subject_id", "at"]
    )
    op.create_table(
        "publishes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("output_id", sa.String(100), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_publishes"),
    )
    op.create_index("ix_publishes_output_id", "publishes", ["output_id", "published_at"])
    op.create_table(
        "pings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_pings"),
    )
    op.create_index("ix_pings_subject", "pings", ["subject_kind", "subject_id", "at"])
    op.create_table(
        "metric_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("metric_id", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("pushed_at", UTCDateTime(), nullable=False),
        sa.Column("pushed_by", sa.String(100)),
        sa.PrimaryKeyConstraint("id", name="pk_metric_values"),
    )
    op.create_index("ix_metric_values_metric_id", "metric_values", ["metric_id", "at"])


def downgrade() -> None:
    for table in ("metric_values", "pings", "publishes", "watch_transitions", "watch_states"):
        op.drop_table(table)
