"""Retention: how long a site keeps ticket-level detail, and anonymised tickets and events.

A ticket's number, code and public token become optional (an anonymised ticket has none),
so the tickets table is rebuilt on SQLite. The event log stays append-only with one
exception: a row may be rewritten once to anonymise it, keeping its ticket, site,
service, type and counter, with no staff member and no free text left.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# what an anonymising rewrite of an event may change: its time (only earlier), its staff
# member (only to none) and its payload (no printer error text); nothing else
_SQLITE_ANONYMISING = (
    "OLD.anonymised = 0 AND NEW.anonymised = 1 AND NEW.id = OLD.id"
    " AND NEW.ticket_id = OLD.ticket_id AND NEW.site_id = OLD.site_id"
    " AND NEW.service_id = OLD.service_id AND NEW.type = OLD.type"
    " AND NEW.counter_id IS OLD.counter_id AND NEW.user_id IS NULL AND NEW.at <= OLD.at"
    " AND json_extract(NEW.payload, '$.error') IS NULL"
)
_POSTGRESQL_ANONYMISING = (
    "TG_OP = 'UPDATE' AND NOT OLD.anonymised AND NEW.anonymised AND NEW.id = OLD.id"
    " AND NEW.ticket_id = OLD.ticket_id AND NEW.site_id = OLD.site_id"
    " AND NEW.service_id = OLD.service_id AND NEW.type = OLD.type"
    " AND NEW.counter_id IS NOT DISTINCT FROM OLD.counter_id AND NEW.user_id IS NULL"
    " AND NEW.at <= OLD.at AND (NEW.payload::jsonb ->> 'error') IS NULL"
)


def _optional_ticket_columns(nullable: bool) -> None:
    # SQLite cannot drop NOT NULL in place: the batch copies the table (server.migrate
    # turns the foreign keys off meanwhile, and checks them before the commit)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=nullable)
        batch_op.alter_column("code", existing_type=sa.String(16), nullable=nullable)
        batch_op.alter_column("public_token", existing_type=sa.String(43), nullable=nullable)


def upgrade() -> None:
    op.add_column(
        "sites", sa.Column("retention_days", sa.Integer(), nullable=False, server_default="90")
    )
    op.add_column(
        "tickets",
        sa.Column("anonymised", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "events", sa.Column("anonymised", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    _optional_ticket_columns(nullable=True)
    op.create_index("ix_tickets_retention", "tickets", ["site_id", "anonymised", "service_day"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER events_no_update")
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            f"WHEN NOT ({_SQLITE_ANONYMISING}) "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
        )
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER events_append_only ON events")
        op.execute(
            "CREATE FUNCTION events_anonymise_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN IF {_POSTGRESQL_ANONYMISING} THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'events are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_anonymise_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER events_no_update")
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
        )
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER events_append_only ON events")
        op.execute("DROP FUNCTION events_anonymise_only()")
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
    op.drop_index("ix_tickets_retention", table_name="tickets")
    # anonymised tickets get stand-ins that open nothing and clash with no real number
    op.execute(
        "UPDATE tickets SET number = -id, code = '-', public_token = 'anonymised-' || id "
        "WHERE anonymised"
    )
    _optional_ticket_columns(nullable=False)
    for table in ("events", "tickets"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN anonymised")
    op.execute("ALTER TABLE sites DROP COLUMN retention_days")
