"""Staff languages: the languages each staff member speaks with visitors, which decide
whom a counter calls (a ticket waits for a speaker of its language who is on duty).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("languages", sa.JSON(), nullable=False, server_default=sa.text("'[\"el\"]'")),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE users DROP COLUMN languages")
