"""Background jobs run once across every process and host (server/leader.py): with
`seira serve --workers 2` on SQLite and on PostgreSQL, the day-end and retention sweeps
close and anonymise each ticket once, with one set of audit entries; a leader killed with
SIGKILL hands its jobs over; and the jobs themselves stay correct when two run at once
anyway (the lock is the guarantee, not the only defence).

Real servers, real processes and a real PostgreSQL; nothing is mocked.
"""

from __future__ import annotations

import math
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from server import catalog, retention
from server.db import Database
from server.leader import LOCK_KEY, Leadership
from server.models import AuditEntry, Event, Ticket, utcnow
from server.queue import rules, transactions
from server.queue.rules import EventType, Priority
from server.queue.writer import NewTicket, write_ticket
from tests.liveserver import LiveServer
from tests.pg_cluster import Cluster

LEADS = re.compile(r"background jobs: this process leads \(pid (\d+)\)")
SWEEP_EVERY_S = "0.5"  # SEIRA_SWEEP_EVERY_S for the servers here: sweeps twice a second
OLD = 1500  # tickets left open 100 days ago: closed, then anonymised (6 batches of 250)
YESTERDAY = 5  # tickets left open yesterday: closed, kept whole


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pg = Cluster()
    yield pg
    pg.stop()


def new_database(cluster: Cluster) -> str:
    return cluster.new_database("leader")


def leave_open(db: Database, count: int, days_ago: int, site: str = "thess-east") -> list[int]:
    """`count` tickets issued `days_ago` days ago and never called, in one transaction."""
    cat = catalog.current(db)
    site_row = cat.require_site(site)
    now = utcnow() - timedelta(days=days_ago)
    new = NewTicket(
        site_id=site_row.id,
        service=cat.require_service(site_row, "general"),
        day=rules.service_day(now, site_row.timezone),
        reason="other",
        lang="el",
        priority=Priority.NONE,
        device_id=None,
        user_id=None,
        now=now,
    )
    with db.connect() as conn, db.writing(conn, wait_s=30):
        return [int(write_ticket(conn, new)["id"]) for _ in range(count)]


def closed_events(db: Database) -> Counter[int]:
    with db.read() as s:
        return Counter(
            s.scalars(
                select(Event.ticket_id).where(Event.type == EventType.CLOSED_AT_DAY_END.value)
            )
        )


def anonymised(db: Database, ids: list[int]) -> int:
    with db.read() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.id.in_(ids), Ticket.anonymised.is_(True))
            )
            or 0
        )


def retention_entries(db: Database) -> list[int]:
    """The `tickets` count of each audit entry of the retention sweep, oldest first."""
    with db.read() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "tickets.anonymised", AuditEntry.actor == "retention")
            .order_by(AuditEntry.id)
        ).all()
    return [int(e.after["tickets"]) for e in entries]


def leaders(live: LiveServer) -> list[int]:
    """The pids that said they took the lead, in the order they did."""
    return [int(pid) for pid in LEADS.findall((live.dir / "server.log").read_text())]


def workers(live: LiveServer) -> list[int]:
    """gunicorn's workers: the children of the arbiter (as in test_faults_disk)."""
    assert live.process is not None
    arbiter = live.process.pid
    return [int(p) for p in Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()]


def wait_for(what: str, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


# --- two workers, one sweep ------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_close_and_anonymise_each_ticket_once(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database(request.getfixturevalue("cluster")) if backend == "postgresql" else None
    monkeypatch.setenv("SEIRA_SWEEP_EVERY_S", SWEEP_EVERY_S)
    live = LiveServer(workers=2, database_url=url)
    try:
        old = leave_open(live.db, OLD, days_ago=100)
        yesterday = leave_open(live.db, YESTERDAY, days_ago=1, site="thess-west")
        live.start()
        wait_for("the sweeps", lambda: anonymised(live.db, old) == OLD)
        wait_for("both workers", lambda: len(workers(live)) == 2)
        time.sleep(4 * float(SWEEP_EVERY_S))  # several more passes of every process
        log = (live.dir / "server.log").read_text()

        closed = closed_events(live.db)
        assert {closed[t] for t in old + yesterday} == {1}, "a ticket was closed twice"
        assert anonymised(live.db, yesterday) == 0  # kept 90 days
        # one entry per batch of 250, as one sweep writes them: a second sweep at the same
        # time would add entries (of 0 tickets, or split batches)
        assert retention_entries(live.db) == [retention.BATCH] * math.ceil(OLD / retention.BATCH)
        assert len(leaders(live)) == 1 and leaders(live)[0] in workers(live)
        assert "housekeeping pass failed" not in log
    finally:
        live.close()


# --- hand-over -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_leader_hands_its_jobs_over(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database(request.getfixturevalue("cluster")) if backend == "postgresql" else None
    monkeypatch.setenv("SEIRA_SWEEP_EVERY_S", SWEEP_EVERY_S)
    with LiveServer(workers=2, database_url=url) as live:
        wait_for("a leader", lambda: len(leaders(live)) == 1)
        wait_for("both workers", lambda: len(workers(live)) == 2)
        first = leaders(live)[0]
        assert first in workers(live)

        os.kill(first, signal.SIGKILL)
        wait_for("another leader", lambda: len(leaders(live)) == 2)
        second = leaders(live)[1]
        assert second != first and second in workers(live)

        # the jobs run again, in the new leader: tickets left open after the kill are closed
        stale = leave_open(live.db, 3, days_ago=1)
        wait_for("the day-end sweep", lambda: set(closed_events(live.db)) >= set(stale))
        time.sleep(4 * float(SWEEP_EVERY_S))
        closed = closed_events(live.db)
        assert [closed[t] for t in stale] == [1, 1, 1]
        assert leaders(live) == [first, second]  # no one else took it meanwhile
        assert "housekeeping pass failed" not in (live.dir / "server.log").read_text()


# --- the lock itself ------------------------------------------------------------------------

HOLD = """
import sys, time
from server.db import Database
from server.leader import Leadership
leader = Leadership(Database(sys.argv[1]))  # kept: its lock lives as long as it
print(leader.try_lead(), flush=True)
time.sleep(60)
"""


def test_sqlite_one_process_leads_and_its_lock_dies_with_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'seira.db'}")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, db.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        ours, other = Leadership(db), Leadership(db)
        assert [ours.try_lead() for _ in range(3)] == [False] * 3
        lock = tmp_path / "seira.db.leader"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600  # beside the database, like it

        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert ours.try_lead() and ours.try_lead()  # the kernel let it go: taken at once
        assert not other.try_lead()  # one open file, one lock: even in one process

        # a lock file removed or replaced (a clean-up, a restore) guards nothing: the
        # leader notices at its next try, and still only one leads
        lock.unlink()
        lock.touch(mode=0o600)
        assert other.try_lead()
        assert not ours.try_lead()
        other.release()
        assert ours.try_lead()
        ours.release()
    finally:
        holder.kill()
        holder.wait()
        db.dispose()


