"""Print jobs outlive the server process that took them: the tickets of a process that
dies are printed by another one, or logged as interrupted, and never printed twice.

First the rules on one database, with processes played by names (server/print_jobs.py),
then real `seira serve` processes killed with SIGKILL in the middle of a job: two at once
on PostgreSQL (a city's service), and one restarted on the same SQLite file (a centre's
mini-PC after a crash).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from server import auth, print_jobs
from server.db import Database
from server.errors import Unavailable
from server.models import Device, Event, PendingPrint, utcnow
from server.printing import Printing
from server.queue import transactions
from tests.fake_printer import FakePrinter
from tests.liveserver import LiveServer
from tests.pg_cluster import Cluster

SITE = "thess-east"
PRINTS = ("printed", "print_unconfirmed", "print_failed")


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter()
    yield fake
    fake.close()


def as_process(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(print_jobs, "this_process", lambda: name)


def kiosk(db: Database, printer_url: str, name: str = "kiosk-handover") -> int:
    auth.add_device(db, SITE, "kiosk", name, {"printer": printer_url})
    with db.read() as s:
        return int(s.scalars(select(Device.id).where(Device.name == name)).one())


def ticket(db: Database, device_id: int) -> int:
    issued = transactions.issue_ticket(
        db, site=SITE, service="general", reason="other", lang="ar", device_id=device_id
    )
    return issued.id


def age(db: Database, job_id: int, seconds: float, queued_too: bool = False) -> None:
    """Make a job's row look as if nobody had renewed it for `seconds`."""
    then = utcnow() - timedelta(seconds=seconds)
    values: dict[str, Any] = {"seen_at": then, **({"queued_at": then} if queued_too else {})}
    with db.transaction() as conn:
        conn.execute(update(PendingPrint).where(PendingPrint.id == job_id).values(**values))


def prints(db: Database, ticket_id: int) -> list[tuple[str, str | None]]:
    with db.read() as s:
        rows = s.execute(
            select(Event.type, Event.payload)
            .where(Event.ticket_id == ticket_id, Event.type.in_(PRINTS))
            .order_by(Event.id)
        ).all()
    return [(r.type, (r.payload or {}).get("reason")) for r in rows]


