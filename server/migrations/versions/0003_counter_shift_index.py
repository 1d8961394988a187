"""A counter's shift is read as of an instant: its latest event at or before it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:30:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counter_events", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_events_counter")
        batch_op.create_index(
            "ix_counter_events_counter_at", ["counter_id", "at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("counter_events", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_events_counter_at")
        batch_op.create_index("ix_counter_events_counter", ["counter_id", "id"], unique=False)
