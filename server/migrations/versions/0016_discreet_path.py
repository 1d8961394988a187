"""A discreet path: private services (called only at private counters by trained staff)
that may take their numbers from another service, private counters, and tickets that are
never called aloud.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 19:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    no = sa.false()
    op.add_column("services", sa.Column("private", sa.Boolean(), nullable=False, server_default=no))
    op.add_column("services", sa.Column("numbers_from", sa.String(length=64), nullable=True))
    op.add_column("counters", sa.Column("private", sa.Boolean(), nullable=False, server_default=no))
    op.add_column("tickets", sa.Column("quiet", sa.Boolean(), nullable=False, server_default=no))


def downgrade() -> None:
    op.drop_column("tickets", "quiet")
    op.drop_column("counters", "private")
    op.drop_column("services", "numbers_from")
    op.drop_column("services", "private")