def pending(db: Database) -> list[tuple[int, str, str]]:
    with db.read() as s:
        rows = s.execute(select(PendingPrint.ticket_id, PendingPrint.owner, PendingPrint.state))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def wait_for(what: str, done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"still not {what}"
        time.sleep(0.1)


# --- the rules, with processes played by names ---------------------------------------------


def job_of_a(db: Database, monkeypatch: pytest.MonkeyPatch) -> int:
    """A ticket's job, taken by process "host-a:1", which the test then plays."""
    device = kiosk(db, "tcp://127.0.0.1:9?qr=native")
    as_process(monkeypatch, "host-a:1")
    return print_jobs.add(db, ticket(db, device), device, "http://centre/s/x")


def test_a_job_taken_over_is_never_sent_by_its_first_holder(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = job_of_a(db, monkeypatch)
    as_process(monkeypatch, "host-b:2")
    now = utcnow()
    assert print_jobs.abandoned(db, now) == []  # renewed just now: its holder is alive
    age(db, job_id, print_jobs.STALE_S + 1)
    (found,) = print_jobs.abandoned(db, utcnow())
    assert (found.owner, found.state, found.printable(utcnow())) == ("host-a:1", "queued", True)
    assert print_jobs.take(db, found, utcnow())
    assert not print_jobs.take(db, found, utcnow())  # a second leader finds it taken
    as_process(monkeypatch, "host-a:1")  # the first holder was only slow: it may not send
    assert not print_jobs.claim(db, job_id)
    print_jobs.renew(db, {job_id})  # nor keep it
    assert pending(db) == [(found.ticket_id, "host-b:2", "queued")]
    as_process(monkeypatch, "host-b:2")
    assert print_jobs.claim(db, job_id)
    assert not print_jobs.claim(db, job_id)  # sent once
    assert pending(db) == [(found.ticket_id, "host-b:2", "sending")]


def test_a_holder_that_comes_back_keeps_its_job(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = job_of_a(db, monkeypatch)
    age(db, job_id, print_jobs.STALE_S + 1)
    (found,) = print_jobs.abandoned(db, utcnow())
    assert print_jobs.claim(db, job_id)  # between the leader's look and its take
    as_process(monkeypatch, "host-b:2")
    assert not print_jobs.take(db, found, utcnow())
    with db.transaction() as conn:
        assert not print_jobs.give_up(conn, found, utcnow())
    assert pending(db) == [(found.ticket_id, "host-a:1", "sending")]


def test_the_leader_prints_a_recent_job_and_logs_the_others_as_interrupted(
    db: Database, printer: FakePrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three jobs of a process that died: one not yet sent (printed now), one sent halfway
    (maybe on paper: "sent, not confirmed"), one too old to print (the visitor was told to
    photograph the screen long ago: "not printed")."""
    device = kiosk(db, printer.url + "&qr=native")
    tickets = [ticket(db, device) for _ in range(3)]
    as_process(monkeypatch, "host-a:1")
    jobs = [print_jobs.add(db, t, device, f"http://centre/s/token{t}") for t in tickets]
    assert print_jobs.claim(db, jobs[1])
    age(db, jobs[0], print_jobs.STALE_S + 1)
    age(db, jobs[1], print_jobs.STALE_S + 1)
    age(db, jobs[2], print_jobs.PRINT_WITHIN_S + 1, queued_too=True)
    as_process(monkeypatch, "host-b:2")
    printing = Printing(db)
    try:
        assert printing.take_over() == 3
        assert printing.take_over() == 0  # each once
        wait_for("printed", lambda: prints(db, tickets[0]) == [("printed", None)])
    finally:
        printing.close()
    assert prints(db, tickets[1]) == [("print_unconfirmed", "interrupted")]
    assert prints(db, tickets[2]) == [("print_failed", "interrupted")]
    assert pending(db) == []
    assert printer.printed.count(f"token{tickets[0]}".encode()) == 1
    assert f"token{tickets[1]}".encode() not in printer.printed
    assert f"token{tickets[2]}".encode() not in printer.printed


def test_a_process_renews_what_it_holds_and_forgets_it_once_logged(
    db: Database, printer: FakePrinter
) -> None:
    device = kiosk(db, printer.url + "&qr=native")
    held = FakePrinter(held=True)
    other = kiosk(db, held.url, "kiosk-held")
    printing = Printing(db)
    try:
        stuck = ticket(db, other)
        assert printing.print_ticket(stuck, "http://centre/s/stuck", other) == "pending"
        wait_for("stuck mid-job", lambda: held.answered >= 2)
        age(db, _job_of(db, stuck), print_jobs.STALE_S + 1)
        printing.renew()
        assert print_jobs.abandoned(db, utcnow()) == []  # renewed: alive, not taken
        done = ticket(db, device)
        printing.print_ticket(done, "http://centre/s/done", device)
        wait_for("printed", lambda: prints(db, done) == [("printed", None)])
        assert [row[0] for row in pending(db)] == [stuck]  # the printed one is gone
        held.go_on()
        wait_for("logged", lambda: bool(prints(db, stuck)))
        assert pending(db) == []
    finally:
        printing.close()
        held.close()


def test_a_job_the_database_cannot_keep_is_printed_all_the_same(
    app: Flask, db: Database, printer: FakePrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket is issued already: a failure to keep its job must not fail the kiosk's
    request (it would take a second ticket) nor keep the paper from coming out."""
    token = auth.add_device(db, SITE, "kiosk", "kiosk-1", {"printer": printer.url})

    def away(*args: object) -> int:
        raise Unavailable("the database is busy")

    monkeypatch.setattr(print_jobs, "add", away)
    client = app.test_client()
    answer = client.post(
        f"/api/v1/sites/{SITE}/tickets",
        json={"service": "general", "reason": "other", "lang": "ar"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    issued = answer.get_json()
    wait_for("printed", lambda: prints(db, issued["id"]) == [("printed", None)])


def _job_of(db: Database, ticket_id: int) -> int:
    with db.read() as s:
        return int(
            s.scalars(select(PendingPrint.id).where(PendingPrint.ticket_id == ticket_id)).one()
        )


# --- real processes, killed mid-job ----------------------------------------------------------


@pytest.fixture(scope="module")
def postgresql() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


def issue(server: LiveServer, token: str) -> dict[str, Any]:
    answer = requests.post(
        f"{server.url}/api/v1/sites/{SITE}/tickets",
        json={"service": "general", "reason": "other", "lang": "ar"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_a_killed_process_hands_its_print_jobs_over(
    engine: str, request: pytest.FixtureRequest
) -> None:
    """Process A is killed while its printer holds ticket 1 halfway and ticket 2 waits
    behind it. Process B (already running on PostgreSQL; started after the crash on
    SQLite, as systemd restarts a centre's server) prints ticket 2 once, and logs ticket
    1 as "sent, not confirmed" without sending it again."""
    printer = FakePrinter(held=True)
    url = None
    if engine == "postgresql":
        url = request.getfixturevalue("postgresql").new_database("handover")
    a = LiveServer(database_url=url).start()
    # B: another process on PostgreSQL; on SQLite, A itself started again after the crash
    b = LiveServer(database_url=url).start() if engine == "postgresql" else a
    try:
        kiosk_url = printer.url + "&qr=native"
        token = auth.add_device(a.db, SITE, "kiosk", "kiosk-1", {"printer": kiosk_url})
        first, second = issue(a, token), issue(a, token)
        wait_for("ticket 1 halfway", lambda: printer.answered >= 2)
        time.sleep(0.3)  # its bytes sent, into the printer's buffers; ticket 2 waits behind
        assert sorted(r[2] for r in pending(a.db)) == ["queued", "sending"]
        a.kill()
        printer.go_on()
        if b is a:
            a.start()
        wait_for(
            "both logged",
            lambda: bool(prints(b.db, first["id"])) and bool(prints(b.db, second["id"])),
        )
        assert prints(b.db, first["id"]) == [("print_unconfirmed", "interrupted")]
        assert prints(b.db, second["id"]) == [("printed", None)]
        assert pending(b.db) == []
        token_of = {t["id"]: t["status_url"].rsplit("/", 1)[1].encode() for t in (first, second)}
        assert printer.printed.count(token_of[first["id"]]) == 1  # once, by A
        assert printer.printed.count(token_of[second["id"]]) == 1  # once, by B
        status = requests.get(
            f"{b.url}/api/v1/tickets/{second['id']}/print",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert status.json()["status"] == "printed"  # what the kiosk is told
    finally:
        a.close()
        b.close()  # A again on SQLite: closing twice is harmless
        printer.close()
