"""The days a centre is closed, and the information messages of its displays.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("closures", "messages"):
        op.add_column("sites", sa.Column(column, sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    for column in ("messages", "closures"):
        op.execute(f"ALTER TABLE sites DROP COLUMN {column}")
