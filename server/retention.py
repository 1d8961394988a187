"""Retention: after a site's `retention_days`, a ticket keeps only what the reports need.

A ticket older than its site's limit is anonymised, and so is each of its events:

- dropped: the public token (its status link), the number the visitor held, the staff
  member on each event, and any free text (a printer's error message);
- moved: every time of the ticket and its events, by one and the same whole number of
  seconds (and without its fraction of a second), so that it was issued at the start of
  its local hour. The day and the hour of arrival stay what they were, in the site's own
  time zone, and so do the waits and service times to the second;
- kept: the day, service, reason, language, priority, status, outcome and referral
  codes, the counter and the kiosk (desks and machines, not people).

So every report of any period adds up exactly as before, and no row says any longer who
held which number, when exactly they came, or who served them. `0` days keeps only that
from the day after: once a day is over, its tickets are anonymised.

The sweep (`purge`) runs in the server's housekeeping thread and as `seira purge`; one
ticket is anonymised on a visitor's request from the admin area (`erase`). Each leaves an
audit entry with how many tickets, never which.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select, update

from . import audit
from .db import Database
from .models import Event, Site, Ticket, utcnow
from .queue.rules import OPEN_STATUSES, format_number, service_day
from .queue.transactions import close_day

T = Ticket.__table__
E = Event.__table__

# the codes an event's payload may keep; anything else (free text) goes
KEPT_PAYLOAD = frozenset(
    {"reason", "lang", "priority", "outcome", "referral", "why", "from_service", "to_service"}
    | {"device"}
)
BATCH = 250  # tickets per transaction: the write lock is held some milliseconds at a time
PASS_LIMIT = 5_000  # tickets per sweep at most; a backlog is worked off over several sweeps
SWEEPER = audit.Actor("retention")
NUMBER = re.compile(r"^([A-Z])0*(\d{1,6})$")


def hour_start(moment: datetime, timezone: str) -> datetime:
    """The start of `moment`'s local hour, in UTC: its local day and hour are unchanged
    (also across a DST change, and in zones whose offset is not whole hours)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def cutoff(now: datetime, timezone: str, days: int) -> date:
    """The first local day still kept whole: tickets of earlier days are anonymised."""
    return service_day(now, timezone) - timedelta(days=days)


TIMES = ("issued_at", "queued_at", "called_at", "started_at", "ended_at")


def _second(moment: datetime) -> datetime:
    """A time without its fraction of a second: a fraction shared with another row (a
    counter's shift is written with the same instant as the call it implies) would
    link the moved time back to the real one. Moving whole seconds then keeps every
    duration the reports compute (whole seconds too) exactly as it was."""
    return moment.replace(microsecond=0)


def anonymise(conn: Connection, ticket_ids: Sequence[int], timezone: str) -> int:
    """Anonymise these tickets of one site and their events, inside the caller's write
    transaction; returns how many were anonymised (open or done already: left alone).

    Two at once anonymise each ticket once: on SQLite the second transaction starts after
    the first committed; on PostgreSQL the tickets are locked as they are read (FOR
    UPDATE, in id order), so the second waits, then finds them anonymised and leaves them
    (and their events, which the log would refuse to rewrite) alone.
    """
    tickets = conn.execute(
        select(T.c.id, *(T.c[c] for c in TIMES))
        .where(
            T.c.id.in_(ticket_ids),
            T.c.anonymised.is_(False),
            T.c.status.not_in(sorted(OPEN_STATUSES)),
        )
        .order_by(T.c.id)
        .with_for_update()
    ).all()
    if not tickets:
        return 0
    shifts = {t.id: _second(t.issued_at) - hour_start(t.issued_at, timezone) for t in tickets}
    conn.execute(
        update(T)
        .where(T.c.id == bindparam("t_id"))
        .values(
            number=None,
            code=None,
            public_token=None,
            anonymised=True,
            **{c: bindparam(f"t_{c}") for c in TIMES},
        ),
        [
            {
                "t_id": t.id,
                **{
                    f"t_{c}": None if t[i + 1] is None else _second(t[i + 1]) - shifts[t.id]
                    for i, c in enumerate(TIMES)
                },
            }
            for t in tickets
        ],
    )
    events = conn.execute(
        select(E.c.id, E.c.ticket_id, E.c.at, E.c.payload).where(E.c.ticket_id.in_(list(shifts)))
    ).all()
    if events:
        conn.execute(
            update(E)
            .where(E.c.id == bindparam("e_id"))
            .values(
                at=bindparam("e_at"), payload=bindparam("e_payload"), user_id=None, anonymised=True
            ),
            [
                {
                    "e_id": e.id,
                    "e_at": _second(e.at) - shifts[e.ticket_id],
                    "e_payload": {k: v for k, v in (e.payload or {}).items() if k in KEPT_PAYLOAD},
                }
                for e in events
            ],
        )
    return len(tickets)


