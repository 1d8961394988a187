"""Counter events: who opened, paused, resumed and closed which counter, and when.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("counter_events", schema=None) as batch_op:
        batch_op.create_index("ix_counter_events_site_at", ["site_id", "at"], unique=False)
        batch_op.create_index("ix_counter_events_counter", ["counter_id", "id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER counter_events_no_{verb.lower()} BEFORE {verb} "
                "ON counter_events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER counter_events_append_only BEFORE UPDATE OR DELETE ON counter_events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS counter_events_append_only ON counter_events")
    with op.batch_alter_table("counter_events", schema=None) as batch_op:
        batch_op.drop_index("ix_counter_events_counter")
        batch_op.drop_index("ix_counter_events_site_at")
    op.drop_table("counter_events")
