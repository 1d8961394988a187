"""Pending prints: print jobs kept until their outcome is logged, so that another server
process takes over those of a process that died.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_prints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("status_url", sa.String(300), nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pending_prints_seen_at", "pending_prints", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_prints_seen_at", "pending_prints")
    op.drop_table("pending_prints")