# --- the sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    """What one sweep did at one site: tickets of days before `before` were anonymised."""

    site: str
    retention_days: int
    before: date
    tickets: int


def _due(conn: Connection, site_id: int, before: date, limit: int) -> list[int]:
    return list(
        conn.execute(
            select(T.c.id)
            .where(
                T.c.site_id == site_id,
                T.c.anonymised.is_(False),
                T.c.service_day < before,
                T.c.status.not_in(sorted(OPEN_STATUSES)),
            )
            .order_by(T.c.id)
            .limit(limit)
        ).scalars()
    )


def purge(
    db: Database,
    now: datetime | None = None,
    actor: audit.Actor = SWEEPER,
    limit: int = PASS_LIMIT,
) -> list[Purged]:
    """Anonymise every site's tickets older than its retention limit; what was done per site.

    Tickets still open from an earlier day are closed first (as the server does at each
    day's end), so that none stays whole for want of an ending. At most `limit` tickets
    are anonymised per call, a batch per transaction with its own audit entry (the log
    never tells of a change that did not happen), other writers going in between.

    Safe to run twice at once (the server runs it in the process that leads, see
    server/leader.py, and `seira purge` may run beside it): close_day and `anonymise`
    do each ticket once, and a batch another sweep did first changes nothing and leaves
    no audit entry, so the entries still add up to the tickets anonymised.
    """
    now = now or utcnow()
    close_day(db, now)
    with db.connect() as conn:
        sites = conn.execute(
            select(Site.id, Site.slug, Site.timezone, Site.retention_days).order_by(Site.slug)
        ).all()
    done = []
    for site_id, slug, timezone, days in sites:
        before = cutoff(now, timezone, days)
        with db.connect() as conn:
            due = _due(conn, site_id, before, limit)
        count = 0
        for start in range(0, len(due), BATCH):
            with db.write() as s:
                n = anonymise(s.connection(), due[start : start + BATCH], timezone)
                if n:  # none: another sweep did them since `due` was read
                    after = {"tickets": n, "days_kept": days, "before": before.isoformat()}
                    audit.record(
                        s, actor, "tickets.anonymised", f"{slug}/tickets", None, after, site_id
                    )
            count += n
            time.sleep(0)  # under the server's event loop: let requests run between batches
        if count:
            done.append(Purged(slug, days, before, count))
    return done


# --- one ticket, on request ------------------------------------------------------------------


class EraseError(ValueError):
    """Why a ticket cannot be erased: `code` is "not_found" (not at this site, or already
    anonymised) or "open" (still in the queue)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_number(text: str) -> tuple[str, int] | None:
    """'A023', 'a23' or ' A 023 ' -> ('A', 23): the letter and number the ticket shows."""
    found = NUMBER.match(re.sub(r"\s+", "", text or "").upper())
    return (found.group(1), int(found.group(2))) if found else None


def find(db: Database, site_id: int, prefix: str, number: int, day: date) -> list[dict[str, Any]]:
    """The tickets of the site and day that hold this number (one, unless a service was
    replaced that day by another with the same letter), not yet anonymised."""
    with db.connect() as conn:
        rows = conn.execute(
            select(T)
            .where(
                T.c.site_id == site_id,
                T.c.service_day == day,
                T.c.number == number,
                T.c.code == format_number(prefix, number),
                T.c.anonymised.is_(False),
            )
            .order_by(T.c.id)
        ).mappings()
        return [dict(r) for r in rows]


def erase(db: Database, actor: audit.Actor, site_id: int, ticket_id: int) -> None:
    """Anonymise one ticket of the site at once, as the retention sweep would; EraseError
    if it is not there (another site's, already anonymised) or still in the queue."""
    with db.write() as s:
        conn = s.connection()
        row = conn.execute(
            select(T.c.status, T.c.anonymised, Site.slug, Site.timezone)
            .join(Site, Site.id == T.c.site_id)
            .where(T.c.id == ticket_id, T.c.site_id == site_id)
        ).first()
        if row is None or row.anonymised:
            raise EraseError("not_found", f"no ticket {ticket_id} to erase at this site")
        if row.status in OPEN_STATUSES:
            raise EraseError("open", f"ticket {ticket_id} is still in the queue")
        anonymise(conn, [ticket_id], row.timezone)
        after = {"tickets": 1}
        audit.record(s, actor, "ticket.erased", f"{row.slug}/tickets", None, after, site_id)
