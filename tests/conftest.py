"""Shared fixtures: a migrated SQLite database with the Thessaloniki centres, the same on
a real PostgreSQL server (`store`, both in turn), an app whose test client checks every
API response against the OpenAPI document, and tokens."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from sqlalchemy import func, select, update

from server import auth, migrate, siteconfig
from server.app import create_app
from server.db import Database
from server.models import Event, StaffToken, Ticket, TicketNumber, User
from tests import openapi_check
from tests.browser import chromium
from tests.pg_cluster import Cluster

CONFIG = Path(__file__).resolve().parents[1] / "server" / "sites" / "thessaloniki.toml"
PASSWORD = "correct-horse"
USERS = {  # token name -> (username, role, site)
    "staff": ("eleni", "staff", "thess-east"),
    "west_staff": ("nikos", "staff", "thess-west"),
    "supervisor": ("maria", "supervisor", "thess-east"),
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate and configure once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "seira.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    siteconfig.load(db, CONFIG)
    for username, role, site in USERS.values():  # scrypt is slow on purpose: hash once
        auth.add_user(db, username, PASSWORD, role, site)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def db(template_db: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "seira.db"
    shutil.copy(template_db, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of the test module's own, started once for it."""
    pg = Cluster()
    yield pg
    pg.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, db: Database) -> Iterator[Database]:
    """The Thessaloniki centres on SQLite, then on a new database of the real PostgreSQL
    server: a test of the store runs on both."""
    if request.param == "sqlite":
        yield db
        return
    cluster: Cluster = request.getfixturevalue("cluster")
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    pg = Database(cluster.new_database(name))
    migrate.upgrade(pg)
    siteconfig.load(pg, CONFIG)
    yield pg
    pg.dispose()


class CheckedClient(FlaskClient):
    """A test client that validates each /api/v1 response against the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(openapi_check.PREFIX):
            body = response.get_json(silent=True) if response.data else None
            openapi_check.check(
                request.method, request.path, response.status_code, body, response.content_type
            )
        return response


@pytest.fixture
def app(db: Database):  # type: ignore[no-untyped-def]
    # tests run at any hour: the opening hours have tests of their own
    application = create_app(db, TESTING=True, SECRET_KEY="test", OPENING_HOURS="ignore")
    application.test_client_class = CheckedClient
    return application


@pytest.fixture
def client(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (tests/browser.py)."""
    with chromium() as b:
        yield b


def person(db: Database, username: str, role: str, languages: list[str]) -> int:
    """A staff account of thess-east who speaks `languages` with visitors; its id."""
    user_id = auth.add_user(db, username, "a long sandbox password", role, "thess-east")
    with db.write() as s:
        s.execute(update(User).where(User.id == user_id).values(languages=languages))
    return user_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(db: Database) -> dict[str, str]:
    """Bearer tokens: staff, supervisor and devices of thess-east, staff and kiosk of thess-west.

    Staff tokens are granted directly (sign-in through the API has its own tests).
    """
    out = {}
    with db.read() as s:
        ids = dict(s.execute(select(User.username, User.id)).all())
    for name, (username, _role, _site) in USERS.items():
        out[name] = auth.grant_token(db, ids[username])[0]
    out["kiosk"] = auth.add_device(db, "thess-east", "kiosk", "kiosk-1")
    out["display"] = auth.add_device(db, "thess-east", "display", "display-1")
    out["west_kiosk"] = auth.add_device(db, "thess-west", "kiosk", "kiosk-1")
    return out


def counts(db: Database) -> dict[str, int]:
    """Row counts of everything a request could write: equal before and after = no write."""
    with db.read() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Ticket, Event, TicketNumber, StaffToken, User)
        } | {
            "ticket_states": hash(
                tuple(
                    s.execute(
                        select(Ticket.id, Ticket.status, Ticket.counter_id, Ticket.service_id)
                    )
                )
            ),
            "last_numbers": hash(
                tuple(s.execute(select(TicketNumber.service_id, TicketNumber.last_number)))
            ),
        }