def test_one_process_checkpoints_and_another_takes_over_when_it_stops(tmp_path: Path) -> None:
    """Two processes' housekeeping on one SQLite file (two Database objects: two lock
    files opened, which contend like two processes): only the leader checkpoints."""
    from server.housekeeping import start_housekeeping

    url = f"sqlite:///{tmp_path / 'seira.db'}"
    a, b = Database(url), Database(url)
    counts = {"a": 0, "b": 0}

    def counting(name: str, db: Database) -> Callable[[], None]:
        real = db.checkpoint

        def checkpoint() -> None:
            counts[name] += 1
            real()

        return checkpoint

    a.checkpoint, b.checkpoint = counting("a", a), counting("b", b)  # type: ignore[method-assign]
    stop_a = start_housekeeping(a, checkpoint_every_s=0.05)
    wait_for("a leading", lambda: counts["a"] > 0)
    stop_b = start_housekeeping(b, checkpoint_every_s=0.05)
    try:
        time.sleep(0.5)
        assert counts["b"] == 0 and counts["a"] > 5
        stop_a.set()
        wait_for("b taking over", lambda: counts["b"] > 0)
    finally:
        stop_a.set()
        stop_b.set()
        time.sleep(0.2)
        a.dispose()
        b.dispose()


def test_postgresql_one_session_leads_and_a_broken_one_hands_over(cluster: Cluster) -> None:
    url = new_database(cluster)
    a, b = Database(url), Database(url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    holders = text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = :hi AND objid = :lo AND objsubid = 1"
    )
    key = {"hi": LOCK_KEY >> 32, "lo": LOCK_KEY & 0xFFFFFFFF}
    try:
        first, second = Leadership(a), Leadership(b)
        assert first.try_lead() and not second.try_lead()
        assert first.try_lead() and not second.try_lead()  # kept, on one session
        with admin.connect() as conn:
            [pid] = conn.execute(holders, key).scalars().all()
            # no transaction left open on it (which would hold up VACUUM): idle
            state = text("SELECT state FROM pg_stat_activity WHERE pid = :pid")
            assert conn.execute(state, {"pid": pid}).scalar() == "idle"
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        deadline = time.monotonic() + 2  # the backend ends a moment after it is told
        while not second.try_lead():
            assert time.monotonic() < deadline, "the lock outlived its session"
            time.sleep(0.05)
        assert not first.try_lead()  # its connection broke: it no longer leads, and knows
        assert not first.leading
        with admin.connect() as conn:
            assert conn.execute(holders, key).scalars().all() != [pid]

        second.release()  # its connection closed: the lock is free at once
        assert first.try_lead() and not second.try_lead()
        first.release()
        with admin.connect() as conn:
            assert conn.execute(holders, key).scalars().all() == []
    finally:
        admin.dispose()
        a.dispose()
        b.dispose()


# --- the jobs are safe without the lock, too -------------------------------------------------


def run_together(work: list[Callable[[], Any]]) -> list[Any]:
    """Run each at the same instant in a thread of its own; their results, in order."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work[i]()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_close_day_and_purge_overlapping_still_do_each_ticket_once(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Two processes' worth of sweeps at once, each with its own Database (its own
    connections, as two workers or two hosts have), and no leader lock."""
    url = new_database(request.getfixturevalue("cluster")) if backend == "postgresql" else None
    live = LiveServer(database_url=url)  # prepared, never started
    dbs = [Database(live.database_url) for _ in range(2)]
    try:
        old = leave_open(live.db, OLD, days_ago=100)
        yesterday = leave_open(live.db, YESTERDAY, days_ago=1, site="thess-west")

        closes = run_together([lambda db=db: transactions.close_day(db) for db in dbs])
        assert sum(closes) == OLD + YESTERDAY
        closed = closed_events(live.db)
        assert {closed[t] for t in old + yesterday} == {1}

        west = leave_open(live.db, OLD, days_ago=100, site="thess-west")  # closed by purge
        purged = run_together([lambda db=db: retention.purge(db) for db in dbs])
        done = sum(p.tickets for sweep in purged for p in sweep)
        assert done == 2 * OLD
        assert sum(retention_entries(live.db)) == 2 * OLD
        assert 0 not in retention_entries(live.db), "an audit entry of nothing anonymised"
        closed = closed_events(live.db)
        assert {closed[t] for t in old + yesterday + west} == {1}
    finally:
        for db in dbs:
            db.dispose()
        live.close()
