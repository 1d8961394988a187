"""The hub's own ordering, with a fake Socket.IO object: no news is lost between flushes.

The real-client tests (test_realtime.py) cannot make the hub's thread stop at a chosen
instant; a fake `emit` that blocks can, which is how a change queued just before a queue
summary is sent, and run just after, is made to happen every time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from server import catalog
from server.db import Database
from server.queue import transactions
from server.queue.news import QueueChanged, TicketChanged
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
        self._lock = threading.Lock()

    def emit(self, event: str, data: Any, namespace: str, to: str) -> None:
        if event == self.block_on and not self.blocked.is_set():
            self.blocked.set()
            self.release.wait(5)
        with self._lock:
            self.emitted.append((event, namespace, to))

    def waiting_sent_to(self, room: str) -> bool:
        with self._lock:
            return ("waiting", "/display", room) in self.emitted


class NoVoice:
    name = "none"

    def voice_for(self, lang: str) -> str | None:
        return None

    def synthesize(self, text: str, voice: str) -> bytes:
        raise AssertionError("not used")


def test_a_change_queued_while_a_summary_is_due_is_still_sent(db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """West's ticket changes; while the hub is publishing it, East's queue changes. The
    hub then flushes West's summary, and must still send East's: displays do not poll."""
    cat = catalog.current(db)
    east, west = cat.site("thess-east").id, cat.site("thess-west").id
    ticket = transactions.issue_ticket(
        db, site="thess-west", service="general", reason="other", lang="en"
    )
    fake = BlockingSocketIO(block_on="status")
    speech = Speech(NoVoice(), cache_dir=tmp_path)
    hub = Hub(fake, db, speech, LocalSequence())  # type: ignore[arg-type]
    hub.start()
    hub.publish(TicketChanged(ticket, west))  # the hub thread stops inside its status emit
    assert fake.blocked.wait(5)
    hub.publish(QueueChanged(east))  # queued now, run after West's summary has gone out
    fake.release.set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not fake.waiting_sent_to(site_room(east)):
        time.sleep(0.02)
    assert fake.waiting_sent_to(site_room(west))
    assert fake.waiting_sent_to(site_room(east)), "East's waiting count was never sent"
