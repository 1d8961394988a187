"""Silent alarms: an append-only log of alarms raised at counters and their
acknowledgement by supervisors.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarm_events.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alarm_events_site_at", "alarm_events", ["site_id", "at"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER alarm_events_no_{verb.lower()} BEFORE {verb} "
                "ON alarm_events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER alarm_events_append_only BEFORE UPDATE OR DELETE "
            "ON alarm_events FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )


def downgrade() -> None:
    op.drop_index("ix_alarm_events_site_at", table_name="alarm_events")
    op.drop_table("alarm_events")
