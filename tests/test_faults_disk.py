"""A disk that stops taking writes and a database that turns read-only, under a running
server: `/api/v1/health` says the database is not writable, writes answer 503 with a
code (never 500) and change nothing, reads go on, and service resumes by itself once the
fault clears.

Both faults are made real without root and without mounting anything, so that they also
bite a process running as root (which file permissions do not stop):
- a full disk: the server's worker gets a file size limit (RLIMIT_FSIZE, set from outside
  with prlimit(2)) below what its next write needs; the kernel refuses the write as a
  full disk would (EFBIG, or a short write that SQLite reports as SQLITE_FULL);
- a read-only database: the file is made immutable (`chattr +i`, which stops root too)
  when the tests run as root, or read-only by its mode otherwise, and the server started
  on it; SQLite then opens it read-only, as it does on a read-only mount.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from server import auth
from tests.liveserver import PASSWORD, LiveServer

DATA = Path(__file__).with_name("data")
NOT_WRITABLE = {"database_full", "database_io_error", "database_read_only"}


def worker_pids(live: LiveServer) -> list[int]:
    """The server's processes: gunicorn's arbiter and its worker."""
    assert live.process is not None
    arbiter = live.process.pid
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    return [arbiter, *map(int, children)]


@contextmanager
def disk_full(live: LiveServer) -> Iterator[None]:
    """No file of the server's may grow, or be written past its first byte, until the
    block ends."""
    pids = worker_pids(live)
    for pid in pids:
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        for pid in pids:
            _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))


def issue(live: LiveServer, token: str) -> requests.Response:
    return requests.post(
        f"{live.url}/api/v1/sites/test-centre/tickets",
        json={"service": "general", "reason": "other", "lang": "so"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def health(live: LiveServer) -> requests.Response:
    return requests.get(f"{live.url}/api/v1/health", timeout=10)


def supervisor(live: LiveServer) -> requests.Session:
    """A supervisor signed in to the staff pages (before any fault: signing in writes)."""
    auth.add_user(live.db, "watch", PASSWORD, "supervisor", "test-centre")
    session = requests.Session()
    page = session.get(f"{live.url}/signin", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, page[:300]
    form = {"csrf_token": csrf[1], "username": "watch", "password": PASSWORD}
    assert session.post(f"{live.url}/signin", data=form, timeout=10).ok
    return session


def fault_seen(session: requests.Session, live: LiveServer) -> str | None:
    """What the supervisor's live view says of the database: a fault code, or None."""
    state = session.get(f"{live.url}/supervisor/test-centre/state", timeout=10)
    assert state.status_code == 200, state.text
    return state.json()["database_fault"]


def until(check: callable, within: float = 5.0) -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the server did not recover in time"
        time.sleep(0.2)


def assert_refused(response: requests.Response) -> str:
    assert response.status_code == 503, response.text
    code = response.json()["error"]["code"]
    assert code in NOT_WRITABLE, code
    return code


def assert_reads_work(live: LiveServer, token: str) -> None:
    services = requests.get(
        f"{live.url}/api/v1/sites/test-centre/services?lang=so",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert services.status_code == 200
    assert requests.get(f"{live.url}/kiosk/test-centre", timeout=10).status_code == 200


def test_a_full_disk_is_reported_refused_with_503_and_survived() -> None:
    with LiveServer(DATA / "eight_counters.toml") as live:
        kiosk = live.add_device("test-centre", "kiosk", "full")
        watching = supervisor(live)
        first = issue(live, kiosk)
        assert first.status_code == 201
        assert fault_seen(watching, live) is None
        with disk_full(live):
            assert_refused(issue(live, kiosk))
            assert_refused(issue(live, kiosk))  # the same again, not a 500 the second time
            time.sleep(2.1)  # the health check's next real write is due
            answer = health(live)
            assert answer.status_code == 503
            assert answer.json()["database"] == "not_writable"
            assert answer.json()["fault"] in NOT_WRITABLE
            assert fault_seen(watching, live) == answer.json()["fault"]  # staff see it too
            assert_reads_work(live, kiosk)
        until(lambda: health(live).status_code == 200)
        until(lambda: fault_seen(watching, live) is None)
        after = issue(live, kiosk)
        assert after.status_code == 201, after.text
        assert after.json()["number"] == "A002"  # the refused writes took no number
        assert "Traceback" not in (live.dir / "server.log").read_text()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The database file cannot be opened for writing, by root either."""
    if os.geteuid() == 0:
        if not shutil.which("chattr"):
            pytest.skip("running as root without chattr: nothing stops root writing a file")
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"this filesystem has no immutable files: {made.stderr!r}")
        undo = ["chattr", "-i", str(path)]
    else:
        path.chmod(0o400)
        undo = ["chmod", "600", str(path)]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


def test_a_read_only_database_is_reported_and_written_again_once_writable() -> None:
    with LiveServer(DATA / "eight_counters.toml") as live:
        kiosk = live.add_device("test-centre", "kiosk", "read-only")
        assert issue(live, kiosk).status_code == 201
        live.stop()
        path = live.dir / "seira.db"
        with read_only(path):
            live.start()
            answer = health(live)
            assert answer.status_code == 503
            assert answer.json() | {"schema": ""} == {
                "status": "degraded",
                "database": "not_writable",
                "fault": "database_read_only",
                "schema": "",
            }
            assert assert_refused(issue(live, kiosk)) == "database_read_only"
            assert_reads_work(live, kiosk)
        until(lambda: issue(live, kiosk).status_code == 201)  # no restart needed
        until(lambda: health(live).status_code == 200)
        with live.db.connect() as conn:
            codes = conn.exec_driver_sql("SELECT code FROM tickets ORDER BY number").scalars()
            assert list(codes) == ["A001", "A002"]
