"""Who staffs which counter: opening, pausing, resuming and closing, as append-only events.

A counter's state is its latest `counter_events` row of the local day: `opened` or
`resumed` means available, `paused` means paused, `closed` or nothing today means signed
out. The staffing report counts present counters from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, insert, select

from . import catalog, engine
from .db import Database
from .models import CounterEvent, User, utcnow
from .store import NotFound, counter_info, site_info


class CounterEventType(StrEnum):
    OPENED = "opened"
    PAUSED = "paused"
    RESUMED = "resumed"
    CLOSED = "closed"


class CounterState(StrEnum):
    AVAILABLE = "available"
    PAUSED = "paused"
    SIGNED_OUT = "signed_out"


_STATE_AFTER = {
    CounterEventType.OPENED: CounterState.AVAILABLE,
    CounterEventType.RESUMED: CounterState.AVAILABLE,
    CounterEventType.PAUSED: CounterState.PAUSED,
    CounterEventType.CLOSED: CounterState.SIGNED_OUT,
}


@dataclass(frozen=True)
class Staffing:
    """One counter's state today: who holds it and since when."""

    counter: str
    state: CounterState
    user: str | None
    since: datetime | None


def record(
    db: Database,
    *,
    site: str,
    counter: str,
    event: CounterEventType,
    user_id: int | None,
    now: datetime | None = None,
) -> None:
    """Append one counter event; unknown site or counter raises NotFound."""
    cat = catalog.current(db)
    site_row = site_info(cat, site)
    counter_row = counter_info(cat, site_row, counter)
    with db.transaction() as conn:
        conn.execute(
            insert(CounterEvent).values(
                site_id=site_row.id,
                counter_id=counter_row.id,
                user_id=user_id,
                type=event.value,
                at=now or utcnow(),
            )
        )


def staffing(db: Database, site: str, now: datetime | None = None) -> list[Staffing]:
    """Every active counter of the site with its state today, in the site's order."""
    now = now or utcnow()
    cat = catalog.current(db)
    site_row = cat.site(site)
    if site_row is None:
        raise NotFound(f"no site '{site}'")
    since = engine.day_start_utc(engine.service_day(now, site_row.timezone), site_row.timezone)
    latest = (
        select(func.max(CounterEvent.id))
        .where(CounterEvent.site_id == site_row.id, CounterEvent.at >= since)
        .group_by(CounterEvent.counter_id)
    )
    with db.read() as s:
        rows = s.execute(
            select(CounterEvent.counter_id, CounterEvent.type, CounterEvent.at, User.username)
            .outerjoin(User, User.id == CounterEvent.user_id)
            .where(CounterEvent.id.in_(latest))
        ).all()
    found = {row.counter_id: row for row in rows}
    out = []
    for counter in cat.counters_of(site_row.id):
        row = found.get(counter.id)
        if row is None:
            out.append(Staffing(counter.slug, CounterState.SIGNED_OUT, None, None))
            continue
        state = _STATE_AFTER[CounterEventType(row.type)]
        user = None if state is CounterState.SIGNED_OUT else row.username
        out.append(Staffing(counter.slug, state, user, row.at))
    return out
