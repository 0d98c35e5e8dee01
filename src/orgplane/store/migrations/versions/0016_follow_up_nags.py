"""A notification may nag the owner of a follow-up instead of being about a decision.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("decision_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("follow_up_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_notifications_follow_up_id_follow_ups", "follow_ups", ["follow_up_id"], ["id"]
        )
        batch.create_index("ix_notifications_follow_up", ["follow_up_id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_follow_up")
        batch.drop_constraint("fk_notifications_follow_up_id_follow_ups", type_="foreignkey")
        batch.drop_column("follow_up_id")
        batch.alter_column("decision_id", existing_type=sa.Integer(), nullable=False)
