"""Print jobs kept in the database until their outcome is logged, so that the tickets of a
server process that dies (a crash, a power cut, a restart in a rolling upgrade) are
printed by another process instead of being lost with its memory.

A job's row is written as the ticket is issued, before any thread renders it. The process
holding it renews `seen_at` at every housekeeping pass (about once a second), and deletes
the row in the transaction that logs the job's outcome. A row nobody renewed for
`STALE_S` belongs to a process that died or hangs: the process that leads
(server/leader.py) takes it over (`take`), or, when the ticket is too old to print now or
may already be on paper, logs how it ended (`give_up`).

Never printed twice: a process sends a job's bytes only once it has moved the row from
"queued" to "sending" under its own name, in one conditional UPDATE (`claim`). Taking a
row over renames it first, and only while it is still queued and still unrenewed; so the
old process, if it was only slow, finds the row no longer its own and sends nothing. A row
found "sending" may have printed: it is never sent again, only logged for staff to judge.

Rows are compared by their `seen_at`, written by each host's clock: hosts serving one
database keep their clocks in step (NTP), as the event log's times need anyway.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from .db import Database
from .models import PendingPrint, utcnow

# seconds without renewal after which a job's process is taken to be dead: several
# housekeeping passes, so that a pass slowed by a busy disk does not hand a job over
STALE_S = 5.0
# a job taken over is printed only if its ticket was issued this recently: the kiosk
# waits ten seconds for the paper, then asks the visitor to photograph the screen; a
# ticket printed much later would be picked up by the next person at the kiosk
PRINT_WITHIN_S = 20.0

QUEUED, SENDING = "queued", "sending"


def this_process() -> str:
    """The name a job's row gives its holder: host and process id, read at each call, so
    that a worker forked from a parent has a name of its own."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Abandoned:
    """A job whose holder stopped renewing it."""

    id: int
    ticket_id: int
    device_id: int
    status_url: str
    owner: str
    state: str
    queued_at: datetime

    def printable(self, now: datetime) -> bool:
        """Nothing of it has been sent, and the visitor may still be at the kiosk."""
        return self.state == QUEUED and now - self.queued_at <= timedelta(seconds=PRINT_WITHIN_S)


def add(db: Database, ticket_id: int, device_id: int, status_url: str) -> int:
    """A new job, held by this process; its id."""
    now = utcnow()
    with db.transaction() as conn:
        return int(
            conn.execute(
                insert(PendingPrint).values(
                    ticket_id=ticket_id,
                    device_id=device_id,
                    status_url=status_url,
                    owner=this_process(),
                    state=QUEUED,
                    queued_at=now,
                    seen_at=now,
                )
            ).inserted_primary_key[0]
        )


def claim(db: Database, job_id: int) -> bool:
    """Whether this process may send the job now; once True, nobody else ever may."""
    with db.transaction() as conn:
        done = conn.execute(
            update(PendingPrint)
            .where(
                PendingPrint.id == job_id,
                PendingPrint.owner == this_process(),
                PendingPrint.state == QUEUED,
            )
            .values(state=SENDING, seen_at=utcnow())
        )
    return done.rowcount == 1


def renew(db: Database, job_ids: set[int]) -> None:
    """Say that this process still holds these jobs."""
    if not job_ids:
        return
    with db.transaction() as conn:
        conn.execute(
            update(PendingPrint)
            .where(PendingPrint.id.in_(sorted(job_ids)), PendingPrint.owner == this_process())
            .values(seen_at=utcnow())
        )


def finish(conn: Connection, job_id: int) -> None:
    """Forget the job: called in the transaction that logs its outcome."""
    conn.execute(
        delete(PendingPrint).where(PendingPrint.id == job_id, PendingPrint.owner == this_process())
    )


def abandoned(db: Database, now: datetime) -> list[Abandoned]:
    """The jobs nobody has renewed for STALE_S, oldest first."""
    cutoff = now - timedelta(seconds=STALE_S)
    with db.read() as s:
        rows = s.execute(
            select(
                PendingPrint.id,
                PendingPrint.ticket_id,
                PendingPrint.device_id,
                PendingPrint.status_url,
                PendingPrint.owner,
                PendingPrint.state,
                PendingPrint.queued_at,
            )
            .where(PendingPrint.seen_at < cutoff)
            .order_by(PendingPrint.id)
        ).all()
    return [Abandoned(*row) for row in rows]


def take(db: Database, job: Abandoned, now: datetime) -> bool:
    """Make an abandoned, unsent job this process's; False if its holder came back to
    life (renewed or claimed it) or another process took it first."""
    with db.transaction() as conn:
        done = conn.execute(
            update(PendingPrint)
            .where(*_still_abandoned(job, now), PendingPrint.state == QUEUED)
            .values(owner=this_process(), seen_at=now)
        )
    return done.rowcount == 1


def give_up(conn: Connection, job: Abandoned, now: datetime) -> bool:
    """Delete an abandoned job, in the transaction that logs how it ended; False (and the
    caller logs nothing) if its holder came back to life or another process did it."""
    done = conn.execute(delete(PendingPrint).where(*_still_abandoned(job, now)))
    return done.rowcount == 1


def _still_abandoned(job: Abandoned, now: datetime) -> tuple:
    return (
        PendingPrint.id == job.id,
        PendingPrint.owner == job.owner,
        PendingPrint.seen_at < now - timedelta(seconds=STALE_S),
    )
