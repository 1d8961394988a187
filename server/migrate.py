"""Create or upgrade the database schema with the project's Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection) -> Config:  # type: ignore[no-untyped-def]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database) -> str:
    """Apply every pending migration; returns the revision the database is now at.

    On SQLite a migration that rebuilds a table others refer to (the tickets, which events
    point at) would trip the foreign keys while the copy replaces the original, so they are
    off while migrating, as SQLite documents for table rebuilds, and checked before the
    commit: a migration that leaves a dangling reference is rolled back.
    """
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        try:
            with connection.begin():
                command.upgrade(_config(connection), "head")
                if raw is not None:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(f"the migration left dangling references: {dangling}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return current_revision(db) or ""


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    with Database("sqlite://").engine.connect() as connection:
        head = ScriptDirectory.from_config(_config(connection)).get_current_head()
    assert head is not None
    return head
