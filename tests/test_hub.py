"""The hub's own ordering, with a fake Socket.IO object: no news is lost between flushes,
and a site whose publishing is slow holds up no other site.

The real-client tests (test_realtime.py) cannot make the hub's thread stop at a chosen
instant; a fake `emit` that blocks can, which is how a change queued just before a queue
summary is sent, and run just after, is made to happen every time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from server import catalog, realtime
from server.db import Database
from server.queue import transactions
from server.queue.news import Called, QueueChanged, TicketChanged
from server.queue.rules import Action
from server.realtime import Hub, site_room
from server.sequence import LocalSequence
from server.speech import Speech


class BlockingSocketIO:
    """Records every emit; the first emit of `block_on` waits until `release` is set."""

    def __init__(self, block_on: str) -> None:
        self.block_on = block_on
        self.blocked = threading.Event()
        self.release = threading.Event()
        self.emitted: list[tuple[str, str, str]] = []  # (event, namespace, room)
        self.payloads: list[tuple[str, str, Any]] = []  # (event, namespace, data)
        self._lock = threading.Lock()

    def emit(self, event: str, data: Any, namespace: str, to: str) -> None:
        if event == self.block_on and not self.blocked.is_set():
            self.blocked.set()
            self.release.wait(5)
        with self._lock:
            self.emitted.append((event, namespace, to))
            self.payloads.append((event, namespace, data))

    def sent(self, event: str, namespace: str, room: str) -> int:
        with self._lock:
            return self.emitted.count((event, namespace, room))

    def waiting_sent_to(self, room: str) -> bool:
        with self._lock:
            return ("waiting", "/display", room) in self.emitted

    def wait_for_waiting(self, room: str, timeout_s: float = 3) -> None:
        """Until a waiting count has been sent to `room`, or the time is up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.waiting_sent_to(room):
            time.sleep(0.02)


class NoVoice:
    name = "none"

    def voice_for(self, lang: str) -> str | None:
        return None

    def synthesize(self, text: str, voice: str) -> bytes:
        raise AssertionError("not used")


