"""Another program holds the database's lock while the server runs: requests that only
read stay fast, writes wait a bounded time without holding the others up, a write that
cannot have the lock in time is answered 503 `database_busy`, nothing acknowledged is
lost, and the server carries on by itself once the lock is let go."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from server.db import Database
from server.errors import Unavailable
from tests.liveserver import LiveServer

DATA = Path(__file__).with_name("data")
FAST_S = 0.2  # the median a read may take while the lock is held elsewhere

# a separate process holds SQLite's write lock (BEGIN IMMEDIATE, as any program writing to
# the file would), or the flock beside the file that Seira's own processes queue on
HOLD_SQLITE = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""
HOLD_FLOCK = """
import fcntl, sys, time
lock = open(sys.argv[1] + ".lock", "a")
fcntl.flock(lock, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held(script: str, path: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    try:
        yield process
    finally:
        process.wait(seconds + 10)


class Issuer(threading.Thread):
    """One kiosk's issue request, timed, in a thread of its own."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__()
        self.url, self.token = url, token
        self.status = 0
        self.body: dict[str, Any] = {}
        self.took = 0.0
        self.start()

    def run(self) -> None:
        start = time.monotonic()
        response = requests.post(
            f"{self.url}/api/v1/sites/test-centre/tickets",
            json={"service": "general", "reason": "other", "lang": "fa"},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        self.took = time.monotonic() - start
        self.status, self.body = response.status_code, response.json()


def reads_while(
    live: LiveServer, going_on: Callable[[], bool], kiosk: str, staff: str
) -> list[float]:
    """Time the requests that need no write (health, the kiosk page, services, the queue)
    one after another while `going_on()`: those answered meanwhile."""
    session = requests.Session()
    gets = [
        ("/api/v1/health", None),
        ("/kiosk/test-centre", None),
        ("/api/v1/sites/test-centre/services?lang=fa", kiosk),
        ("/api/v1/sites/test-centre/queue", staff),
    ]
    took = []
    while True:
        for path, token in gets:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            start = time.monotonic()
            response = session.get(live.url + path, headers=headers, timeout=30)
            if not going_on():
                return took
            took.append(time.monotonic() - start)
            assert response.status_code in (200, 503), (path, response.status_code)


def assert_fast(took: list[float], hold_s: float) -> None:
    assert len(took) > hold_s * 10, f"only {len(took)} reads answered while the lock was held"
    assert statistics.median(took) < FAST_S, took


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with LiveServer(DATA / "eight_counters.toml") as server:
        yield server


def test_reads_stay_fast_and_writes_wait_for_a_lock_let_go_in_time(live: LiveServer) -> None:
    kiosk = live.add_device("test-centre", "kiosk", "patient")
    staff = live.add_staff("reader", "test-centre")
    path = live.dir / "seira.db"
    for script in (HOLD_FLOCK, HOLD_SQLITE):
        with held(script, path, 2.0) as holder:
            waiting = [Issuer(live.url, kiosk) for _ in range(3)]
            time.sleep(0.2)  # they are waiting for the lock now
            assert_fast(reads_while(live, lambda: holder.poll() is None, kiosk, staff), 1.8)
        for issuer in waiting:
            issuer.join()
            assert issuer.status == 201, issuer.body  # waited, then served
            assert issuer.took < 4.0


def test_a_write_that_cannot_have_the_lock_in_time_is_refused_503(live: LiveServer) -> None:
    kiosk = live.add_device("test-centre", "kiosk", "refused")
    staff = live.add_staff("watcher", "test-centre")
    before = Issuer(live.url, kiosk)
    before.join()
    assert before.status == 201
    path = live.dir / "seira.db"
    with held(HOLD_SQLITE, path, 6.5) as holder:
        issuer = Issuer(live.url, kiosk)
        time.sleep(0.2)
        assert_fast(reads_while(live, issuer.is_alive, kiosk, staff), 4.5)
        assert holder.poll() is None  # still held
        assert issuer.status == 503
        assert issuer.body["error"]["code"] == "database_busy"
        assert 4.5 < issuer.took < 6.4  # bounded: the server's write wait, 5 s
        health = requests.get(live.url + "/api/v1/health", timeout=10)
        assert health.status_code == 503
        assert health.json()["database"] == "not_writable"
        assert health.json()["fault"] == "database_busy"
    # let go: the server takes writes again by itself, and kept what it had acknowledged
    after = Issuer(live.url, kiosk)
    after.join()
    assert after.status == 201, after.body
    assert int(after.body["number"][1:]) == int(before.body["number"][1:]) + 1
    deadline = time.monotonic() + 5  # the health check's next real write clears the fault
    while requests.get(live.url + "/api/v1/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "health still reports the fault"
        time.sleep(0.2)


def test_in_process_writers_give_up_at_their_deadline(tmp_path: Path) -> None:
    """The same bounded waits without the server: for threads (the CLI, the tests)."""
    path = tmp_path / "seira.db"
    db = Database(f"sqlite:///{path}", write_wait_s=0.5)
    with db.transaction() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    for script in (HOLD_FLOCK, HOLD_SQLITE):
        with held(script, path, 1.5):
            start = time.monotonic()
            with pytest.raises(Unavailable) as refused, db.transaction() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            assert refused.value.code == "database_busy" and refused.value.status == 503
            assert 0.4 < time.monotonic() - start < 1.2
        with db.transaction() as conn:  # the lock is free again: so is the writer
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").scalars().all() == [2, 2]
    db.dispose()
