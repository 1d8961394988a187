"""Work the server does on its own: SQLite checkpoints, closing the day's tickets, and
anonymising the tickets older than their site's retention limit."""

from __future__ import annotations

import logging
import threading
import time

from . import retention
from .db import Database
from .queue.transactions import close_day

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0
SWEEP_EVERY_S = 60.0
# retention counts in days: a few minutes after a day's end is soon enough, and a backlog
# (a first run on a year of tickets) is worked off a bounded pass at a time
PURGE_EVERY_S = 600.0


def start_housekeeping(
    db: Database,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    sweep_every_s: float = SWEEP_EVERY_S,
    at_closing: bool = True,
    purge_every_s: float = PURGE_EVERY_S,
) -> threading.Event:
    """One background thread: checkpoint the log often, run close_day now and then
    (`at_closing`: also a site's tickets left open an hour after it closed), and the
    retention sweep (`retention.purge`) every `purge_every_s`, first at start.

    Set the returned event to stop it. A failed pass is logged and the next one runs:
    housekeeping must never take the server down.
    """
    stop = threading.Event()

    def run() -> None:
        next_sweep = next_purge = 0.0
        while True:
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + sweep_every_s
                    closed = close_day(db, at_closing=at_closing)
                    if closed:
                        log.info("closed %d tickets left open at the end of a day", closed)
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + purge_every_s
                    for done in retention.purge(db):
                        log.info("anonymised %d tickets at %s", done.tickets, done.site)
                db.checkpoint()
            except Exception:
                log.exception("housekeeping pass failed")
            if stop.wait(checkpoint_every_s):
                return

    threading.Thread(target=run, name="housekeeping", daemon=True).start()
    return stop
