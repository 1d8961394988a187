"""Work the server does on its own: SQLite checkpoints, closing the day's tickets, and
anonymising the tickets older than their site's retention limit.

Every server process (each worker of `seira serve --workers N`, each host on one
PostgreSQL) runs this thread, but the jobs that act on the whole database, the day-end
sweep (close_day) and the retention sweep (retention.purge), run in one process only:
the one that holds the leader lock (server/leader.py). The others try to take it at each
pass, so when the leader dies one of them takes over within a pass, and runs both sweeps
at once, since the old leader may have died halfway through one.

The SQLite checkpoint runs in the process that leads too: it copies the log into the
database for everyone, and each one pauses writers for a moment, so one a pass is enough.
A process that cannot even try to lead (a lock file that cannot be made) checkpoints all
the same: with the log's automatic checkpoints off in a server, nobody folding it in would
let it grow without end.

Print jobs are per process, but their rows are not (server/print_jobs.py): every pass
renews this process's, and the process that leads takes over those nobody renews any
more. The realtime hub and the caches are per process by nature and are not
housekeeping's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from . import retention
from .db import Database
from .leader import Leadership
from .printing import Printing
from .queue.transactions import close_day

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0  # also how often a process that does not lead tries to take over
SWEEP_EVERY_S = 60.0
# retention counts in days: a few minutes after a day's end is soon enough, and a backlog
# (a first run on a year of tickets) is worked off a bounded pass at a time
PURGE_EVERY_S = 600.0
SWEEP_ENV = "SEIRA_SWEEP_EVERY_S"


def sweep_intervals(environ: Mapping[str, str] = os.environ) -> tuple[float, float]:
    """(day-end sweep, retention sweep) in seconds: SWEEP_EVERY_S and PURGE_EVERY_S, or
    both `SEIRA_SWEEP_EVERY_S` where it is set, for tests and for seeing a sweep happen
    without waiting ten minutes. A value that is not a positive number is refused."""
    value = environ.get(SWEEP_ENV)
    if not value:
        return SWEEP_EVERY_S, PURGE_EVERY_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{SWEEP_ENV} must be a number of seconds above 0, not {value!r}")
    return seconds, seconds


def start_housekeeping(
    db: Database,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    sweep_every_s: float = SWEEP_EVERY_S,
    at_closing: bool = True,
    purge_every_s: float = PURGE_EVERY_S,
    printing: Printing | None = None,
) -> threading.Event:
    """One background thread: in the process that leads (`Leadership`, tried at each pass),
    checkpoint the log at each pass, run close_day now and then (`at_closing`: also a
    site's tickets left open an hour after it closed), and the retention sweep
    (`retention.purge`) every `purge_every_s`; both first as soon as it leads. With
    `printing`, renew its jobs at each pass and, leading, take over abandoned ones.

    Set the returned event to stop it (and let the lead go). A failed pass is logged and
    the next one runs: housekeeping must never take the server down.
    """
    stop = threading.Event()
    leadership = Leadership(db)

    def run() -> None:
        next_sweep = next_purge = 0.0
        while True:
            try:
                if printing is not None:
                    printing.renew()
                was_leading = leadership.leading
                leading = leadership.try_lead()
                if leading:
                    if printing is not None:
                        printing.take_over()
                    if not was_leading:  # taken over: catch up with what may be due
                        next_sweep = next_purge = 0.0
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + sweep_every_s
                        closed = close_day(db, at_closing=at_closing)
                        if closed:
                            log.info("closed %d tickets left open at the end of a day", closed)
                    if time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + purge_every_s
                        for done in retention.purge(db):
                            log.info("anonymised %d tickets at %s", done.tickets, done.site)
                if leading or leadership.failing:
                    db.checkpoint()
            except Exception:
                log.exception("housekeeping pass failed")
            if stop.wait(checkpoint_every_s):
                leadership.release()
                return

    threading.Thread(target=run, name="housekeeping", daemon=True).start()
    return stop
