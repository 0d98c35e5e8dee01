"""Decisions on failure events, and which event each decision consumed.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signature", sa.String(300), nullable=False),
        sa.Column("open_signature", sa.String(300)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("seat_id", sa.String(100)),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(100)),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("notify", sa.String(100)),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by_event", sa.Integer()),
        sa.Column("acked_at", UTCDateTime()),
        sa.Column("acked_until", UTCDateTime()),
        sa.Column("ack_note", sa.Text()),
        sa.ForeignKeyConstraint(
            ["first_event_id"], ["events.id"], name="fk_decisions_first_event_id_events"
        ),
        sa.ForeignKeyConstraint(
            ["last_event_id"], ["events.id"], name="fk_decisions_last_event_id_events"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_event"], ["events.id"], name="fk_decisions_closed_by_event_events"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("open_signature", name="uq_decisions_open_signature"),
    )
    op.create_index("ix_decisions_subject", "decisions", ["subject_kind", "subject_id", "status"])
    op.create_table(
        "decision_events",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer()),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_decision_events_event_id_events"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name="fk_decision_events_decision_id_decisions"
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_decision_events"),
    )


def downgrade() -> None:
    op.drop_table("decision_events")
    op.drop_index("ix_decisions_subject", table_name="decisions")
    op.drop_table("decisions")
