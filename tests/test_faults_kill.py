"""The server killed with SIGKILL in the middle of issuing and calling, then restarted on
the same SQLite file: what it acknowledged is there, numbered as it was, and nothing else
is out of place."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import requests

from tests.liveserver import LiveServer

DATA = Path(__file__).with_name("data")
LOAD_S = 1.5  # issuing and calling before the kill
KIOSKS = 4  # threads issuing, each through tokens of its own...
TOKENS = 20  # ...taking the next when one has issued its limit for the minute
STATUS_AFTER = {"issued": "waiting", "called": "called", "finished": "done"}


class Load:
    """Kiosks issuing and counters calling and finishing, flat out, until told to stop;
    only what the server answered is kept."""

    def __init__(self, live: LiveServer, kiosks: list[list[str]], staff: str) -> None:
        self.live = live
        self.kiosks = kiosks
        self.staff = staff
        self.stop = threading.Event()
        self.issued: list[dict[str, Any]] = []  # answered 201
        self.called: list[int] = []  # answered 200
        self.finished: list[int] = []
        self.unexpected: list[str] = []
        self.threads = [threading.Thread(target=self._kiosk, args=(token,)) for token in kiosks] + [
            threading.Thread(target=self._counter, args=(f"desk-{i}",)) for i in (1, 2, 3)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _post(
        self, session: requests.Session, path: str, **kwargs: Any
    ) -> requests.Response | None:
        try:
            return session.post(self.live.url + path, timeout=10, **kwargs)
        except requests.RequestException:  # the server is gone: nothing was acknowledged
            return None

    def _kiosk(self, tokens: list[str]) -> None:
        session = requests.Session()
        body = {"service": "general", "reason": "other", "lang": "ar"}
        while not self.stop.is_set() and tokens:
            session.headers["Authorization"] = f"Bearer {tokens[0]}"
            response = self._post(session, "/api/v1/sites/test-centre/tickets", json=body)
            if response is None:
                time.sleep(0.02)
            elif response.status_code == 201:
                self.issued.append(response.json())
            elif response.status_code == 429:  # this kiosk's tickets for the minute
                tokens.pop(0)
            else:
                self.unexpected.append(f"issue {response.status_code} {response.text}")

    def _counter(self, desk: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.staff}"
        while not self.stop.is_set():
            response = self._post(session, f"/api/v1/sites/test-centre/counters/{desk}/call-next")
            if response is None or response.status_code == 204:
                time.sleep(0.02)
                continue
            if response.status_code == 409:  # killed after a call, before its finish
                continue
            if response.status_code != 200:
                self.unexpected.append(f"call {response.status_code} {response.text}")
                continue
            ticket = response.json()["id"]
            self.called.append(ticket)
            done = self._post(
                session, f"/api/v1/tickets/{ticket}/finish", json={"outcome": "served"}
            )
            if done is not None and done.status_code == 200:
                self.finished.append(ticket)


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


def test_a_killed_server_keeps_every_acknowledged_ticket_and_numbers_on() -> None:
    with LiveServer(DATA / "eight_counters.toml") as live:
        kiosks = [
            [live.add_device("test-centre", "kiosk", f"kiosk-{i}-{j}") for j in range(TOKENS)]
            for i in range(KIOSKS)
        ]
        staff = live.add_staff("survivor", "test-centre")
        with Load(live, kiosks, staff) as load:
            time.sleep(LOAD_S)
            live.kill()  # SIGKILL to the server and its worker, mid-load
        assert load.issued and load.called, "the load did not get going"
        assert not load.unexpected, load.unexpected[:3]

        live.start()
        path = live.dir / "seira.db"
        assert rows(path, "PRAGMA integrity_check") == [("ok",)]
        tickets = {
            tid: (code, number, status, day)
            for tid, code, number, status, day in rows(
                path, "SELECT id, code, number, status, service_day FROM tickets"
            )
        }
        for answer in load.issued:  # every 201, with the number the visitor was given
            assert tickets[answer["id"]][0] == answer["number"]
        numbers = defaultdict(list)
        for code, number, _status, day in tickets.values():
            numbers[(code[0], day)].append(number)
        for key, taken in numbers.items():  # none twice, none skipped
            assert sorted(taken) == list(range(1, len(taken) + 1)), key
        last = dict(rows(path, "SELECT day, last_number FROM ticket_numbers"))
        assert {day: len(n) for (_, day), n in numbers.items()} == last

        events: dict[int, list[str]] = defaultdict(list)
        for ticket_id, kind in rows(path, "SELECT ticket_id, type FROM events ORDER BY id"):
            events[ticket_id].append(kind)
        assert set(events) == set(tickets)
        for tid, kinds in events.items():  # the log tells each ticket's story, and only once
            assert Counter(kinds)["issued"] == 1 and kinds[0] == "issued", kinds
            assert tickets[tid][2] == STATUS_AFTER[kinds[-1]], (tid, kinds)
        for tid in load.called:
            assert "called" in events[tid]
        for tid in load.finished:
            assert tickets[tid][2] == "done"

        # the restarted server numbers on from where the killed one stopped
        response = requests.post(
            f"{live.url}/api/v1/sites/test-centre/tickets",
            json={"service": "general", "reason": "other", "lang": "el"},
            headers={"Authorization": f"Bearer {live.add_device('test-centre', 'kiosk')}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json()["number"] == f"A{len(tickets) + 1:03d}"
