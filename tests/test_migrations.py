"""The Alembic migrations (server/migrate.py, server/migrations/) against the models.

A model change without a migration makes `test_schema_matches_the_models` fail: write the
migration (alembic revision --autogenerate, then read and correct it) in the same change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

from server import migrate, siteconfig
from server.db import Database
from server.models import Base, Event
from server.queue import transactions
from tests.conftest import CONFIG

APPEND_ONLY_TRIGGERS = {
    "events_no_update",
    "events_no_delete",
    "counter_events_no_update",
    "counter_events_no_delete",
    "mediator_events_no_update",
    "mediator_events_no_delete",
    "alarm_events_no_update",
    "alarm_events_no_delete",
    "audit_log_no_update",
    "audit_log_no_delete",
}


@pytest.fixture
def fresh(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield database
    database.dispose()


def _differences(db: Database) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _triggers(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(
            connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        )


def test_one_head_and_a_linear_history() -> None:
    with Database("sqlite://").engine.connect() as connection:
        scripts = ScriptDirectory.from_config(migrate._config(connection))
        heads = scripts.get_heads()
        revisions = list(scripts.walk_revisions())
    assert heads == [migrate.head_revision()]
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)
    assert revisions[-1].down_revision is None


def test_upgrade_on_an_empty_file_reaches_head(fresh: Database) -> None:
    assert migrate.current_revision(fresh) is None
    assert migrate.upgrade(fresh) == migrate.head_revision()
    assert migrate.current_revision(fresh) == migrate.head_revision()
    assert _tables(fresh) == set(Base.metadata.tables) | {"alembic_version"}
    # upgrading an up-to-date database is a no-op
    assert migrate.upgrade(fresh) == migrate.head_revision()


def test_schema_matches_the_models(fresh: Database) -> None:
    migrate.upgrade(fresh)
    assert _differences(fresh) == []


def test_the_comparison_does_see_differences(fresh: Database) -> None:
    """Guard for the test above: an empty database differs from the models."""
    with fresh.engine.begin() as connection:
        connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    kinds = {diff[0] for diff in _differences(fresh) if isinstance(diff, tuple)}
    assert {"add_table", "remove_table"} <= kinds


def test_downgrade_to_base_and_upgrade_again(fresh: Database) -> None:
    migrate.upgrade(fresh)
    siteconfig.load(fresh, CONFIG)
    assert _triggers(fresh) == APPEND_ONLY_TRIGGERS

    with fresh.engine.begin() as connection:
        command.downgrade(migrate._config(connection), "base")
    assert migrate.current_revision(fresh) is None
    assert _tables(fresh) <= {"alembic_version"}
    assert _triggers(fresh) == set()

    with fresh.engine.begin() as connection:
        command.upgrade(migrate._config(connection), "head")
    assert migrate.current_revision(fresh) == migrate.head_revision()
    assert _differences(fresh) == []
    assert _triggers(fresh) == APPEND_ONLY_TRIGGERS
    # and the schema is usable: the configuration loads again into the empty tables
    assert siteconfig.load(fresh, CONFIG)["sites"] == 2


# --- the append-only event log -----------------------------------------------------------


def _one_event(db: Database) -> tuple[int, list]:
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="el")
    with db.read() as s:
        rows = s.execute(select(Event.id, Event.type, Event.ticket_id)).all()
    assert len(rows) == 1
    return rows[0][0], rows


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'called' WHERE id = :id",
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events WHERE id = :id",
        "DELETE FROM events",
    ],
)
def test_events_are_append_only(db: Database, statement: str) -> None:
    event_id, before = _one_event(db)
    with pytest.raises(DatabaseError) as info, db.engine.begin() as connection:
        connection.execute(text(statement), {"id": event_id})
    assert "append-only" in str(info.value)
    with db.read() as s:
        assert s.execute(select(Event.id, Event.type, Event.ticket_id)).all() == before


def test_events_are_append_only_through_the_orm(db: Database) -> None:
    event_id, before = _one_event(db)
    with pytest.raises(DatabaseError, match="append-only"), db.write() as s:
        s.get(Event, event_id).type = "called"
    with pytest.raises(DatabaseError, match="append-only"), db.write() as s:
        s.delete(s.get(Event, event_id))
    with db.read() as s:
        assert s.execute(select(Event.id, Event.type, Event.ticket_id)).all() == before


def test_events_can_still_be_appended(db: Database) -> None:
    _one_event(db)
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="en")
    with db.read() as s:
        assert len(s.scalars(select(Event.id)).all()) == 2
