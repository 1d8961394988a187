"""Mediators: an append-only log of when each intercultural mediator or interpreter was
available, busy or away and which visits they joined, and the languages a centre covers
by phone interpretation.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sites",
        sa.Column("phone_languages", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.create_table(
        "mediator_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["counter_id"], ["counters.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mediator_events_site_at", "mediator_events", ["site_id", "at"])
    op.create_index("ix_mediator_events_ticket", "mediator_events", ["ticket_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER mediator_events_no_{verb.lower()} BEFORE {verb} "
                "ON mediator_events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER mediator_events_append_only BEFORE UPDATE OR DELETE "
            "ON mediator_events FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )


def downgrade() -> None:
    op.drop_index("ix_mediator_events_ticket", table_name="mediator_events")
    op.drop_index("ix_mediator_events_site_at", table_name="mediator_events")
    op.drop_table("mediator_events")
    op.execute("ALTER TABLE sites DROP COLUMN phone_languages")
