"""The daemon: resume attempts, and on PostgreSQL a NOTIFY for every statement adding events.

The trigger wakes every daemon LISTENing on ``orgplane_events`` the moment a transaction that
recorded events commits, whichever process or machine wrote them; the payload is the schema,
so daemons on other schemas of one database ignore it. One notification per statement, not per
row: a burst of 10,000 events is one wake-up.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from orgplane.store.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION orgplane_events_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('orgplane_events', current_schema());
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "resume_attempts",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer()),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("exit_code", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name="fk_resume_attempts_decision_id_decisions"
        ),
        sa.PrimaryKeyConstraint("decision_id", "attempt", name="pk_resume_attempts"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(
            "CREATE TRIGGER events_notify AFTER INSERT ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION orgplane_events_notify()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
        op.execute("DROP FUNCTION IF EXISTS orgplane_events_notify()")
    op.drop_table("resume_attempts")
