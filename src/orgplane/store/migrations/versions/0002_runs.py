"""Durable staged processes: runs, their records (with leases) and checkpoints.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("batch", sa.String(100), nullable=False),
        sa.Column("seat_id", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=False),
        sa.Column("records_digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("stopped_record", sa.String(200)),
        sa.Column("stopped_stage", sa.String(100)),
        sa.Column("error", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("process_id", "batch", name="uq_runs_process_id_batch"),
    )
    op.create_table(
        "run_records",
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", UTCDateTime()),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_records_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_run_records"),
        sa.UniqueConstraint("run_id", "key", name="uq_run_records_run_id_key"),
    )
    op.create_index(
        "ix_run_records_claim",
        "run_records",
        ["run_id", "seq"],
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "run_checkpoints",
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("output", sa.JSON()),
        sa.Column("error", sa.JSON()),
        sa.Column("idempotency_key", sa.String(64)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(100)),
        sa.Column("reconciled", sa.String(16)),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "seq"],
            ["run_records.run_id", "run_records.seq"],
            name="fk_run_checkpoints_run_id_run_records",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", "stage", name="pk_run_checkpoints"),
    )


def downgrade() -> None:
    for table in ("run_checkpoints", "run_records", "runs"):
        op.drop_table(table)
