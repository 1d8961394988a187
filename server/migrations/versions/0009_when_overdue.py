"""What a wait past a service's maximum does: call first (as before), or alert only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services",
        sa.Column("when_overdue", sa.String(16), nullable=False, server_default="call_first"),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE services DROP COLUMN when_overdue")
