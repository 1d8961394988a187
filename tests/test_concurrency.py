"""Many desks and counters at once, against a real `seira serve` process over HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from server.models import Event
from tests.liveserver import LiveServer
from tests.pg_cluster import Cluster

DATA = Path(__file__).with_name("data")


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Start n threads at the same instant; return their results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # report it in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="module")
def postgresql() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["one-worker", "two-workers", "postgresql"])
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A real server: with two worker processes the SQLite write lock works across them;
    on PostgreSQL, row locks do the same, and the driver waits without holding up the
    worker's other requests."""
    yield from _serve(request)


@pytest.fixture(params=["one-worker", "two-workers"])
def sqlite_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    yield from _serve(request)


def _serve(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    url = None
    if request.param == "postgresql":
        cluster: Cluster = request.getfixturevalue("postgresql")
        url = cluster.new_database("race")
    workers = 2 if request.param == "two-workers" else 1
    with LiveServer(DATA / "eight_counters.toml", workers=workers, database_url=url) as live:
        yield live


def issue_many(url: str, token: str, count: int) -> list[dict]:
    """Issue `count` tickets as fast as one client can. With a staff token (a reception
    desk): a kiosk's token stops at frontdesk.KIOSK_TICKETS a minute."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    out = []
    for _ in range(count):
        response = session.post(
            f"{url}/api/v1/sites/test-centre/tickets",
            json={"service": "general", "reason": "other", "lang": "el"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        out.append(response.json())
    return out


def test_eight_desks_get_distinct_gap_free_numbers(server: LiveServer) -> None:
    desks = [server.add_staff(f"reception-{i}", "test-centre") for i in range(8)]
    batches = run_together(8, lambda i: issue_many(server.url, desks[i], 200))
    numbers = [int(t["number"][1:]) for batch in batches for t in batch]
    assert sorted(numbers) == list(range(1, 1601))
    for batch in batches:  # each desk saw its own numbers rise
        mine = [int(t["number"][1:]) for t in batch]
        assert mine == sorted(mine)


def test_eight_counters_never_call_the_same_ticket(server: LiveServer) -> None:
    staff = server.add_staff("racer", "test-centre")
    waiting_before = requests.get(
        f"{server.url}/api/v1/sites/test-centre/queue",
        headers={"Authorization": f"Bearer {staff}"},
        timeout=10,
    ).json()["services"][0]["waiting"]
    issued = {t["id"] for t in issue_many(server.url, staff, 200)}

    def counter(i: int) -> list[int]:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {staff}"
        called = []
        while True:
            response = session.post(
                f"{server.url}/api/v1/sites/test-centre/counters/desk-{i + 1}/call-next",
                timeout=30,
            )
            if response.status_code == 204:
                return called
            assert response.status_code == 200, response.text
            ticket = response.json()
            called.append(ticket["id"])
            done = session.post(
                f"{server.url}/api/v1/tickets/{ticket['id']}/finish",
                json={"outcome": "served"},
                timeout=30,
            )
            assert done.status_code == 200, done.text

    per_counter = run_together(8, counter)
    everything = [tid for calls in per_counter for tid in calls]
    assert len(everything) == len(set(everything)), "a ticket was called twice"
    assert issued <= set(everything)
    assert len(everything) == waiting_before + len(issued)
    assert sum(1 for calls in per_counter if calls) > 1  # the counters really raced
    with server.db.read() as s:
        called_events = Counter(
            s.execute(select(Event.ticket_id).where(Event.type == "called")).scalars()
        )
        assert set(called_events.values()) == {1}
        assert s.scalar(
            select(func.count()).select_from(Event).where(Event.type == "finished")
        ) == len(everything)


def test_the_server_checkpoints_the_log_as_it_serves(sqlite_server: LiveServer) -> None:
    """New tickets reach the database file itself, not only its write-ahead log: the
    server's checkpoints run (off the event loop, in a thread of their own)."""
    server = sqlite_server
    database_file = server.dir / "seira.db"
    before = database_file.stat().st_size
    issue_many(server.url, server.add_staff("reception", "test-centre"), 200)
    deadline = time.monotonic() + 10
    while database_file.stat().st_size <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert database_file.stat().st_size > before
    assert "housekeeping pass failed" not in (server.dir / "server.log").read_text()
