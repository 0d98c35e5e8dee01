"""The declared org, its sync history, and failure events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _declared_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("first_declared_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime()),
    ]


def upgrade() -> None:
    op.create_table(
        "seats",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("holder", sa.Text()),
        sa.Column("reports_to", sa.String(100)),
        sa.Column("owner", sa.String(100)),
        *_declared_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_seats"),
    )
    op.create_table(
        "outputs",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("producer", sa.String(100), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        *_declared_columns(),
        sa.ForeignKeyConstraint(["producer"], ["seats.id"], name="fk_outputs_producer_seats"),
        sa.PrimaryKeyConstraint("id", name="pk_outputs"),
    )
    op.create_table(
        "processes",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("seat", sa.String(100), nullable=False),
        *_declared_columns(),
        sa.ForeignKeyConstraint(["seat"], ["seats.id"], name="fk_processes_seat_seats"),
        sa.PrimaryKeyConstraint("id", name="pk_processes"),
    )
    op.create_table(
        "metrics",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        *_declared_columns(),
        sa.ForeignKeyConstraint(["owner"], ["seats.id"], name="fk_metrics_owner_seats"),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
    )
    op.create_table(
        "org_syncs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("org_name", sa.Text(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_org_syncs"),
    )
    op.create_table(
        "org_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sync_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        sa.ForeignKeyConstraint(
            ["sync_id"], ["org_syncs.id"], name="fk_org_changes_sync_id_org_syncs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_org_changes"),
    )
    op.create_index("ix_org_changes_sync_id", "org_changes", ["sync_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("seat_id", sa.String(100)),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(200)),
        sa.Column("record_key", sa.Text()),
        sa.Column("stage", sa.String(100)),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(300)),
        sa.Column("incident_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
    )
    op.create_index("ix_events_subject", "events", ["subject_kind", "subject_id", "occurred_at"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])


def downgrade() -> None:
    for table in ("events", "org_changes", "org_syncs", "metrics", "processes", "outputs", "seats"):
        op.drop_table(table)