def test_a_change_queued_while_a_summary_is_due_is_still_sent(
    db: Database, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """West's ticket changes; while the hub is publishing it, East's queue changes. The
    lane then flushes West's summary, and must still send East's: displays do not poll.
    One lane, so that both sites share it, as many sites share each lane of a process."""
    monkeypatch.setattr(realtime, "LANES", 1)
    cat = catalog.current(db)
    east, west = cat.site("thess-east").id, cat.site("thess-west").id
    ticket = transactions.issue_ticket(
        db, site="thess-west", service="general", reason="other", lang="en"
    )
    fake = BlockingSocketIO(block_on="status")
    speech = Speech(NoVoice(), cache_dir=tmp_path)
    hub = Hub(fake, db, speech, LocalSequence())  # type: ignore[arg-type]
    hub.publish(TicketChanged(ticket, west))  # the lane's thread stops inside its status emit
    assert fake.blocked.wait(5)
    hub.publish(QueueChanged(east))  # queued now, run after West's summary has gone out
    fake.release.set()
    fake.wait_for_waiting(site_room(east))
    assert fake.waiting_sent_to(site_room(west))
    assert fake.waiting_sent_to(site_room(east)), "East's waiting count was never sent"


def test_a_site_held_up_does_not_hold_up_another(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """West's publishing is stuck (a slow database or Redis round trip); East's queue
    changes meanwhile and its displays hear of it at once, not after West's."""
    cat = catalog.current(db)
    east, west = cat.site("thess-east").id, cat.site("thess-west").id
    assert east % realtime.LANES != west % realtime.LANES  # the two sites' lanes differ
    ticket = transactions.issue_ticket(
        db, site="thess-west", service="general", reason="other", lang="en"
    )
    fake = BlockingSocketIO(block_on="status")
    hub = Hub(fake, db, Speech(NoVoice(), cache_dir=tmp_path), LocalSequence())  # type: ignore[arg-type]
    try:
        hub.publish(TicketChanged(ticket, west))
        assert fake.blocked.wait(5)
        hub.publish(QueueChanged(east))
        fake.wait_for_waiting(site_room(east))
        assert fake.waiting_sent_to(site_room(east)), "East waited for West"
        assert not fake.waiting_sent_to(site_room(west))  # West's lane is still held
    finally:
        fake.release.set()


def test_phones_are_told_the_queue_moved_only_while_somebody_waits(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A phone refetches its status on `moved` (status/static/status.js): with nobody
    waiting at the site there is no place to refetch, so no phone is sent for one."""
    east = catalog.current(db).site("thess-east").id
    fake = BlockingSocketIO(block_on="nothing")
    hub = Hub(fake, db, Speech(NoVoice(), cache_dir=tmp_path), LocalSequence())  # type: ignore[arg-type]
    hub.publish(QueueChanged(east))  # a shift opened, say: nobody waits
    fake.wait_for_waiting(site_room(east))
    assert fake.sent("moved", "/status", site_room(east)) == 0
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="en")
    hub.publish(QueueChanged(east))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not fake.sent("moved", "/status", site_room(east)):
        time.sleep(0.02)
    assert fake.sent("moved", "/status", site_room(east)) == 1


def test_phones_hear_moved_at_most_every_interval_and_the_last_change_too(
    db: Database, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Every `moved` makes each waiting phone refetch: a site's second change within
    MOVED_INTERVAL_S reaches its counters and displays at once, its phones only when the
    interval is over, but it does reach them."""
    monkeypatch.setattr(realtime, "FLUSH_INTERVAL_S", 0.1)
    monkeypatch.setattr(realtime, "MOVED_INTERVAL_S", 1.5)
    east = catalog.current(db).site("thess-east").id
    room = site_room(east)
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="en")
    fake = BlockingSocketIO(block_on="nothing")
    hub = Hub(fake, db, Speech(NoVoice(), cache_dir=tmp_path), LocalSequence())  # type: ignore[arg-type]

    def until(count: int, event: str, namespace: str) -> float:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and fake.sent(event, namespace, room) < count:
            time.sleep(0.01)
        assert fake.sent(event, namespace, room) == count
        return time.monotonic()

    hub.publish(QueueChanged(east))
    first = until(1, "moved", "/status")  # the first goes at once
    hub.publish(QueueChanged(east))
    until(2, "waiting", "/display")
    assert fake.sent("moved", "/status", room) == 1
    second = until(2, "moved", "/status")
    assert second - first >= 1.4


def test_a_call_and_its_recall_reach_the_display_as_they_were_made(
    db: Database, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A ticket is called and at once recalled while its lane is still busy: the display
    gets the call, then the recall, each with its own event id, however late they go out
    (read back from the database, both would have been the recall)."""
    monkeypatch.setattr(realtime, "LANES", 1)
    east, west = (catalog.current(db).site(s).id for s in ("thess-east", "thess-west"))
    other = transactions.issue_ticket(
        db, site="thess-west", service="general", reason="other", lang="en"
    )
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="en")
    fake = BlockingSocketIO(block_on="status")
    hub = Hub(fake, db, Speech(NoVoice(), cache_dir=tmp_path), LocalSequence())  # type: ignore[arg-type]

    def calls() -> list[dict[str, Any]]:
        return [d for e, ns, d in list(fake.payloads) if ns == "/display" and e != "waiting"]

    hub.publish(TicketChanged(other, west))  # the lane stops inside this status emit
    assert fake.blocked.wait(5)
    called = transactions.call_next(db, site="thess-east", counter="desk-1", user_id=None).ticket
    assert called is not None
    recalled = transactions.act(db, called.id, Action.RECALL, user_id=None)
    hub.publish(Called(called, east))
    hub.publish(Called(recalled, east))
    fake.release.set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(calls()) < 2:
        time.sleep(0.02)
    payloads = calls()
    assert [(p["type"], p["number"]) for p in payloads] == [
        ("called", called.number),
        ("recalled", called.number),
    ]
    assert payloads[0]["id"] < payloads[1]["id"]


def test_a_call_goes_out_between_summaries_not_after_them_all(
    db: Database, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A lane sends the summaries of dozens of sites in a row each second; a call made
    meanwhile goes out before the next of them, not after the last."""
    monkeypatch.setattr(realtime, "LANES", 1)
    cat = catalog.current(db)
    east, west = cat.site("thess-east").id, cat.site("thess-west").id
    transactions.issue_ticket(db, site="thess-east", service="general", reason="other", lang="en")
    called = transactions.call_next(db, site="thess-east", counter="desk-1", user_id=None).ticket
    assert called is not None
    fake = BlockingSocketIO(block_on="nothing yet")
    hub = Hub(fake, db, Speech(NoVoice(), cache_dir=tmp_path), LocalSequence())  # type: ignore[arg-type]
    hub.publish(QueueChanged(east))
    fake.wait_for_waiting(site_room(east))  # the first flush is over: the next is a second away
    fake.block_on = "waiting"
    start = len(fake.emitted)
    hub.publish(QueueChanged(east))
    hub.publish(QueueChanged(west))  # both due: the next flush sends both summaries
    assert fake.blocked.wait(5)  # inside the first of them
    hub.publish(Called(called, east))
    fake.release.set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(fake.emitted) < start + 3:
        time.sleep(0.02)
    time.sleep(0.1)
    order = [e for e, ns, _ in fake.emitted[start:] if ns == "/display"]
    assert order[:3] == ["waiting", "called", "waiting"]
