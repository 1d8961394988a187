"""The same reports on a real PostgreSQL server (a throwaway cluster from Debian's package):
the SQL is portable, and the figures are those worked out by hand for SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from server import migrate, siteconfig
from server.analytics import history
from server.analytics.reports import KINDS, compute
from server.db import Database
from server.models import Site, Ticket
from tests.conftest import CONFIG
from tests.pg_cluster import Cluster
from tests.test_reports_figures import D1, D2, build_history


@pytest.fixture(scope="module")
def pg() -> Iterator[Database]:
    cluster = Cluster()  # `make test` installs Debian's postgresql when it is missing
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE reports"))
    db = Database(cluster.url("reports"))
    migrate.upgrade(db)
    siteconfig.load(db, CONFIG)
    build_history(db)
    yield db
    db.dispose()
    admin.dispose()
    cluster.stop()


def _report(db: Database, kind: str, first: date = D1, last: date = D1, **kw):  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        site_id = conn.execute(select(Site.id).where(Site.slug == "thess-east")).scalar_one()
        return compute(conn, kind, [site_id], first, last, **kw)


def test_figures_on_postgresql(pg: Database) -> None:
    for kind in KINDS:
        _report(pg, kind)  # every statement runs
    waits = {r["service"]: r for r in _report(pg, "waits").table("by_service").rows}
    assert (waits["general"]["wait_median_s"], waits["general"]["wait_p90_s"]) == (330, 960)
    assert waits["general"]["service_p90_s"] == 912 and waits["benefits"]["wait_p90_s"] == 1110
    heat = _report(pg, "heatmap", D2, D2).table("arrivals").rows
    assert [(r["weekday"], r["hour"], r["visits"]) for r in heat] == [(2, 2, 1)]
    endings = {r["ending"]: r["visits"] for r in _report(pg, "outcomes").table("endings").rows}
    assert endings["left"] == 1 and endings["no_show"] == 1 and endings["referred_external"] == 1
    july = _report(pg, "reasons", date(2025, 7, 1), date(2025, 7, 31))
    groups = {r["group"]: r["visits"] for r in july.table("groups").rows}
    assert groups["other"] == groups["protection"] == "x" and groups["legal"] == 0
    reasons = {r["reason"]: r["visits"] for r in july.table("reasons").rows}
    assert reasons["benefits.min_income"] == 2  # the same cells as on SQLite
    staffing = _report(pg, "staffing").table("hours").rows
    assert {r["hour"]: r["present"] for r in staffing if r["weekday"] == 1}[11] == 1.5


def test_history_on_postgresql_keeps_the_id_sequence(pg: Database) -> None:
    stats = history.generate(pg, "thess-west", days=10, per_day=20, seed=4, end=date(2025, 6, 30))
    assert stats.tickets > 0
    with pg.transaction() as conn:
        top = conn.execute(select(func.max(Ticket.id))).scalar()
        following = conn.execute(text("SELECT nextval(pg_get_serial_sequence('tickets', 'id'))"))
        assert following.scalar() > top
