"""Access: page sessions apart from API tokens, staff trained for sensitive reasons,
sign-in failures for the lockout, and the index that counts a kiosk's recent tickets.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "staff_tokens", sa.Column("kind", sa.String(8), nullable=False, server_default="api")
    )
    op.add_column(
        "memberships",
        sa.Column("trained", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "signin_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_signin_failures_username_at", "signin_failures", ["username", "at"])
    op.create_index("ix_signin_failures_address_at", "signin_failures", ["address", "at"])
    op.create_index("ix_tickets_device_issued", "tickets", ["device_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_device_issued", "tickets")
    op.drop_table("signin_failures")
    op.execute("ALTER TABLE memberships DROP COLUMN trained")
    op.execute("ALTER TABLE staff_tokens DROP COLUMN kind")
