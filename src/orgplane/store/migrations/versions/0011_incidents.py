"""Incidents, their timeline and follow-ups; why orgplane itself changed the org file.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("signature", sa.String(400), nullable=False),
        sa.Column("open_signature", sa.String(400)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("seat_id", sa.String(100)),
        sa.Column("run_id", sa.String(200)),
        sa.Column("tier", sa.String(100)),
        sa.Column("action", sa.String(16)),
        sa.Column("notify", sa.String(100)),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("acked_at", UTCDateTime()),
        sa.Column("acked_by", sa.String(100)),
        sa.Column("recovered_at", UTCDateTime()),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("learning", sa.Text()),
        sa.Column("change", sa.JSON()),
        sa.Column("learning_held", sa.Boolean()),
        sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_event_id"], ["events.id"], name="fk_incidents_first_event_id_events"
        ),
        sa.ForeignKeyConstraint(
            ["last_event_id"], ["events.id"], name="fk_incidents_last_event_id_events"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("open_signature", name="uq_incidents_open_signature"),
    )
    op.create_index("ix_incidents_signature", "incidents", ["signature"])
    op.create_index("ix_incidents_subject", "incidents", ["subject_kind", "subject_id", "status"])
    op.create_index("ix_incidents_occurred_at", "incidents", ["occurred_at"])
    op.create_table(
        "incident_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100)),
        sa.Column("event_id", sa.Integer()),
        sa.Column("decision_id", sa.Integer()),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_steps_incident_id_incidents"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_incident_steps_event_id_events"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name="fk_incident_steps_decision_id_decisions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_steps"),
    )
    op.create_index("ix_incident_steps_incident_id", "incident_steps", ["incident_id"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100)),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("done_by", sa.String(100)),
        sa.Column("done_note", sa.Text()),
        sa.Column("nagged_at", UTCDateTime()),
        sa.Column("nags", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_follow_ups_incident_id_incidents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    op.create_index("ix_follow_ups_incident_id", "follow_ups", ["incident_id"])
    op.create_index("ix_follow_ups_due", "follow_ups", ["done_at", "due"])
    op.create_table(
        "incident_filing",
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("through", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name="pk_incident_filing"),
    )
    with op.batch_alter_table("org_syncs") as batch:
        batch.add_column(sa.Column("cause", sa.Text()))
        batch.add_column(sa.Column("incident_id", sa.Integer()))
        batch.add_column(sa.Column("actor", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("org_syncs") as batch:
        batch.drop_column("actor")
        batch.drop_column("incident_id")
        batch.drop_column("cause")
    op.drop_table("incident_filing")
    op.drop_table("follow_ups")
    op.drop_table("incident_steps")
    op.drop_table("incidents")
