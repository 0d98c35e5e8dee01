"""Forced resumes: runs held by an unhandled error that a person resumed anyway, with the reason.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forced_resumes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record_key", sa.String(200)),
        sa.Column("stage", sa.String(100)),
        sa.Column("error", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.Integer()),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_forced_resumes_run_id_runs"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_forced_resumes_incident_id_incidents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_forced_resumes"),
    )
    op.create_index("ix_forced_resumes_run_id", "forced_resumes", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_forced_resumes_run_id", table_name="forced_resumes")
    op.drop_table("forced_resumes")
