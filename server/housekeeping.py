"""Work the server does on its own: closing yesterday's open tickets after midnight."""

from __future__ import annotations

import logging
import threading

from .db import Database
from .store import close_day

log = logging.getLogger(__name__)


def start_day_end_sweeper(db: Database, interval_s: float = 60.0) -> threading.Event:
    """Run close_day now and every `interval_s`; set the returned event to stop."""
    stop = threading.Event()

    def run() -> None:
        while True:
            try:
                closed = close_day(db)
                if closed:
                    log.info("closed %d tickets left open from an earlier day", closed)
            except Exception:  # keep sweeping: one failed pass must not end the thread
                log.exception("day-end sweep failed")
            if stop.wait(interval_s):
                return

    threading.Thread(target=run, name="day-end-sweeper", daemon=True).start()
    return stop
