"""The same core on a real PostgreSQL server: migrations, the append-only log, the
lifecycle, and numbering and calling under concurrency, where PostgreSQL's row locks
replace SQLite's write lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from server import catalog, migrate, siteconfig
from server.db import Database
from server.errors import Conflict
from server.models import Base, Event, Ticket
from server.queue import rules, transactions, writer
from server.queue.rules import Action, Status
from tests.conftest import CONFIG
from tests.pg_cluster import Cluster

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
_names = count()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pg = Cluster()
    admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE template_seira"))
    template = Database(pg.url("template_seira"))
    migrate.upgrade(template)
    siteconfig.load(template, CONFIG)
    template.dispose()
    yield pg
    admin.dispose()
    pg.stop()


@pytest.fixture
def pg(cluster: Cluster) -> Iterator[Database]:
    """A fresh database per test, copied from the migrated and configured template."""
    name = f"t{next(_names)}"
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template_seira"))
    admin.dispose()
    db = Database(cluster.url(name))
    yield db
    db.dispose()


def issue(db: Database, service: str = "general", now: datetime = T0) -> transactions.TicketView:
    return transactions.issue_ticket(
        db, site="thess-east", service=service, reason="other", lang="ur", now=now
    )


def test_the_migrated_schema_matches_the_models(pg: Database) -> None:
    with pg.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_event_log_is_append_only(pg: Database) -> None:
    issue(pg)
    for statement in ("UPDATE events SET type = 'called'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), pg.engine.begin() as conn:
            conn.execute(text(statement))
    with pg.read() as s:
        assert s.scalars(select(Event.type)).all() == ["issued"]


def test_a_whole_visit(pg: Database) -> None:
    first, second = issue(pg), issue(pg)
    assert (first.number, second.number, second.people_ahead) == ("A001", "A002", 1)
    called = transactions.call_next(
        pg, site="thess-east", counter="desk-1", user_id=None, now=T0
    ).ticket
    assert called is not None and called.id == first.id
    transactions.act(pg, first.id, Action.START, user_id=None)
    done = transactions.act(
        pg, first.id, Action.FINISH, user_id=None, outcome="referred_external", referral="dypa"
    )
    assert done.status == Status.DONE
    moved = transactions.act(pg, second.id, Action.TRANSFER, user_id=None, service="benefits")
    assert (moved.service, moved.number) == ("benefits", "A002")
    with pg.read() as s:
        kinds = s.scalars(select(Event.type).where(Event.ticket_id == first.id).order_by(Event.id))
        assert kinds.all() == ["issued", "called", "started", "finished"]


def test_numbering_restarts_at_athens_midnight(pg: Database) -> None:
    assert issue(pg, now=datetime(2026, 11, 23, 21, 59, tzinfo=UTC)).number == "A001"
    assert issue(pg, now=datetime(2026, 11, 23, 22, 0, tzinfo=UTC)).number == "A001"
    assert transactions.close_day(pg, now=datetime(2026, 11, 24, 22, 30, tzinfo=UTC)) == 2


def _together(n: int, work) -> list:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_transactions_take_gap_free_numbers(pg: Database) -> None:
    """Eight connections each numbering tickets in their own transactions at once: the
    upsert's row lock is all that keeps the numbers apart (no process lock on PostgreSQL)."""
    cat = catalog.current(pg)
    site = cat.site("thess-east")
    service = cat.service(site.id, "general")

    def work(_i: int) -> list[str]:
        codes = []
        for _ in range(25):
            new = writer.NewTicket(
                site.id, service, T0.date(), "other", "el", rules.Priority.NONE, None, None, T0
            )
            with pg.connect() as conn, pg.writing(conn):
                codes.append(writer.write_ticket(conn, new)["code"])
        return codes

    codes = [code for batch in _together(8, work) for code in batch]
    assert sorted(codes) == [rules.format_number("A", n) for n in range(1, 201)]


def test_concurrent_counters_never_share_a_ticket(pg: Database) -> None:
    for _ in range(60):
        issue(pg)

    def counter(i: int) -> list[int]:
        """Two staff share each desk: one is sometimes told it is busy, and tries again."""
        called = []
        while True:
            try:
                ticket = transactions.call_next(
                    pg,
                    site="thess-east",
                    counter=f"desk-{i % 3 + 1}",
                    user_id=None,
                    now=T0 + timedelta(minutes=1),
                ).ticket
            except Conflict as exc:
                assert exc.code == "counter_busy"
                continue
            if ticket is None:
                return called
            called.append(ticket.id)
            transactions.act(pg, ticket.id, Action.FINISH, user_id=None, outcome="served")

    results = _together(6, counter)
    everything = [tid for calls in results for tid in calls]
    assert len(everything) == len(set(everything)) == 60
    with pg.read() as s:
        per_ticket = s.execute(
            select(Event.ticket_id, func.count())
            .where(Event.type == "called")
            .group_by(Event.ticket_id)
        ).all()
        assert {n for _, n in per_ticket} == {1}
        assert s.scalar(select(func.count()).where(Ticket.status == "done")) == 60


def test_anonymising_passes_the_append_only_log_once_and_keeps_the_reports(pg: Database) -> None:
    """retention.purge on PostgreSQL: its trigger lets the one anonymising rewrite of an
    event through (and nothing else), and the reports count the same visits."""
    from server import retention
    from server.analytics import reports

    old = T0 - timedelta(days=120) + timedelta(minutes=37, seconds=12, microseconds=400_000)
    ticket = issue(pg, now=old)
    transactions.call_next(
        pg, site="thess-east", counter="desk-1", user_id=None, now=old + timedelta(minutes=6)
    )
    transactions.act(
        pg, ticket.id, Action.FINISH, user_id=None, outcome="served",
        now=old + timedelta(minutes=21),
    )  # fmt: skip
    site_id = catalog.current(pg).sites["thess-east"].id
    day = rules.service_day(old, "Europe/Athens")

    def figures() -> list:
        with pg.connect() as conn:
            return [
                reports.compute(conn, kind, [site_id], day, day).tables
                for kind in ("reasons", "languages", "heatmap", "outcomes", "services")
            ]

    before = figures()
    assert [p.tickets for p in retention.purge(pg, now=T0)] == [1]
    assert figures() == before
    with pg.read() as s:
        row = s.get(Ticket, ticket.id)
        assert row.anonymised and row.public_token is None and row.code is None
        assert row.issued_at == datetime(old.year, old.month, old.day, old.hour, tzinfo=UTC)
        assert row.ended_at - row.issued_at == timedelta(minutes=21)  # the visit took as long
        events = s.scalars(select(Event).where(Event.ticket_id == ticket.id)).all()
        assert [e.type for e in events] == ["issued", "called", "finished"]
        assert all(e.anonymised for e in events)
    for statement in (
        "UPDATE events SET at = at - interval '1 hour'",  # anonymised already: once only
        "DELETE FROM events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), pg.engine.begin() as conn:
            conn.execute(text(statement))
